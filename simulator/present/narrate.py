"""Narration: the trace told as it happens, plus the scenario's own explanations.

A :class:`Narrator` subscribes to a simulation's trace and prints one line per call, reply or
piece of a service's own work (virtual time, lifecycle step, ``caller -> callee``, operation,
key, outcome), read by :class:`~simulator.present.participants.Conversation` like the diagrams.
It explains each thing once, the first time it appears: a lifecycle step, a step out of the
guide's order, an error (by what was refused), a WorkSpace state, an unusual field, what
``as <principal>`` means. An encryption context is printed in full once and then referred to
as ``ctx #n``.

A scenario may keep episodes an earlier scenario already showed call by call (a launch, a
reboot...) to one line each with :meth:`Narrator.brief`; ``verbose=True`` (``--verbose``) prints
everything in full regardless.

Output is plain ASCII when colour is off (``NO_COLOR``, ``--no-color`` or not a terminal) and
ANSI-coloured otherwise; the words are the same either way.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any, TextIO, TypeVar

from ..errors import AwsError, ValidationException
from ..redact import redact
from ..trace import Trace, TraceEvent
from .episodes import EPISODE_KINDS, Episode, episode_start
from .lessons import (
    ERROR_TEXT,
    FIELD_TEXT,
    ORDER_TEXT,
    STATE_TEXT,
    STEP_TEXT,
    as_text,
    error_lesson,
)
from .participants import (
    CONTEXT_FIELDS,
    KEY_FIELDS,
    Conversation,
    Line,
    context_of,
    error_code_of,
    participant_of,
    principal_of,
    short_id,
)
from .progress import Progress
from .style import Style, is_tty, want_color

__all__ = ["ERROR_TEXT", "STEP_TEXT", "Narrator", "format_context"]

T = TypeVar("T")

_SKIP_FIELDS = frozenset({*KEY_FIELDS, *CONTEXT_FIELDS, "to", "service", "callee", "caller",
                          "invoked_by", "phase", "error_code", "error", "error_message",
                          "message", "cause", "via"})
#: Fields holding an encryption context (or a grant constraint's pairs), shown as ``ctx #n``.
_CONTEXT_VALUED = frozenset({"encryption_context_subset", "encryption_context_equals",
                             "source_encryption_context", "destination_encryption_context"})
#: Fields of KMS's record that belong to its answer (the reply line), not to the request.
_REPLY_FIELDS = frozenset({"data_key_bytes", "key_material_id"})
#: A service's routine bookkeeping, shown only with ``verbose``: state changes that went as
#: planned, a fault being armed (its firing is shown), EBS's note of a fault it suffered
#: (the fault's own line says it).
_ROUTINE = {"VolumeStateChange": "available", "SnapshotStateChange": "completed"}
_ROUTINE_ACTIONS = frozenset({"Armed", "ArmError", "FaultFlipBlockBit", "FaultFlipDataKeyBit"})
#: Lines whose outcome names what caused them rather than a failure of their own.
_CAUSED_BY = frozenset({"RetryKmsCall", "InjectError"})
#: Always worth a full line, even inside a brief episode.
_NOTABLE_ACTIONS = frozenset({"CreateKey", "RetryKmsCall"})


def format_context(context: Mapping[str, Any]) -> str:
    """``{"a": "b", "c": "d"}`` -> ``a=b, c=d`` (context values are not secret)."""
    return ", ".join(f"{k}={v}" for k, v in context.items())


class Narrator:
    """Prints a run as it happens and the scenario's explanations; the ``out`` of scenarios.

    ``stream`` defaults to stdout; ``color=None`` decides from the stream and ``NO_COLOR``.
    ``transcript`` keeps every line written, without colour codes. ``verbose`` prints every
    call, even of episodes a scenario asked to keep brief, and services' routine bookkeeping.
    """

    def __init__(
        self, stream: TextIO | None = None, *, color: bool | None = None,
        explain: bool = True, verbose: bool = False,
    ) -> None:
        self.stream: TextIO = stream if stream is not None else sys.stdout
        self.style = Style(want_color(self.stream) if color is None else color)
        self.explain_steps = explain
        self.verbose = verbose
        self.transcript: list[str] = []
        self.events_seen = 0
        self._muted = 0
        self._explained: set[str] = set()
        self._contexts: dict[frozenset[tuple[str, Any]], int] = {}
        self._brief: set[str] = set()
        self._episodes: dict[str, Episode] = {}
        self._highest_step: dict[str | None, int] = {}
        self._last_failure = ""
        self._quiet_snapshots: list[str] = []
        self._quiet_deleted: set[str] = set()
        self._last_date: date | None = None
        self._conversation = Conversation()
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
        self._flush_episodes()
        while self._detach:
            self._detach.pop()()

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Inside, trace events are counted but not printed (use for fleets and long waits).

        Snapshots taken meanwhile are still named at the end (one line), so that a later
        rebuild or terminate never uses a snapshot the reader has not seen made.
        """
        self._muted += 1
        try:
            yield
        finally:
            self._muted -= 1
            if not self._muted:
                self._report_quiet_snapshots()

    def _report_quiet_snapshots(self) -> None:
        made, self._quiet_snapshots = self._quiet_snapshots, []
        if not made:
            return
        kept = [s for s in made if s not in self._quiet_deleted]
        self._quiet_deleted = set()
        if self.verbose or len(made) == len(kept):
            self.note(f"(meanwhile WorkSpaces snapshotted user volumes: {', '.join(made)})")
        else:
            self.note(f"(meanwhile WorkSpaces took {len(made)} snapshots of user volumes, "
                      f"every 12 hours, and deleted all but the latest: {', '.join(kept)})")

    def brief(self, *kinds: str) -> None:
        """Tell the episodes of these kinds (``"launch"``, ``"reboot"``, ``"rebuild"``,
        ``"terminate"``) in one line each, unless ``verbose``; ``"cast"`` also asks for the
        short form of the scenario's set-up (see :func:`~simulator.present.world.build_world`).
        """
        unknown = set(kinds) - set(EPISODE_KINDS) - {"cast"}
        if unknown:
            raise ValidationException(f"unknown episode kinds {sorted(unknown)}; expected "
                                      f"{sorted({*EPISODE_KINDS, 'cast'})}")
        if not self.verbose:
            self._brief.update(kinds)

    def is_brief(self, kind: str) -> bool:
        """True when ``kind`` is told in short form in this run."""
        return kind in self._brief

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
        self._flush_episodes()
        self._write("\n" + self.style.bold("## " + text), "\n## " + text)

    def say(self, text: str) -> None:
        """An explanatory line."""
        self._write(text, text)

    def note(self, text: str) -> None:
        """A side remark, indented."""
        line = "   " + text
        self._write(self.style.dim(line), line)

    def explain_once(self, topic: str, text: str) -> bool:
        """Say ``text`` as a note unless ``topic`` was explained already in this run."""
        if topic in self._explained:
            return False
        self._explained.add(topic)
        self.note(text)
        return True

    def ok(self, text: str) -> None:
        """Something that worked, marked ``[ok]``."""
        self._write("   " + self.style.good("[ok]") + " " + text, "   [ok] " + text)

    def fail(self, text: str) -> None:
        """Something that failed (as the story expects or not), marked ``[FAILED]``."""
        self._write("   " + self.style.bad("[FAILED]") + " " + text, "   [FAILED] " + text)

    def refused(self, text: str, *, expected: bool = False) -> None:
        """A call AWS refused: ``[expected error]`` when the story wants it, else ``[error]``."""
        mark = "[expected error]" if expected else "[error]"
        paint = self.style.good if expected else self.style.warn
        self._write("   " + paint(mark) + " " + text, f"   {mark} {text}")

    def outcome(self, label: str, value: object) -> None:
        """A result worth remembering: ``=> label: value``."""
        text = f"=> {label}: {value}"
        self._write("   " + self.style.bold(text), "   " + text)

    def check(self, label: str, passed: bool) -> None:
        """A claim the scenario verified, ``[ok]`` or ``[FAILED]``."""
        (self.ok if passed else self.fail)(label)

    def attempt(self, label: str, fn: Callable[[], T], *,
                expect: str | None = None) -> T | AwsError:
        """Run ``fn``; on an AWS error narrate it and return the exception instead of raising.

        ``expect`` names the error code the story expects: that error is marked
        ``[expected error]`` (and not repeated when its trace line just said it).
        """
        self.say(label)
        try:
            value = fn()
        except AwsError as exc:
            message = str(exc).removeprefix(f"{exc.code}: ")
            if exc.code == expect:
                said = message == self._last_failure
                self.refused(exc.code if said else str(exc), expected=True)
            else:
                self.refused(str(exc))
            self.explain_error(exc.code, message)
            return exc
        self.ok("succeeded")
        return value

    def context(self, context: Mapping[str, Any], *, short: bool = False) -> str:
        """``context #n {...}`` the first time a context is shown, ``context #n`` after
        (``ctx #n`` when ``short``)."""
        number, new = self._context_number(context)
        if new:
            return f"context #{number} {{{format_context(context)}}}"
        return f"ctx #{number}" if short else f"context #{number}"

    def table(self, text: str) -> None:
        """A preformatted block (tables), written as is."""
        self._write(text.rstrip("\n"), _strip_ansi(text.rstrip("\n")))

    def progress(self, total: int, label: str) -> Progress:
        """A progress display for ``total`` units of work (updated in place on a terminal)."""
        return Progress(self.stream, total, label, tty=is_tty(self.stream), style=self.style,
                        transcript=self.transcript)

    # -- trace events ----------------------------------------------------------------------

    def on_event(self, event: TraceEvent) -> None:
        """Trace listener: print the event (unless quiet), or collect it into an episode."""
        self.events_seen += 1
        if self._muted:
            self._conversation.skip(event)
            if event.outcome == "ok" and event.action == "CreateSnapshot":
                self._quiet_snapshots.append(event.target)
            elif event.outcome == "ok" and event.action == "DeleteSnapshot":
                self._quiet_deleted.add(event.target)
            return
        lines = self._conversation.read(event)
        episode = self._episode_of(event)
        if episode is not None:
            episode.add(event, lines)
            if self._notable(event, episode):
                if [line.kind for line in lines] == ["reply"]:  # its request went unprinted
                    reply = lines[0]
                    lines = [Line(event, "call", reply.callee, reply.caller, reply.step)]
                for line in lines:
                    self._print_line(line, teach=False)
            if episode.ends_with(event):
                self._end_episode(episode)
            return
        if not self.verbose and _is_routine(event):
            return
        for line in lines:
            self._print_line(line, teach=True)

    def _episode_of(self, event: TraceEvent) -> Episode | None:
        for episode in self._episodes.values():
            if episode.owns(event):
                return episode
        kind = episode_start(event)
        if kind is None or kind not in self._brief or event.workspace_id is None:
            return None
        episode = Episode(kind, event.workspace_id, event)
        self._episodes[event.workspace_id] = episode
        return episode

    def _notable(self, event: TraceEvent, episode: Episode) -> bool:
        if not self.verbose and _is_routine(event):
            return False
        if participant_of(event.actor) == "Faults" or event.action in _NOTABLE_ACTIONS:
            return True
        if event.outcome == "ok":
            return False
        if participant_of(event.actor) == "KMS":
            episode.failure_shown = True
            return True
        return not episode.failure_shown  # a service's failure KMS's own did not already say

    def _end_episode(self, episode: Episode) -> None:
        del self._episodes[episode.workspace_id]
        clock = episode.events[-1].time.strftime("%H:%M:%S") if episode.events else ""
        self._new_day(episode.events[-1] if episode.events else episode.start)
        text = f"{clock}  {'':<7} {'WorkSpaces':<20} {episode.summary()}"
        self._write(self.style.actor(text), text)
        self.explain_once("brief", "(a line like this sums up an episode an earlier scenario "
                                   "shows call by call; --verbose prints every call)")
        state = episode.events[-1].detail.get("new_state") if episode.events else None
        if isinstance(state, str) and state in STATE_TEXT:
            self.explain_once(f"state/{state}", STATE_TEXT[state])

    def _flush_episodes(self) -> None:
        for episode in list(self._episodes.values()):
            self._end_episode(episode)

    def _new_day(self, event: TraceEvent) -> None:
        day = event.time.date()
        if day != self._last_date:
            self._last_date = day
            stamp = event.time.strftime("%Y-%m-%d")
            self._write(self.style.dim(f"-- virtual time, {stamp} (UTC) --"),
                        f"-- virtual time, {stamp} (UTC) --")

    def _print_line(self, line: Line, *, teach: bool) -> None:
        event = line.event
        self._new_day(event)
        if event.action == "StateChange":
            self._highest_step.pop(event.workspace_id, None)  # a new stretch of the lifecycle
        if teach and self.explain_steps and line.step in STEP_TEXT:
            self._explain_step(line)
        styled, plain = self._format(line)
        self._write(styled, plain)
        if event.outcome != "ok" and (line.kind == "reply" or not line.replied):
            self._last_failure = _failure_message(event)
            code = error_code_of(event)
            if code:
                self.explain_error(code, self._last_failure)
        principal = principal_of(event) if line.kind != "reply" else None
        if principal is not None:
            self.explain_once("as", as_text(principal, line.caller))
        if teach:
            for name in FIELD_TEXT:
                if f" {name}=" in plain:
                    self.explain_once(f"field/{name}", FIELD_TEXT[name])
        if event.action == "StateChange":
            state = event.detail.get("new_state")
            if isinstance(state, str) and state in STATE_TEXT:
                self.explain_once(f"state/{state}", STATE_TEXT[state])

    def _explain_step(self, line: Line) -> None:
        step, ws = line.step, line.event.workspace_id
        assert step is not None
        if line.event.action == "CreateWorkspaces":
            self._highest_step.pop(ws, None)
        highest = self._highest_step.get(ws, 0)
        if f"step/{step}" not in self._explained:
            self._explained.add(f"step/{step}")
            text = f"Step {step}: {STEP_TEXT[step]}"
            self._write(self.style.step(text), text)
        if step in ORDER_TEXT and highest and (step < highest or step > highest + 1):
            self.explain_once(f"order/{step}", ORDER_TEXT[step])
        self._highest_step[ws] = max(highest, step)

    def explain_error(self, code: str, message: str) -> None:
        """Explain AWS error ``code`` (given its message) unless it was explained already."""
        lesson = error_lesson(code, message)
        if lesson is not None:
            topic, text = lesson
            self.explain_once(f"error/{topic}", f"({code}: {text})")

    def _context_number(self, context: Mapping[str, Any]) -> tuple[int, bool]:
        key = frozenset((str(k), str(v)) for k, v in context.items())
        number = self._contexts.get(key)
        if number is not None:
            return number, False
        number = self._contexts[key] = len(self._contexts) + 1
        return number, True

    def _format(self, line: Line) -> tuple[str, str]:
        """The line as (coloured, plain) text: a main line and optional context line."""
        s, event = self.style, line.event
        clock = event.time.strftime("%H:%M:%S")
        step = f"Step {line.step}" if line.step is not None else ""
        who = line.caller if line.kind == "self" else f"{line.caller} -> {line.callee}"
        action = f"reply: {line.reply_text}" if line.kind == "reply" else event.action
        parts = [f"{clock}  {step:<7} {who:<20} {action}"]
        styled = [f"{s.dim(clock)}  {s.step(f'{step:<7}')} {s.actor(f'{who:<20}')} "
                  f"{s.action(action)}"]
        context = context_of(event) if line.kind != "reply" else None
        extras = _describe_detail(event, line, lambda c: self.context(c, short=True))
        new_context = ""
        if context is not None:
            number, new = self._context_number(context)
            if new:
                new_context = f"context #{number} {{{format_context(context)}}}"
            else:
                extras = f"{extras} ctx #{number}".strip()
        if extras:
            parts.append(extras)
            styled.append(extras)
        if event.workspace_id:
            parts.append(f"[{event.workspace_id}]")
            styled.append(s.dim(f"[{event.workspace_id}]"))
        if event.action in _CAUSED_BY and event.outcome != "ok":
            parts.append(f"({error_code_of(event) or event.outcome})")
            styled.append(s.warn(f"({error_code_of(event) or event.outcome})"))
        elif line.kind == "reply" or not line.replied:
            if event.outcome == "ok":
                parts.append("ok")
                styled.append(s.good("ok"))
            else:
                failure = self._failure_text(event)
                parts.append(f"FAILED {failure}")
                styled.append(s.bad(f"FAILED {failure}"))
        plain_line, styled_line = "  ".join(parts), "  ".join(styled)
        if new_context:
            ctx = " " * 19 + new_context
            plain_line += "\n" + ctx
            styled_line += "\n" + s.dim(ctx)
        return styled_line, plain_line

    def _failure_text(self, event: TraceEvent) -> str:
        code = error_code_of(event) or event.outcome
        message = _failure_message(event)
        if not message or message == code:
            return code
        if message == self._last_failure:
            return f"{code} (the refusal above)"
        return f"{code}: {message}"


