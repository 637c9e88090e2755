"""Bad input gets the EC2-named error and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from ebs_support import DEVICE, INSTANCE, attached

from simulator import Simulation
from simulator.errors import (
    IncorrectState,
    InvalidAttachmentNotFound,
    InvalidParameterDependency,
    InvalidParameterValue,
    InvalidSnapshotNotFound,
    InvalidVolumeNotFound,
    MissingParameter,
    VolumeInUse,
)


def fingerprint(sim: Simulation) -> Any:
    return (sim.ebs.describe_volumes().volumes, sim.ebs.describe_snapshots().snapshots,
            len(sim.audit.events()), len(sim.clock.pending()))


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"size": 0}, InvalidParameterValue),
    ({"size": 65537}, InvalidParameterValue),
    ({"size": "8"}, InvalidParameterValue),
    ({"size": True}, InvalidParameterValue),
    ({}, MissingParameter),
    ({"size": 1, "kms_key_id": "alias/aws/ebs"}, InvalidParameterDependency),
    ({"size": 1, "encrypted": False, "kms_key_id": "alias/aws/ebs"}, InvalidParameterDependency),
    ({"size": 1, "availability_zone": "us-east-1a"}, InvalidParameterValue),
    ({"size": 1, "availability_zone": "us-west-2z"}, InvalidParameterValue),
    ({"size": 1, "volume_cipher": "cbc"}, InvalidParameterValue),
    ({"size": 1, "encrypted": "yes"}, InvalidParameterValue),
    ({"size": 1, "encrypted": True, "kms_key_id": 5}, InvalidParameterValue),
    ({"size": 1, "encrypted": True, "encryption_context": {"aws:ebs:id": "x"}},
     InvalidParameterValue),
    ({"size": 1, "encrypted": True, "encryption_context": {"a": 1}}, InvalidParameterValue),
    ({"size": 1, "encrypted": True, "grant_tokens": "tok"}, InvalidParameterValue),
    ({"size": 1, "snapshot_id": "snap-0123456789abcdef0"}, InvalidSnapshotNotFound),
    ({"size": 1, "snapshot_id": "nope"}, InvalidParameterValue),
])
def test_create_volume_rejects_bad_input_and_changes_nothing(
        sim: Simulation, kwargs: dict[str, Any], error: type[Exception]) -> None:
    before = fingerprint(sim)
    with pytest.raises(error) as err:
        sim.ebs.create_volume(**kwargs)
    assert str(err.value)
    assert fingerprint(sim) == before


def test_kms_key_without_encrypted_has_the_aws_text(sim: Simulation) -> None:
    with pytest.raises(InvalidParameterDependency) as err:
        sim.ebs.create_volume(size=1, kms_key_id="alias/aws/ebs")
    assert err.value.message == "The parameter [KmsKeyId] requires the parameter Encrypted to be set."


@pytest.mark.parametrize("volume_id", ["vol-0123456789abcdef0", "vol-bad", 17, None])
def test_unknown_or_malformed_volume_ids(sim: Simulation, volume_id: Any) -> None:
    error = InvalidVolumeNotFound if volume_id == "vol-0123456789abcdef0" else InvalidParameterValue
    for call in (lambda: sim.ebs.describe_volumes(volume_ids=[volume_id]),
                 lambda: sim.ebs.attach_volume(volume_id=volume_id, instance_id=INSTANCE,
                                               device=DEVICE),
                 lambda: sim.ebs.detach_volume(volume_id=volume_id),
                 lambda: sim.ebs.delete_volume(volume_id=volume_id),
                 lambda: sim.ebs.block_device(volume_id),
                 lambda: sim.ebs.raw_blocks(volume_id),
                 lambda: sim.ebs.create_snapshot(volume_id=volume_id)):
        with pytest.raises(error):
            call()


def test_attach_checks_instance_device_and_state(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1, encrypted=True)
    with pytest.raises(IncorrectState):  # still creating
        sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device=DEVICE)
    sim.run_until_idle()
    before = fingerprint(sim)
    with pytest.raises(InvalidParameterValue):
        sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id="instance-1", device=DEVICE)
    with pytest.raises(InvalidParameterValue):
        sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device="sdf")
    assert fingerprint(sim) == before
    sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device=DEVICE)
    with pytest.raises(VolumeInUse):
        sim.ebs.attach_volume(volume_id=vol.volume_id, instance_id=INSTANCE, device="/dev/sdg")
    with pytest.raises(VolumeInUse):
        sim.ebs.delete_volume(volume_id=vol.volume_id)
    with pytest.raises(InvalidAttachmentNotFound):
        sim.ebs.detach_volume(volume_id=vol.volume_id, instance_id="i-0123456789abcdef9")
    other = sim.ebs.create_volume(size=1)
    sim.run_until_idle()
    with pytest.raises(InvalidParameterValue):  # device name taken on that instance
        sim.ebs.attach_volume(volume_id=other.volume_id, instance_id=INSTANCE, device=DEVICE)


def test_detach_of_a_detached_volume_is_incorrect_state(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1)
    sim.run_until_idle()
    with pytest.raises(IncorrectState):
        sim.ebs.detach_volume(volume_id=vol.volume_id)


@pytest.mark.parametrize(("offset", "length"), [
    (-1, 1), (0, -1), ("0", 1), (0, 1.5), ((1 << 30) - 1, 2), (1 << 30, 1), (True, 1)])
def test_device_refuses_out_of_range_and_bad_types(sim: Simulation, offset: Any,
                                                   length: Any) -> None:
    vol_id, dev = attached(sim)
    with pytest.raises(InvalidParameterValue):
        dev.read(offset, length)
    if isinstance(length, int) and not isinstance(length, bool) and length >= 0:
        with pytest.raises(InvalidParameterValue):
            dev.write(offset, b"x" * length)
    assert dict(sim.ebs.raw_blocks(vol_id)) == {}


def test_device_refuses_non_bytes_data(sim: Simulation) -> None:
    _, dev = attached(sim)
    with pytest.raises(InvalidParameterValue):
        dev.write(0, "text")  # type: ignore[arg-type]


def test_deleted_volume_is_gone_after_the_clock_runs(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1)
    sim.run_until_idle()
    sim.ebs.delete_volume(volume_id=vol.volume_id)
    assert sim.ebs.describe_volumes(volume_ids=[vol.volume_id]).volumes[0].state == "deleting"
    with pytest.raises(IncorrectState):
        sim.ebs.delete_volume(volume_id=vol.volume_id)
    sim.run_until_idle()
    with pytest.raises(InvalidVolumeNotFound):
        sim.ebs.describe_volumes(volume_ids=[vol.volume_id])


def test_modify_default_key_needs_a_key(sim: Simulation) -> None:
    with pytest.raises(MissingParameter):
        sim.ebs.modify_ebs_default_kms_key_id(kms_key_id=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue):
        sim.ebs.modify_ebs_default_kms_key_id(kms_key_id=42)  # type: ignore[arg-type]
    assert sim.ebs.get_ebs_default_kms_key_id().kms_key_id == "alias/aws/ebs"


def test_device_refuses_strided_and_released_views(sim: Simulation) -> None:
    _, dev = attached(sim)
    released = memoryview(b"abcd")
    released.release()
    for data in (memoryview(b"abcdef")[::2], released):
        with pytest.raises(InvalidParameterValue):
            dev.write(0, data)
    assert dev.read(0, 4) == bytes(4)


@pytest.mark.parametrize("describe", ["describe_volumes", "describe_snapshots"])
def test_describe_refuses_unhashable_ids_with_the_ec2_error(sim: Simulation, describe: str) -> None:
    key = "volume_ids" if describe == "describe_volumes" else "snapshot_ids"
    with pytest.raises(InvalidParameterValue):
        getattr(sim.ebs, describe)(**{key: [["vol-1"]]})


def test_describe_volumes_lists_a_repeated_id_once(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1)
    assert len(sim.ebs.describe_volumes(volume_ids=[vol.volume_id, vol.volume_id]).volumes) == 1


@pytest.mark.parametrize("cipher", ["xts", "gcm"])
def test_one_read_or_write_moves_at_most_16_mib(sim: Simulation, cipher: str) -> None:
    _, dev = attached(sim, size=2, volume_cipher=cipher)
    assert dev.read(0, MAX_IO_BYTES) == bytes(MAX_IO_BYTES)
    before = fingerprint(sim)
    with pytest.raises(InvalidParameterValue, match=r"parameter length .* at most 16777216 bytes"):
        dev.read(0, MAX_IO_BYTES + 1)
    with pytest.raises(InvalidParameterValue, match=r"parameter length .* at most 16777216 bytes"):
        dev.read(0, 1 << 30)  # used to allocate 1 GiB of zeros
    with pytest.raises(InvalidParameterValue, match="at most"):
        dev.write(5, bytes(MAX_IO_BYTES + 1))
    assert fingerprint(sim) == before
    assert dev.read(0, 16) == bytes(16)


MAX_IO_BYTES = 16 * 1024 * 1024
