"""A run's trace as a Mermaid ``sequenceDiagram``.

Every participant is declared before use (the launch's Admin, WorkSpaces, EBS and KMS always,
others as they appear), every arrow joins two declared participants, and each lifecycle step
starts with a note ``Step N`` spanning the diagram. Failed calls end in a cross (``-x``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..trace import TraceEvent
from .participants import (
    ADMIN,
    CORE_PARTICIPANTS,
    KEY_FIELDS,
    REPLIES,
    Conversation,
    Line,
    context_of,
    error_code_of,
    short_id,
)

__all__ = ["REPLIES", "STEP_TITLES", "sequence_diagram"]

#: Short titles of the nine steps, for the diagram's step notes.
STEP_TITLES: dict[int, str] = {
    1: "WorkSpaces gets a grant for this WorkSpace",
    2: "EBS creates the volume and gets a grant for it",
    3: "EBS asks for a data key bound to the context",
    4: "KMS returns only the encrypted data key",
    5: "attach: EBS asks KMS to decrypt the data key",
    6: "KMS returns the plaintext data key",
    7: "EBS encrypts all I/O, key held in memory",
    8: "EBS stores the encrypted data key with the volume",
    9: "terminate: the grants are retired",
}

# Services sit right of the people; this is their left-to-right order.
_SERVICE_ORDER = ("WorkSpaces", "Directory", "EBS", "KMS", "IAM", "Faults")
_UNSAFE = re.compile(r"[;#\n\r<>]")


def _ident(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident and not ident[0].isdigit() else "P_" + ident


def _label(text: str, limit: int = 90) -> str:
    text = _UNSAFE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _arrow_text(event: TraceEvent) -> str:
    bits = [event.action]
    key = next((event.detail[k] for k in KEY_FIELDS if isinstance(event.detail.get(k), str)), None)
    target = event.target if event.target.startswith(("vol-", "snap-")) or key is None else key
    if target and target not in ("-", event.workspace_id):
        bits.append(short_id(target))
    old, new = event.detail.get("old_state"), event.detail.get("new_state")
    if isinstance(new, str):
        bits.append(f"{old} to {new}" if isinstance(old, str) else f"to {new}")
    elif isinstance(event.detail.get("to_state"), str):
        bits.append(f"to {event.detail['to_state']}")
    context = context_of(event)
    if context:
        bits.append("ctx {" + ", ".join(_context_key(k) for k in context) + "}")
    if event.outcome != "ok":
        bits.append(f"FAILED {error_code_of(event) or event.outcome}")
    return _label(" ".join(str(b) for b in bits))


def _context_key(key: Any) -> str:
    text = str(key)
    return text[4:] if text.startswith("aws:") else text


def sequence_diagram(
    events: Iterable[TraceEvent], *, title: str | None = None, step_titles: bool = True,
    aliases: Mapping[str, str] | None = None,
) -> str:
    """Mermaid source for ``events`` (for example ``sim.trace.events(workspace_id=...)``).

    ``aliases`` renames participants (``{"Alice": "Admin"}`` draws Alice as the Admin).
    Calls that KMS recorded and that the caller also noted are drawn once.
    """
    rename = dict(aliases or {})
    conversation = Conversation()
    rows = [line for event in events for line in conversation.read(event)]

    def name(participant: str) -> str:
        return rename.get(participant, participant)

    seen: list[str] = []
    for line in rows:
        for who in (name(line.caller), name(line.callee)):
            if who not in seen:
                seen.append(who)
    people = [p for p in seen if p not in _SERVICE_ORDER and p != ADMIN]
    services = [p for p in _SERVICE_ORDER if p in CORE_PARTICIPANTS or p in seen]
    participants = [ADMIN, *people, *services]
    ids = {who: _ident(who) for who in participants}

    lines = ["sequenceDiagram"]
    if title:  # front matter: the title form every Mermaid diagram type accepts
        lines = ["---", f"title: {_label(title).replace(':', ' -')}", "---", *lines]
    for who in participants:
        ident = ids[who]
        lines.append(f"    participant {ident}" if ident == who
                     else f"    participant {ident} as {_label(who)}")
    span = f"{ids[participants[0]]},{ids[participants[-1]]}"
    last_step: int | None = None
    for line in rows:
        event = line.event
        if line.step is not None and line.step != last_step:
            text = f"Step {line.step}"
            if step_titles and line.step in STEP_TITLES:
                text += f" - {STEP_TITLES[line.step]}"
            lines.append(f"    Note over {span}: {text}")
        last_step = line.step if line.step is not None else last_step
        caller, callee = ids[name(line.caller)], ids[name(line.callee)]
        if line.kind == "reply":
            if event.outcome != "ok":
                lines.append(f"    {caller}--x{callee}: {_label(str(event.outcome))}")
            else:
                lines.append(f"    {caller}-->>{callee}: {line.reply_text}")
            continue
        reply = None if line.replied else _reply(line)
        arrow = "->>" if event.outcome == "ok" or line.replied or reply is not None else "-x"
        lines.append(f"    {caller}{arrow}{callee}: {_arrow_text(event)}")
        if reply is not None:
            lines.append(f"    {callee}{reply[0]}{caller}: {reply[1]}")
    return "\n".join(lines) + "\n"


def _reply(line: Line) -> tuple[str, str] | None:
    """The reply arrow (arrow, text) for a call KMS recorded, if the story shows one."""
    event = line.event
    if line.kind != "call" or "caller" not in event.detail:
        return None
    if event.outcome != "ok":
        return "--x", _label(str(event.outcome))
    return ("-->>", REPLIES[event.action]) if event.action in REPLIES else None
