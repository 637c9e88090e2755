"""Virtual time. The only module that knows what time it is.

Time moves only when the simulation moves it (``advance``/``run_until_idle``); work scheduled for
the same instant runs in the order it was scheduled (a sequence number breaks ties), so replays
are exact.

A *background* call (:meth:`Clock.schedule_background`) is periodic housekeeping, such as
WorkSpaces' 12-hourly user-volume snapshots: it runs when time passes over it, but it does not
keep :meth:`Clock.run_until_idle` going, which would otherwise never end.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["DEFAULT_EPOCH", "Clock", "ScheduledCall", "WallClockPacer"]

#: Where virtual time starts unless ``Simulation(start_time=...)`` says otherwise.
DEFAULT_EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


@dataclass
class ScheduledCall:
    """A callback due at ``due``; ``seq`` orders calls due at the same instant.

    Ordered by ``(due, seq)``, as ``dataclass(order=True)`` would order it, with comparisons
    written out: the run queue compares calls ``log2(pending)`` times per push and pop, and the
    generated ones build two tuples per comparison (a third of a fleet's clock time).
    """

    due: datetime
    seq: int
    label: str = field(compare=False)
    callback: Callable[[], object] = field(compare=False, repr=False)
    cancelled: bool = field(default=False, compare=False)
    #: Background calls do not keep ``run_until_idle`` going (:meth:`Clock.schedule_background`).
    background: bool = field(default=False, compare=False)
    _on_cancel: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def cancel(self) -> None:
        """Stop this call from running; cheap (the heap entry is skipped when popped)."""
        if not self.cancelled and self._on_cancel is not None:
            self._on_cancel()
        self.cancelled = True

    def __lt__(self, other: ScheduledCall) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        due, other_due = self.due, other.due
        return due < other_due if due != other_due else self.seq < other.seq

    def __le__(self, other: ScheduledCall) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        due, other_due = self.due, other.due
        return due < other_due if due != other_due else self.seq <= other.seq

    def __gt__(self, other: ScheduledCall) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        due, other_due = self.due, other.due
        return due > other_due if due != other_due else self.seq > other.seq

    def __ge__(self, other: ScheduledCall) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        due, other_due = self.due, other.due
        return due > other_due if due != other_due else self.seq >= other.seq


class Clock:
    """A virtual UTC clock with a run queue of scheduled callbacks."""

    def __init__(self, start: datetime = DEFAULT_EPOCH) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start time must be timezone-aware (UTC)")
        self._now = start.astimezone(UTC)
        self._queue: list[ScheduledCall] = []
        self._seq = 0
        # Foreground calls scheduled and neither run nor cancelled: run_until_idle's stop test.
        self._foreground = 0
        # One bound method for every call's cancel hook (not one more object per call).
        self._on_cancel = self._forget_foreground

    def now(self) -> datetime:
        """The current virtual time (UTC)."""
        return self._now

    def schedule(self, delay_seconds: float, label: str, callback: Callable[[], object]) -> ScheduledCall:
        """Run ``callback`` once ``delay_seconds`` of virtual time have passed."""
        return self.schedule_at(self._now + timedelta(seconds=max(0.0, delay_seconds)), label, callback)

    def schedule_at(self, when: datetime, label: str, callback: Callable[[], object]) -> ScheduledCall:
        """Run ``callback`` at virtual time ``when`` (now, if ``when`` is in the past)."""
        self._seq += 1
        call = ScheduledCall(max(when, self._now), self._seq, label, callback,
                             _on_cancel=self._on_cancel)
        self._foreground += 1
        heapq.heappush(self._queue, call)
        return call

    def schedule_background(
        self, delay_seconds: float, label: str, callback: Callable[[], object],
    ) -> ScheduledCall:
        """Like :meth:`schedule`, for periodic housekeeping that must not keep the clock busy.

        ``advance`` runs a background call when its time comes, like any other;
        ``run_until_idle`` stops once only background calls are left (and runs those due
        before the last foreground call, in time order).
        """
        self._seq += 1
        when = self._now + timedelta(seconds=max(0.0, delay_seconds))
        call = ScheduledCall(when, self._seq, label, callback, background=True)
        heapq.heappush(self._queue, call)
        return call

    def _forget_foreground(self) -> None:
        self._foreground -= 1

    def pending(self) -> list[ScheduledCall]:
        """Calls still to run, in the order they will run."""
        return sorted(c for c in self._queue if not c.cancelled)

    def next_due(self) -> datetime | None:
        """When the next scheduled call is due, or None when idle."""
        self._drop_cancelled()
        return self._queue[0].due if self._queue else None

    def advance(self, seconds: float) -> int:
        """Run every call due within the next ``seconds``, then set the clock to the end."""
        if seconds < 0:
            raise ValueError("time cannot move backwards")
        end = self._now + timedelta(seconds=seconds)
        ran = self._run_until(end)
        self._now = end
        return ran

    def run_until_idle(self, limit: int = 10_000_000) -> int:
        """Run scheduled calls in time order until none is left; the clock ends at the last one.

        Background calls (:meth:`schedule_background`) do not count: once only they are left,
        this returns.
        """
        ran = 0
        while ran < limit:
            self._drop_cancelled()
            if not self._queue or self._foreground == 0:
                return ran
            ran += self._run_one()
        raise RuntimeError(f"run_until_idle stopped after {limit} calls: scheduled work never ends")

    def _run_until(self, end: datetime) -> int:
        ran = 0
        while True:
            self._drop_cancelled()
            if not self._queue or self._queue[0].due > end:
                return ran
            ran += self._run_one()

    def _run_one(self) -> int:
        call = heapq.heappop(self._queue)
        if not call.background:
            call._on_cancel = None  # it runs now; a later cancel() must not count it twice
            self._foreground -= 1
        self._now = max(self._now, call.due)
        call.callback()
        return 1

    def _drop_cancelled(self) -> None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)


class WallClockPacer:
    """Virtual time that follows the wall clock times ``speed`` (``serve --clock realtime``).

    The wall clock is read here and nowhere else: :meth:`owed` says how many virtual seconds
    have fallen due since the last call, and the owner advances the simulation by that much, so
    scheduled work (provisioning, reboots, grant propagation) runs as it falls due.
    """

    def __init__(self, speed: float = 1.0, monotonic: Callable[[], float] | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be a positive number")
        import time

        self.speed = float(speed)
        self._monotonic = monotonic or time.monotonic
        self._start = self._monotonic()
        self._paid = 0.0

    def due(self) -> float:
        """Virtual seconds due since the previous :meth:`owed` (0 or more), still unpaid."""
        return max(0.0, (self._monotonic() - self._start) * self.speed - self._paid)

    def owed(self) -> float:
        """Virtual seconds due since the previous call (0 or more); marks them as paid."""
        due = (self._monotonic() - self._start) * self.speed
        owed = due - self._paid
        if owed <= 0:
            return 0.0
        self._paid = due
        return owed
