"""The kit's WorkspacesWorld is the one world: the scenarios narrate it, the tests use it."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import ResourceNotFoundException
from simulator.present.narrate import Narrator
from simulator.present.world import LaunchFailed, build_world
from simulator.testing.world import LaunchRefused, WorkspacesWorld


def test_the_scenarios_world_is_the_kits_world_with_its_one_failure_type() -> None:
    sim = Simulation(seed=3)
    told = build_world(sim, Narrator.silent(), users=("jdoe",))
    assert isinstance(told.world, WorkspacesWorld)
    assert LaunchFailed is LaunchRefused
    sim.kms.disable_key(key_id=told.key_arn)
    with pytest.raises(LaunchRefused):
        told.launch(None, "jdoe")


def test_a_narrated_build_and_a_plain_build_make_the_same_world() -> None:
    told = build_world(Simulation(seed=4), Narrator.silent(), users=("jdoe", "asmith"))
    plain = WorkspacesWorld.build(Simulation(seed=4), users=("jdoe", "asmith"), admin="Alice",
                                  alias_name="alias/workspaces-demo",
                                  key_description="WorkSpaces volumes (customer managed)")
    assert told.world == WorkspacesWorld(**{**vars(plain), "sim": told.sim})


def test_an_administrator_world_launches_as_the_administrator() -> None:
    world = WorkspacesWorld.build(Simulation(seed=5), admin="Alice")
    ws = world.launch("jdoe")
    assert world.state(ws) == "AVAILABLE"
    callers = {r["userIdentity"].get("arn") for r in world.sim.audit.events(event_name="CreateGrant")}
    assert world.admin_arn in callers
    volume = world.write(ws, b"hello", 512)
    assert world.read(ws, 5, 512) == b"hello"
    assert world.context_of("jdoe", volume)["aws:ebs:id"] == volume


def test_without_its_policies_the_administrator_is_denied() -> None:
    world = WorkspacesWorld.build(Simulation(seed=5), admin="Alice", iam_policies=False)
    with pytest.raises(LaunchRefused) as refused:
        world.launch("jdoe")
    assert refused.value.code == "AccessDeniedException"


def test_a_workspace_no_longer_listed_is_gone_not_an_index_error() -> None:
    world = WorkspacesWorld.build(Simulation(seed=6))
    ws = world.launch("jdoe")
    assert world.terminate(ws) == []
    world.sim.run_until_idle()
    assert (world.describe(ws), world.workspace(ws), world.state(ws)) == (None, None, "GONE")
    with pytest.raises(ResourceNotFoundException):
        world.read(ws, 1)
