"""Narration: the trace told as it happens, plus the scenario's own explanations.

A :class:`Narrator` subscribes to a simulation's trace and prints one line per event (virtual
time, lifecycle step, ``caller -> callee``, operation, key, outcome) with the encryption context
on a second line. The first time a lifecycle step appears it prints a one-line explanation of
the step, and the first time an error code appears it explains what that error means, so a run
teaches on its own. Scenarios add their own lines with :meth:`Narrator.say` and friends.

Output is plain ASCII when colour is off (``NO_COLOR``, ``--no-color`` or not a terminal) and
ANSI-coloured otherwise; the words are the same either way.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any, TextIO, TypeVar

from ..errors import AwsError
from ..redact import redact
from ..trace import Trace, TraceEvent
from .participants import (
    CONTEXT_FIELDS,
    KEY_FIELDS,
    callee_of,
    caller_of,
    context_of,
    error_code_of,
    is_echo,
    principal_of,
    short_id,
)
from .progress import Progress
from .style import Style, is_tty, want_color

__all__ = ["ERROR_TEXT", "STEP_TEXT", "Narrator", "format_context"]

T = TypeVar("T")

#: One line per lifecycle step of the encrypted launch (seed numbering).
STEP_TEXT: dict[int, str] = {
    1: "WorkSpaces creates a KMS grant that lets it use the key only for this WorkSpace "
       "(this user in this directory).",
    2: "WorkSpaces asks EBS for an encrypted volume; EBS gets its own, narrower grant: "
       "this WorkSpace and this volume only.",
    3: "EBS asks KMS for a new data key (64 bytes: AES-256-XTS needs two 256-bit keys), "
       "bound to an encryption context naming user@directory and the volume.",
    4: "KMS makes the data key, encrypts it under the KMS key with the context as "
       "authenticated data, and returns only the encrypted copy.",
    5: "At attach, EBS sends the encrypted data key back to KMS with the same context and "
       "asks for the plaintext.",
    6: "KMS checks the key's state, the grant and the context, then returns the plaintext "
       "data key to EBS.",
    7: "EBS encrypts every block with the data key, which it holds in memory only while the "
       "volume is attached.",
    8: "EBS keeps the encrypted data key in the volume's metadata, so reboot and rebuild can "
       "ask KMS for it again.",
    9: "On terminate, WorkSpaces and EBS retire their grants: the key can no longer be used "
       "for this WorkSpace.",
}

#: What an AWS error means in this story, said the first time it appears in a run.
ERROR_TEXT: dict[str, str] = {
    "AccessDeniedException": "No key-policy statement, IAM policy or grant allows this caller "
                             "to do this (grants and policies only ever allow).",
    "DisabledException": "The KMS key is disabled: KMS will not decrypt data keys under it "
                         "until it is enabled again.",
    "KMSInvalidStateException": "The key is in a state (such as PendingDeletion) that refuses "
                                "this operation.",
    "NotFoundException": "KMS has no such key (or it was deleted): whatever it protected "
                         "cannot be decrypted any more.",
    "InvalidCiphertextException": "The ciphertext, or the encryption context sent with it, "
                                  "is not what the data key was encrypted with.",
    "IncorrectKeyException": "The ciphertext was encrypted under a different KMS key.",
    "KMSInternalException": "A transient KMS failure: the caller retries with backoff.",
    "DependencyTimeoutException": "KMS timed out on a dependency: transient, retried.",
    "InvalidBlockCiphertext": "A stored block failed authentication: it was changed on disk.",
    "OperationNotSupportedException": "WorkSpaces refuses this operation for this WorkSpace.",
    "InvalidResourceStateException": "The WorkSpace is not in a state that allows this.",
}

_SKIP_FIELDS = frozenset({*KEY_FIELDS, *CONTEXT_FIELDS, "to", "service", "callee", "caller",
                          "invoked_by", "phase", "error_code", "error", "error_message",
                          "message"})


def format_context(context: Mapping[str, Any]) -> str:
    """``{"a": "b", "c": "d"}`` -> ``a=b, c=d`` (context values are not secret)."""
    return ", ".join(f"{k}={v}" for k, v in context.items())


class Narrator:
    """Prints a run as it happens and the scenario's explanations; the ``out`` of scenarios.

    ``stream`` defaults to stdout; ``color=None`` decides from the stream and ``NO_COLOR``.
    ``transcript`` keeps every line written, without colour codes.
    """

    def __init__(
        self, stream: TextIO | None = None, *, color: bool | None = None,
        explain: bool = True,
    ) -> None:
        self.stream: TextIO = stream if stream is not None else sys.stdout
        self.style = Style(want_color(self.stream) if color is None else color)
        self.explain_steps = explain
        self.transcript: list[str] = []
        self.events_seen = 0
        self._muted = 0
        self._explained_steps: set[int] = set()
        self._explained_errors: set[str] = set()
        self._last_date: date | None = None
        self._previous: TraceEvent | None = None
        self._detach: list[Callable[[], None]] = []

    @classmethod
    def silent(cls) -> Narrator:
        """A narrator writing to memory only (for tests and library use)."""
        return cls(io.StringIO(), color=False)

    # -- wiring ----------------------------------------------------------------------------

    def attach(self, trace: Trace) -> Callable[[], None]:
        """Narrate every new event of ``trace``; returns a function that stops it."""
        unsubscribe = trace.subscribe(self.on_event)
        self._detach.append(unsubscribe)
        return unsubscribe

    def detach(self) -> None:
        """Stop narrating every trace this narrator is attached to."""
        while self._detach:
            self._detach.pop()()

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Inside, trace events are counted but not printed (use for fleets)."""
        self._muted += 1
        try:
            yield
        finally:
            self._muted -= 1

    # -- scenario lines --------------------------------------------------------------------

    def _write(self, styled: str, plain: str) -> None:
        self.transcript.extend(plain.split("\n"))
        self.stream.write(styled + "\n")

    def title(self, text: str) -> None:
        """The scenario's title, underlined."""
        rule = "=" * len(text)
        self._write(self.style.bold(text) + "\n" + self.style.dim(rule), text + "\n" + rule)

    def section(self, text: str) -> None:
        """A new part of the story."""
        self._write("\n" + self.style.bold("## " + text), "\n## " + text)

    def say(self, text: str) -> None:
        """An explanatory line."""
        self._write(text, text)

    def note(self, text: str) -> None:
        """A side remark, indented."""
        line = "   " + text
        self._write(self.style.dim(line), line)

    def ok(self, text: str) -> None:
        """Something that worked, marked ``[ok]``."""
        self._write("   " + self.style.good("[ok]") + " " + text, "   [ok] " + text)

    def fail(self, text: str) -> None:
        """Something that failed (as the story expects or not), marked ``[FAILED]``."""
        self._write("   " + self.style.bad("[FAILED]") + " " + text, "   [FAILED] " + text)

    def refused(self, text: str) -> None:
        """A call AWS refused (expected or not), marked ``[error]``."""
        self._write("   " + self.style.warn("[error]") + " " + text, "   [error] " + text)

    def outcome(self, label: str, value: object) -> None:
        """A result worth remembering: ``=> label: value``."""
        text = f"=> {label}: {value}"
        self._write("   " + self.style.bold(text), "   " + text)

    def check(self, label: str, passed: bool) -> None:
        """A claim the scenario verified, ``[ok]`` or ``[FAILED]``."""
        (self.ok if passed else self.fail)(label)

    def attempt(self, label: str, fn: Callable[[], T]) -> T | AwsError:
        """Run ``fn``; on an AWS error narrate it and return the exception instead of raising."""
        self.say(label)
        try:
            value = fn()
        except AwsError as exc:
            self.refused(str(exc))
            self._explain_error(exc.code)
            return exc
        self.ok("succeeded")
        return value

    def table(self, text: str) -> None:
        """A preformatted block (tables), written as is."""
        self._write(text.rstrip("\n"), _strip_ansi(text.rstrip("\n")))

    def progress(self, total: int, label: str) -> Progress:
        """A progress display for ``total`` units of work (updated in place on a terminal)."""
        return Progress(self.stream, total, label, tty=is_tty(self.stream), style=self.style,
                        transcript=self.transcript)

    # -- trace events ----------------------------------------------------------------------

    def on_event(self, event: TraceEvent) -> None:
        """Trace listener: print the event (unless quiet)."""
        self.events_seen += 1
        previous, self._previous = self._previous, event
        if self._muted or is_echo(previous, event):
            return
        day = event.time.date()
        if day != self._last_date:
            self._last_date = day
            stamp = event.time.strftime("%Y-%m-%d")
            self._write(self.style.dim(f"-- virtual time, {stamp} (UTC) --"),
                        f"-- virtual time, {stamp} (UTC) --")
        if (self.explain_steps and event.step is not None
                and event.step not in self._explained_steps and event.step in STEP_TEXT):
            self._explained_steps.add(event.step)
            text = f"Step {event.step}: {STEP_TEXT[event.step]}"
            self._write(self.style.step(text), text)
        styled, plain = self.format_event(event)
        self._write(styled, plain)
        if event.outcome != "ok":
            code = error_code_of(event)
            if code:
                self._explain_error(code)

    def _explain_error(self, code: str) -> None:
        if code in self._explained_errors or code not in ERROR_TEXT:
            return
        self._explained_errors.add(code)
        self.note(f"({code}: {ERROR_TEXT[code]})")

    def format_event(self, event: TraceEvent) -> tuple[str, str]:
        """The event as (coloured, plain) text: a main line and optional context line."""
        s = self.style
        clock = event.time.strftime("%H:%M:%S")
        step = f"Step {event.step}" if event.step is not None else ""
        caller, callee = caller_of(event), callee_of(event)
        who = caller if callee == caller else f"{caller} -> {callee}"
        parts = [f"{clock}  {step:<7} {who:<20} {event.action}"]
        styled = [f"{s.dim(clock)}  {s.step(f'{step:<7}')} {s.actor(f'{who:<20}')} "
                  f"{s.action(event.action)}"]
        extras = _describe_detail(event)
        if extras:
            parts.append(extras)
            styled.append(extras)
        if event.workspace_id:
            parts.append(f"[{event.workspace_id}]")
            styled.append(s.dim(f"[{event.workspace_id}]"))
        if event.outcome == "ok":
            parts.append("ok")
            styled.append(s.good("ok"))
        else:
            failure = _failure_text(event)
            parts.append(f"FAILED {failure}")
            styled.append(s.bad(f"FAILED {failure}"))
        plain_line, styled_line = "  ".join(parts), "  ".join(styled)
        context = context_of(event)
        if context is not None:
            ctx = " " * 19 + "context: {" + format_context(context) + "}"
            plain_line += "\n" + ctx
            styled_line += "\n" + s.dim(ctx)
        return styled_line, plain_line


