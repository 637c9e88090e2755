"""The step-by-step trace of what the simulated services did, for people to read.

Where the audit trail is KMS's view (CloudTrail), the trace is the storyteller's view: every
event has the virtual time, the lifecycle step (1-9 of the encrypted launch, or None), who acted,
what they did, to what, and a detail mapping. Details pass through the redaction step.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from .clock import Clock
from .redact import redact

__all__ = ["Trace", "TraceEvent"]

_NO_DETAIL: Mapping[str, Any] = MappingProxyType({})


class TraceEvent(NamedTuple):
    """One thing that happened: ``time``, ``step`` (1..9 or None), ``actor``, ``action``, ``target``.

    Immutable. A named tuple rather than a frozen dataclass: one is built on every KMS call,
    and a named tuple is the cheaper of the two to build.
    """

    seq: int
    time: datetime
    step: int | None
    actor: str
    action: str
    target: str
    workspace_id: str | None = None
    outcome: str = "ok"
    detail: Mapping[str, Any] = _NO_DETAIL

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (time as ISO-8601 with ``Z``)."""
        return {
            "seq": self.seq,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "step": self.step,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "workspace_id": self.workspace_id,
            "outcome": self.outcome,
            "detail": dict(self.detail),
        }


Listener = Callable[[TraceEvent], None]


class Trace:
    """An ordered, append-only list of :class:`TraceEvent` with listeners for live display."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._events: deque[TraceEvent] = deque()
        self._count = 0  # events recorded (the next seq), also once older ones are dropped
        self._listeners: list[Listener] = []
        self.enabled = True
        # Scopes let an orchestrator (WorkSpaces) tag the events of the services it drives with
        # its workspace id and lifecycle step, without those services knowing about it.
        self._scopes: list[tuple[str | None, int | None, Mapping[str, int]]] = []
        self._phases: list[str] = []

    @contextmanager
    def scope(
        self, *, workspace_id: str | None = None, step: int | None = None,
        steps: Mapping[str, int] | None = None,
    ) -> Iterator[None]:
        """Tag events recorded inside with ``workspace_id`` and a step.

        ``steps`` maps phase names (see :meth:`phase`) to step numbers; ``step`` is the default.
        """
        self._scopes.append((workspace_id, step, steps or {}))
        try:
            yield
        finally:
            self._scopes.pop()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Mark events recorded inside as belonging to phase ``name`` (``"ebs.attach"``)."""
        self._phases.append(name)
        try:
            yield
        finally:
            self._phases.pop()

    def _resolve(self, phase: str | None) -> tuple[str | None, int | None]:
        workspace_id: str | None = None
        default_step: int | None = None
        for ws, st, _ in self._scopes:
            workspace_id = ws if ws is not None else workspace_id
            default_step = st if st is not None else default_step
        phases = [*self._phases, phase] if phase is not None else self._phases
        for name in reversed(phases):
            for _, _, steps in reversed(self._scopes):
                if name in steps:
                    return workspace_id, steps[name]
        return workspace_id, default_step

    def record(
        self,
        actor: str,
        action: str,
        target: str,
        *,
        step: int | None = None,
        workspace_id: str | None = None,
        outcome: str = "ok",
        phase: str | None = None,
        **detail: Any,
    ) -> TraceEvent | None:
        """Append an event (details are redacted) and tell the listeners.

        ``phase`` names what the event belongs to (as :meth:`phase` does, innermost).
        """
        return self.record_detail(actor, action, target, detail, step=step,
                                  workspace_id=workspace_id, outcome=outcome, phase=phase)

    def record_detail(
        self,
        actor: str,
        action: str,
        target: str,
        detail: dict[str, Any],
        *,
        step: int | None = None,
        workspace_id: str | None = None,
        outcome: str = "ok",
        phase: str | None = None,
    ) -> TraceEvent | None:
        """:meth:`record` with the details given as one dict; the event keeps a redacted copy."""
        if not self.enabled and not self._listeners:
            return None
        if self._scopes:
            scoped_ws, scoped_step = self._resolve(phase)
            workspace_id = workspace_id if workspace_id is not None else scoped_ws
            step = step if step is not None else scoped_step
        seq = self._count + 1
        event = TraceEvent(seq, self._clock.now(), step, actor, action, target, workspace_id,
                           outcome, redact(detail))
        if self.enabled:
            self._count = seq
            self._events.append(event)
        for listener in self._listeners:
            listener(event)
        return event

    def events(self, workspace_id: str | None = None, step: int | None = None) -> list[TraceEvent]:
        """Events in order, optionally only one WorkSpace's or one step's."""
        return [
            e
            for e in self._events
            if (workspace_id is None or e.workspace_id == workspace_id)
            and (step is None or e.step == step)
        ]

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on every new event; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def clear(self) -> None:
        """Forget recorded events (listeners stay)."""
        self._events.clear()
        self._count = 0

    def keep_last(self, limit: int | None) -> None:
        """Keep only the ``limit`` most recent events in memory (``None``: all), so a
        long-running server does not grow without bound; listeners still see every event."""
        self._events = deque(self._events, maxlen=limit)

    def to_json(self, workspace_id: str | None = None) -> str:
        """The trace as a JSON array, stable byte for byte for a seeded run."""
        return json.dumps(
            [e.to_dict() for e in self.events(workspace_id)], indent=2, sort_keys=True,
            ensure_ascii=False,
        ) + "\n"
