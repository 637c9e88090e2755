"""Helpers for the EBS tests: a ready, attached volume in one call."""

from __future__ import annotations

from typing import Any

from simulator import Simulation
from simulator.ebs import BlockDevice

INSTANCE = "i-0123456789abcdef0"
DEVICE = "/dev/sdf"


def attach(sim: Simulation, volume_id: str, instance_id: str = INSTANCE,
           device: str = DEVICE) -> BlockDevice:
    """AttachVolume, wait until the attachment is ``attached``; the block device."""
    sim.ebs.attach_volume(volume_id=volume_id, instance_id=instance_id, device=device)
    sim.advance(sim.settings.volume_attach_seconds)
    return sim.ebs.block_device(volume_id)


def detach(sim: Simulation, volume_id: str) -> None:
    """DetachVolume and wait until the volume is ``available``."""
    sim.ebs.detach_volume(volume_id=volume_id)
    sim.advance(sim.settings.volume_attach_seconds)


def attached(sim: Simulation, *, size: int = 1, **create: Any) -> tuple[str, BlockDevice]:
    """Create (encrypted unless told otherwise), wait until available, attach; (volume id, device)."""
    create.setdefault("encrypted", True)
    vol = sim.ebs.create_volume(size=size, **create)
    sim.advance(sim.settings.volume_create_seconds)
    return vol.volume_id, attach(sim, vol.volume_id)


def cycle(sim: Simulation, volume_id: str) -> BlockDevice:
    """Detach and attach again (a reboot): the data key is decrypted anew."""
    detach(sim, volume_id)
    return attach(sim, volume_id)
