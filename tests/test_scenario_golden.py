"""Golden file: the ``launch`` scenario with seed 7 replays to a byte-identical trace.

To regenerate deliberately (after an intended change to what the services trace)::

    ENVELOPE_SIM_REGEN_GOLDEN=1 python -m pytest tests/test_scenario_golden.py

then review ``git diff tests/golden/`` before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

from simulator import Simulation
from simulator.present.narrate import Narrator
from simulator.present.scenario import load_scenario

GOLDEN = Path(__file__).parent / "golden" / "launch_seed7_trace.json"


def launch_trace_json(seed: int = 7) -> str:
    info = load_scenario("launch")
    sim = Simulation(seed=seed, **getattr(info.module, "SETTINGS", {}))
    info.module.run(sim, Narrator.silent())
    text: str = sim.trace.to_json()
    return text


def test_launch_seed7_trace_matches_the_committed_golden_file() -> None:
    actual = launch_trace_json()
    if os.environ.get("ENVELOPE_SIM_REGEN_GOLDEN") == "1":
        GOLDEN.write_text(actual, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    assert actual == expected, (
        "the launch trace changed; if intended, regenerate with "
        "ENVELOPE_SIM_REGEN_GOLDEN=1 python -m pytest tests/test_scenario_golden.py")


def test_launch_trace_is_the_same_on_every_run_with_the_same_seed() -> None:
    assert launch_trace_json(7) == launch_trace_json(7)


def test_a_different_seed_gives_a_different_trace() -> None:
    assert launch_trace_json(8) != launch_trace_json(7)
