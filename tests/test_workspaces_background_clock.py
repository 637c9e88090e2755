"""Background clock calls: housekeeping (WorkSpaces snapshots) never blocks run_until_idle."""

from __future__ import annotations

from datetime import timedelta

from simulator.clock import Clock


def _every_hour(clock: Clock, log: list[str]) -> None:
    def tick() -> None:
        log.append("tick")
        clock.schedule_background(3600, "tick", tick)

    clock.schedule_background(3600, "tick", tick)


def test_run_until_idle_returns_when_only_background_calls_are_left() -> None:
    clock = Clock()
    log: list[str] = []
    _every_hour(clock, log)
    start = clock.now()
    assert clock.run_until_idle() == 0
    assert log == []
    assert clock.now() == start


def test_background_calls_due_before_foreground_work_run_in_time_order() -> None:
    clock = Clock()
    log: list[str] = []
    _every_hour(clock, log)
    clock.schedule(2.5 * 3600, "work", lambda: log.append("work"))
    clock.run_until_idle()
    assert log == ["tick", "tick", "work"]


def test_advance_runs_background_calls() -> None:
    clock = Clock()
    log: list[str] = []
    _every_hour(clock, log)
    clock.advance(5 * 3600)
    assert log == ["tick"] * 5


def test_cancelled_foreground_call_does_not_keep_run_until_idle_going() -> None:
    clock = Clock()
    log: list[str] = []
    _every_hour(clock, log)
    start = clock.now()
    clock.schedule(100 * 3600, "far", lambda: log.append("far")).cancel()
    clock.run_until_idle()
    assert log == []
    assert clock.now() == start


def test_cancelling_a_call_twice_or_after_it_ran_counts_once() -> None:
    clock = Clock()
    start = clock.now()
    log: list[str] = []
    ran = clock.schedule(1, "a", lambda: log.append("a"))
    clock.run_until_idle()
    ran.cancel()
    pending = clock.schedule(10, "b", lambda: log.append("b"))
    pending.cancel()
    pending.cancel()
    clock.schedule(20, "c", lambda: log.append("c"))
    clock.run_until_idle()
    assert log == ["a", "c"]
    assert clock.now() == start + timedelta(seconds=21)
