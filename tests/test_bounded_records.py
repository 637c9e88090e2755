"""A long-running simulation can bound its in-memory audit trail and trace (newest kept)."""

from __future__ import annotations

from simulator import Simulation


def test_the_audit_trail_keeps_the_newest_records_and_sinks_still_see_every_one() -> None:
    sim = Simulation(seed=1)
    seen: list[dict] = []
    sim.audit.subscribe(seen.append)
    sim.audit.keep_last(3)
    for i in range(5):
        sim.kms.create_key(description=f"k{i}")
    assert len(sim.audit) == 3 and len(seen) == 5
    assert [r["requestParameters"]["description"] for r in sim.audit.events("CreateKey")] == \
        ["k2", "k3", "k4"]
    sim.audit.keep_last(None)
    sim.kms.create_key(description="k5")
    assert len(sim.audit) == 4


def test_the_trace_keeps_the_newest_events_and_their_numbers_keep_counting() -> None:
    sim = Simulation(seed=1)
    for i in range(4):
        sim.trace.record("test", "Step", f"t{i}")
    sim.trace.keep_last(2)
    sim.trace.record("test", "Step", "t4")
    events = list(sim.trace)
    assert [e.target for e in events] == ["t3", "t4"]
    assert [e.seq for e in events] == [4, 5]
    sim.trace.clear()
    assert sim.trace.record("test", "Step", "again").seq == 1
