"""Helpers for the EBS tests: a ready, attached volume in one call."""

from __future__ import annotations

from typing import Any

from simulator import Simulation
from simulator.ebs import BlockDevice

INSTANCE = "i-0123456789abcdef0"
DEVICE = "/dev/sdf"


def attached(sim: Simulation, *, size: int = 1, **create: Any) -> tuple[str, BlockDevice]:
    """Create (encrypted unless told otherwise), wait until available, attach; (volume id, device)."""
    create.setdefault("encrypted", True)
    vol = sim.ebs.create_volume(size=size, **create)
    sim.advance(sim.settings.volume_create_seconds)
    sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device=DEVICE)
    return vol.volume_id, sim.ebs.block_device(vol.volume_id)


def cycle(sim: Simulation, volume_id: str) -> BlockDevice:
    """Detach and attach again (a reboot): the data key is decrypted anew."""
    sim.ebs.detach_volume(volume_id=volume_id)
    sim.ebs.attach_volume(volume_id=volume_id, instance_id=INSTANCE, device=DEVICE)
    return sim.ebs.block_device(volume_id)
