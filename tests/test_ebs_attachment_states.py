"""AttachVolume returns ``attaching`` and DetachVolume ``detaching``; both complete on the clock."""

from __future__ import annotations

import pytest
from ebs_support import DEVICE, INSTANCE
from workspaces_support import alice_world

from simulator import Simulation
from simulator.errors import IncorrectState, VolumeInUse


def _available_volume(sim: Simulation) -> str:
    key = sim.kms.create_key()
    vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
    sim.advance(sim.settings.volume_create_seconds)
    return vol.volume_id


def _attachment_state(sim: Simulation, volume_id: str) -> str | None:
    [volume] = sim.ebs.describe_volumes(volume_ids=[volume_id]).volumes
    return volume.attachments[0].state if volume.attachments else None


def test_attach_returns_attaching_and_the_device_exists_once_attached(sim: Simulation) -> None:
    volume_id = _available_volume(sim)
    made = sim.ebs.attach_volume(volume_id=volume_id, instance_id=INSTANCE, device=DEVICE)
    assert made.state == "attaching"
    assert _attachment_state(sim, volume_id) == "attaching"
    with pytest.raises(IncorrectState):
        sim.ebs.block_device(volume_id)
    sim.advance(sim.settings.volume_attach_seconds - 1)
    assert _attachment_state(sim, volume_id) == "attaching"
    sim.advance(1)
    assert _attachment_state(sim, volume_id) == "attached"
    sim.ebs.block_device(volume_id).write(0, b"ready")


def test_detach_returns_detaching_wipes_the_key_at_once_and_frees_the_volume_later(
        sim: Simulation) -> None:
    volume_id = _available_volume(sim)
    sim.ebs.attach_volume(volume_id=volume_id, instance_id=INSTANCE, device=DEVICE)
    sim.advance(sim.settings.volume_attach_seconds)
    device = sim.ebs.block_device(volume_id)
    held = sim.ebs._state.volumes[volume_id].attachment.plaintext_data_key  # type: ignore[union-attr]
    gone = sim.ebs.detach_volume(volume_id=volume_id)
    assert gone.state == "detaching"
    assert held == bytearray(len(held))  # wiped when the call returns
    with pytest.raises(IncorrectState):
        device.read(0, 5)
    [volume] = sim.ebs.describe_volumes(volume_ids=[volume_id]).volumes
    assert (volume.state, volume.attachments[0].state) == ("in-use", "detaching")
    with pytest.raises(VolumeInUse):
        sim.ebs.attach_volume(volume_id=volume_id, instance_id=INSTANCE, device=DEVICE)
    with pytest.raises(VolumeInUse):
        sim.ebs.delete_volume(volume_id=volume_id)
    with pytest.raises(IncorrectState):
        sim.ebs.detach_volume(volume_id=volume_id)
    sim.advance(sim.settings.volume_attach_seconds)
    [volume] = sim.ebs.describe_volumes(volume_ids=[volume_id]).volumes
    assert (volume.state, volume.attachments) == ("available", ())


def test_a_workspace_waits_for_its_attachments_before_it_is_available() -> None:
    fleet = alice_world(volume_attach_seconds=10 * 60)
    sim = fleet.sim
    ws = fleet.launch(settle=False)
    sim.advance(sim.settings.encrypted_root_provisioning_seconds + 60)
    assert fleet.state(ws) == "PENDING"  # the root volume is still attaching
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    volumes = sim.workspaces.volumes(ws)
    for volume_id in (volumes.root_volume_id, volumes.user_volume_id):
        assert volume_id is not None and _attachment_state(sim, volume_id) == "attached"


def test_a_reboot_waits_for_the_detach_before_attaching_again() -> None:
    # An attachment change slower than the reboot itself (5 minutes): the attach stage polls.
    fleet = alice_world(volume_attach_seconds=6 * 60)
    sim = fleet.sim
    ws = fleet.launch()
    sim.ebs.block_device(fleet.user_volume(ws)).write(0, b"kept")
    fleet.admin.workspaces.reboot_workspaces(workspace_ids=[ws])
    sim.run_until_idle()
    assert fleet.state(ws) == "AVAILABLE"
    assert sim.ebs.block_device(fleet.user_volume(ws)).read(0, 4) == b"kept"
