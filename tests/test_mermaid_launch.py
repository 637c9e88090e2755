"""The Mermaid diagram of a real seeded ``launch`` run, and the committed docs/diagrams copy.

To regenerate ``docs/diagrams/launch.mmd`` deliberately (with the golden trace)::

    ENVELOPE_SIM_REGEN_GOLDEN=1 python -m pytest tests/test_mermaid_launch.py
"""

from __future__ import annotations

import os
from pathlib import Path

from test_mermaid import check_structure

from simulator import Simulation
from simulator.present.mermaid import sequence_diagram
from simulator.present.narrate import Narrator
from simulator.present.scenario import ScenarioResult, load_scenario

DIAGRAM = Path(__file__).resolve().parents[1] / "docs" / "diagrams" / "launch.mmd"


def launch_diagram(seed: int = 7) -> tuple[str, ScenarioResult, Simulation]:
    info = load_scenario("launch")
    sim = Simulation(seed=seed)
    result: ScenarioResult = info.module.run(sim, Narrator.silent())
    keep = result.diagram_filter
    events = [e for e in sim.trace.events() if keep is None or keep(e)]
    source = sequence_diagram(events, title=result.diagram_title,
                              aliases=result.diagram_aliases)
    return source, result, sim


def test_launch_diagram_declares_every_participant_and_uses_only_declared_ones() -> None:
    source, _, _ = launch_diagram()
    parsed = check_structure(source)
    assert parsed["declared"] == ["Admin", "WorkSpaces", "EBS", "KMS"]


def test_launch_diagram_shows_the_calls_of_the_flow() -> None:
    source, _, _ = launch_diagram()
    arrows = check_structure(source)["arrows"]
    assert isinstance(arrows, list)
    calls = {(a, b, text.split()[0]) for a, arrow, b, text in arrows if arrow == "->>"}
    assert ("Admin", "WorkSpaces", "CreateWorkspaces") in calls
    assert ("WorkSpaces", "KMS", "CreateGrant") in calls
    assert ("WorkSpaces", "EBS", "CreateVolume") in calls
    assert ("EBS", "KMS", "GenerateDataKeyWithoutPlaintext") in calls
    assert ("EBS", "KMS", "Decrypt") in calls
    assert ("EBS", "KMS", "RetireGrant") in calls
    replies = [(a, b) for a, arrow, b, _ in arrows if arrow == "-->>"]
    assert replies.count(("KMS", "EBS")) == 2  # the encrypted data key, then its plaintext


def test_launch_diagram_has_steps_1_2_and_4_to_9() -> None:
    source, _, _ = launch_diagram()
    steps = check_structure(source)["steps"]
    assert isinstance(steps, list)
    assert {1, 2, 4, 5, 6, 7, 8, 9} <= set(steps)
    assert steps[0] == 1 and steps[-1] == 9


# EBS wraps its GenerateDataKeyWithoutPlaintext call in the phase ``ebs.generate_data_key``
# (step 3) but records no event of its own there; KMS's record of the call is step 4. Strict:
# when EBS records its request, this passes and the marker must go.
def test_launch_diagram_has_every_step_from_1_to_9() -> None:
    source, _, _ = launch_diagram()
    assert set(check_structure(source)["steps"]) == set(range(1, 10))  # type: ignore[arg-type]


def test_launch_diagram_follows_only_the_user_volume() -> None:
    source, _, sim = launch_diagram()
    root_volumes = [e.target for e in sim.trace.events()
                    if e.action == "CreateVolume" and e.detail.get("size_gib") == 80]
    assert root_volumes and all(v not in source for v in root_volumes)


def test_committed_docs_diagram_is_the_seed_7_launch() -> None:
    source, _, _ = launch_diagram()
    if os.environ.get("ENVELOPE_SIM_REGEN_GOLDEN") == "1":
        DIAGRAM.parent.mkdir(parents=True, exist_ok=True)
        DIAGRAM.write_text(source, encoding="utf-8")
    assert DIAGRAM.read_text(encoding="utf-8") == source, (
        "docs/diagrams/launch.mmd is stale; regenerate with ENVELOPE_SIM_REGEN_GOLDEN=1 "
        "python -m pytest tests/test_mermaid_launch.py")
