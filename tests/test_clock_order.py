"""The run queue's order: calls compare by (due, seq), exactly as ``dataclass(order=True)``
would order them; ties at an instant run in the order they were scheduled."""

from __future__ import annotations

import operator
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.clock import DEFAULT_EPOCH, Clock, ScheduledCall

calls = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), min_size=2, max_size=30)


def make(due_seconds: int, seq: int) -> ScheduledCall:
    return ScheduledCall(DEFAULT_EPOCH + timedelta(seconds=due_seconds), seq, "x", lambda: None)


@settings(max_examples=50)
@given(pairs=calls)
def test_calls_compare_as_their_due_time_then_sequence(pairs: list[tuple[int, int]]) -> None:
    made = [make(d, s) for d, s in pairs]
    for a in made:
        for b in made:
            key_a, key_b = (a.due, a.seq), (b.due, b.seq)
            for op in (operator.lt, operator.le, operator.gt, operator.ge):
                assert op(a, b) == op(key_a, key_b)
    assert [(c.due, c.seq) for c in sorted(made)] == sorted((c.due, c.seq) for c in made)


def test_a_call_does_not_compare_with_other_types() -> None:
    with pytest.raises(TypeError):
        make(0, 1) < (DEFAULT_EPOCH, 1)  # noqa: B015


@settings(max_examples=30)
@given(delays=st.lists(st.integers(0, 3), min_size=1, max_size=40))
def test_calls_run_in_time_order_and_ties_in_scheduling_order(delays: list[int]) -> None:
    clock = Clock()
    ran: list[int] = []
    for i, d in enumerate(delays):
        clock.schedule(d, f"call {i}", lambda i=i: ran.append(i))
    clock.run_until_idle()
    assert ran == sorted(range(len(delays)), key=lambda i: (delays[i], i))
