"""A fault without a key acts on the key the triggering call names, or is refused at inject.

A skipped fault is never silent: a trace event, a record, an audit record and a warning.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from simulator import Simulation
from simulator.errors import DisabledException, ValidationException
from simulator.faults import (
    AtTime,
    Chance,
    DisableKey,
    Fault,
    FaultSkippedWarning,
    OnCall,
    RevokeGrant,
    ScheduleKeyDeletion,
)
from simulator.testing.world import WorkspacesWorld


def test_a_plain_decrypt_without_key_id_names_its_key_through_the_blob(sim: Simulation) -> None:
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.arn, plaintext=b"x").ciphertext_blob
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), DisableKey()))
    with pytest.raises(DisabledException):
        sim.kms.decrypt(ciphertext_blob=blob)
    assert sim.kms.describe_key(key_id=key.arn).key_state == "Disabled"
    assert [(r.action, r.target, r.outcome) for r in sim.faults.records()] == [
        ("DisableKey", key.arn, "ok")]


def test_an_attach_volume_fault_acts_on_the_volumes_key(sim: Simulation) -> None:
    key = sim.kms.create_key()
    volume = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
    sim.advance(seconds=60)
    sim.faults.inject(Fault(OnCall("ec2:AttachVolume"), DisableKey()))
    with pytest.raises(DisabledException):
        sim.ebs.attach_volume(volume_id=volume.volume_id, instance_id="i-0123456789abcdef0",
                              device="/dev/sdf")
    assert sim.kms.describe_key(key_id=key.arn).key_state == "Disabled"


def test_disable_key_on_the_first_decrypt_of_a_reboot_really_disables_the_workspaces_key() -> None:
    world = WorkspacesWorld.build(Simulation(seed=21))
    sim = world.sim
    ws = world.launch("jdoe")
    sim.faults.inject(Fault(OnCall("kms:Decrypt"), DisableKey()))
    sim.workspaces.reboot_workspaces(workspace_ids=[ws])
    world.settle()
    assert sim.kms.describe_key(key_id=world.key_arn).key_state == "Disabled"
    assert world.state(ws) == "UNHEALTHY"
    assert [r.outcome for r in sim.faults.records()] == ["ok"]


@pytest.mark.parametrize("fault", [
    Fault(AtTime(Simulation(seed=1).clock.now() + timedelta(hours=1)), DisableKey()),
    Fault(AtTime(Simulation(seed=1).clock.now()), ScheduleKeyDeletion()),
    Fault(OnCall("kms:CreateKey"), RevokeGrant()),
    Fault(Chance(0.5, "kms:ListKeys"), DisableKey()),
])
def test_a_fault_that_could_never_find_its_key_is_refused_at_inject(
        sim: Simulation, fault: Fault) -> None:
    with pytest.raises(ValidationException, match=r"could never act.*give the effect a key_id"):
        sim.faults.inject(fault)
    assert sim.faults.active == [] and not sim.faults.records()


def test_a_fault_whose_key_is_gone_when_it_fires_is_skipped_loudly(sim: Simulation) -> None:
    sim.faults.inject(Fault(AtTime(sim.clock.now()), DisableKey("alias/not-there")))
    with pytest.warns(FaultSkippedWarning, match="alias/not-there"):
        sim.advance(seconds=0)
    (record,) = sim.faults.records()
    assert record.outcome == "skipped" and "alias/not-there" in record.detail["reason"]
    (event,) = [e for e in sim.trace.events() if e.actor == "Faults" and e.action != "Armed"]
    assert (event.action, event.outcome) == ("DisableKey", "skipped")
    assert sim.audit.events("FaultInjected")[-1]["additionalEventData"] == {"outcome": "skipped"}


def test_a_snapshot_call_fault_acts_on_the_snapshots_key(sim: Simulation) -> None:
    key = sim.kms.create_key()
    volume = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
    sim.advance(seconds=60)
    snapshot = sim.ebs.create_snapshot(volume_id=volume.volume_id)
    sim.advance(seconds=3600)
    sim.faults.inject(Fault(OnCall("ec2:DeleteSnapshot"), DisableKey()))
    sim.ebs.delete_snapshot(snapshot_id=snapshot.snapshot_id)
    assert sim.kms.describe_key(key_id=key.arn).key_state == "Disabled"