def _is_routine(event: TraceEvent) -> bool:
    if event.action in _ROUTINE_ACTIONS:
        return True
    return (event.action in _ROUTINE and event.outcome == "ok"
            and _ROUTINE[event.action] == event.detail.get("state"))


def _failure_message(event: TraceEvent) -> str:
    for name in ("error_message", "error", "message", "cause"):
        message = event.detail.get(name)
        if isinstance(message, str) and message:
            return message
    return ""


def _describe_detail(event: TraceEvent, line: Line,
                     refer: Callable[[Mapping[str, Any]], str]) -> str:
    detail = event.detail
    if line.kind == "reply":
        return " ".join(f"{n}={_short_value(detail[n])}" for n in detail
                        if n in _REPLY_FIELDS and detail[n] not in (None, ""))
    bits: list[str] = []
    principal = principal_of(event)
    if principal is not None:
        bits.append(f"as {principal}")
    if event.target and event.target not in ("-", event.workspace_id):
        bits.append(short_id(event.target))
    for name in KEY_FIELDS:
        value = detail.get(name)
        if isinstance(value, str) and value and value != event.target:
            bits.append(short_id(value))
            break
    if event.action == "StateChange" and "new_state" in detail:
        bits.append(f"{detail.get('old_state')} -> {detail['new_state']}")
        reason = detail.get("reason")
        if isinstance(reason, str) and reason:
            bits.append(f"({_shorter(reason)})")
        return " ".join(bits)
    unencrypted = detail.get("encrypted") is False or detail.get("volume_cipher") == "none"
    if unencrypted:
        bits.append("unencrypted")
    for name, value in detail.items():
        if name in _SKIP_FIELDS or value is None or value == "" or value == [] or value == {}:
            continue
        if line.replied and name in _REPLY_FIELDS:
            continue
        if unencrypted and name in ("encrypted", "volume_cipher", "key_in_memory"):
            continue
        if name in ("old_state", "new_state", "reason"):
            continue
        if name == "data_encryption_key_id" and isinstance(value, str):
            bits.append(f"data_key_id={value[:8]}")
            continue
        if name == "constraints" and isinstance(value, Mapping):
            inner = ", ".join(f"{_SHORT_NAMES.get(str(k), k)}="
                              + (refer(v) if isinstance(v, Mapping) else _short_value(v))
                              for k, v in value.items())
            bits.append(f"constraints={{{inner}}}")
            continue
        if name in _CONTEXT_VALUED and isinstance(value, Mapping):
            bits.append(f"{_SHORT_NAMES.get(name, name)}={refer(value)}")
            continue
        bits.append(f"{_SHORT_NAMES.get(name, name)}={_short_value(value)}")
    return " ".join(bits)


def _shorter(reason: str) -> str:
    """A state change's reason without the AWS message it quotes (the failure line has it)."""
    match = re.match(r"(.*?\b[A-Z][A-Za-z]+(?:Exception|Error))\b", reason)
    return match.group(1) if match else reason


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
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