def _failure_text(event: TraceEvent) -> str:
    code = error_code_of(event) or event.outcome
    for name in ("error_message", "error", "message"):
        message = event.detail.get(name)
        if isinstance(message, str) and message and message != code:
            return f"{code}: {message}"
    return code


def _describe_detail(event: TraceEvent) -> str:
    bits: list[str] = []
    principal = principal_of(event)
    if principal is not None:
        bits.append(f"as {principal}")
    if event.target and event.target not in ("-", event.workspace_id):
        bits.append(short_id(event.target))
    for name in KEY_FIELDS:
        value = event.detail.get(name)
        if isinstance(value, str) and value and value != event.target:
            bits.append(short_id(value))
            break
    for name, value in event.detail.items():
        if name in _SKIP_FIELDS or value is None or value == "" or value == [] or value == {}:
            continue
        bits.append(f"{_SHORT_NAMES.get(name, name)}={_short_value(value)}")
    return " ".join(bits)


#: Shorter names for long detail fields, so an event fits on a line.
_SHORT_NAMES = {
    "encryption_context_subset": "subset",
    "encryption_context_equals": "equals",
    "root_volume_encryption_enabled": "root_encrypted",
    "user_volume_encryption_enabled": "user_encrypted",
    "volume_encryption_key": "key",
    "retiring_principal": "retiring",
    "grantee_principal": "grantee",
}


def _short_value(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return str(redact(value))  # never print key material, even from a hand-made event
    if isinstance(value, str):
        return short_id(value)
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return ",".join(_short_value(v) for v in value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_SHORT_NAMES.get(str(k), k)}={_short_value(v)}"
                               for k, v in value.items()) + "}"
    return str(value)


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
