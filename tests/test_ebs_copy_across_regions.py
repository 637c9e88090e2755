"""CopySnapshot with SourceRegion another Region: the copy is made in the destination Region,
re-encrypted under a key of that Region (the one given, or its default EBS key); a key of the
source Region fails the copy (EC2 checks the key asynchronously)."""

from __future__ import annotations

import pytest
from ebs_support import attached

from simulator import Simulation
from simulator.errors import InvalidSnapshotNotFound

EAST = "us-east-1"


def _snapshot(sim: Simulation, **create: object) -> tuple[str, str]:
    key = sim.kms.create_key()
    vol_id, dev = attached(sim, kms_key_id=key.arn, **create)
    dev.write(1000, b"snapshot me")
    snap = sim.ebs.create_snapshot(volume_id=vol_id, description="daily")
    sim.run_until_idle()
    return key.arn, snap.snapshot_id


def _copy(sim: Simulation, snap_id: str, **kwargs: object):
    east = sim.view(region=EAST)
    copy = east.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap_id,
                                  **kwargs)  # type: ignore[arg-type]
    sim.run_until_idle()
    return east, east.ebs.describe_snapshots(snapshot_ids=[copy.snapshot_id]).snapshots[0]


def _read(sim: Simulation, snapshot_id: str) -> bytes:
    east = sim.view(region=EAST)
    vol = east.ebs.create_volume(snapshot_id=snapshot_id)
    sim.run_until_idle()
    east.ebs.attach_volume(volume_id=vol.volume_id, instance_id="i-0123456789abcdef1",
                           device="/dev/sdh")
    sim.run_until_idle()  # attaching -> attached
    return east.ebs.block_device(vol.volume_id).read(1000, 11)


def test_a_copy_to_another_region_is_encrypted_under_that_regions_default_ebs_key():
    sim = Simulation(seed=1)
    west_key, snap_id = _snapshot(sim)
    east, copy = _copy(sim, snap_id)
    assert copy.state == "completed" and copy.encrypted
    default = east.kms.describe_key(key_id="alias/aws/ebs").arn
    assert copy.kms_key_id == default and default.startswith(f"arn:aws:kms:{EAST}:")
    assert _read(sim, copy.snapshot_id) == b"snapshot me"
    src = sim.ebs.describe_snapshots(snapshot_ids=[snap_id]).snapshots[0]
    assert copy.data_encryption_key_id != src.data_encryption_key_id
    # the source data key was decrypted by the source Region's KMS, the new one made by ours
    assert sim.view().audit.events("Decrypt", key_arn=west_key)
    assert east.audit.events("GenerateDataKeyWithoutPlaintext", key_arn=default)
    assert not east.audit.events("Decrypt", key_arn=west_key)


def test_a_copy_to_another_region_uses_the_key_of_that_region_it_is_given():
    sim = Simulation(seed=1)
    _, snap_id = _snapshot(sim)
    east_key = sim.view(region=EAST).kms.create_key().arn
    _, copy = _copy(sim, snap_id, encrypted=True, kms_key_id=east_key)
    assert copy.state == "completed" and copy.kms_key_id == east_key
    assert _read(sim, copy.snapshot_id) == b"snapshot me"


def test_a_key_of_the_source_region_fails_the_copy():
    sim = Simulation(seed=1)
    west_key, snap_id = _snapshot(sim)
    _, copy = _copy(sim, snap_id, encrypted=True, kms_key_id=west_key)
    assert copy.state == "error"
    assert copy.state_message == "NotFoundException: Invalid arn us-west-2"


def test_a_multi_region_replica_key_is_still_a_re_encryption():
    sim = Simulation(seed=1)
    mrk = sim.kms.create_key(multi_region=True)
    sim.kms.replicate_key(key_id=mrk.key_id, replica_region=EAST)
    sim.run_until_idle()
    vol_id, dev = attached(sim, kms_key_id=mrk.arn)
    dev.write(1000, b"snapshot me")
    snap = sim.ebs.create_snapshot(volume_id=vol_id)
    sim.run_until_idle()
    replica = f"arn:aws:kms:{EAST}:{sim.account_id}:key/{mrk.key_id}"
    _, copy = _copy(sim, snap.snapshot_id, encrypted=True, kms_key_id=replica)
    assert copy.state == "completed" and copy.kms_key_id == replica
    assert _read(sim, copy.snapshot_id) == b"snapshot me"


def test_an_unencrypted_snapshot_copies_unencrypted_unless_asked():
    sim = Simulation(seed=1)
    vol_id, dev = attached(sim, encrypted=False)
    dev.write(1000, b"snapshot me")
    snap = sim.ebs.create_snapshot(volume_id=vol_id)
    sim.run_until_idle()
    _, plain = _copy(sim, snap.snapshot_id)
    assert plain.state == "completed" and not plain.encrypted
    _, enc = _copy(sim, snap.snapshot_id, encrypted=True)
    assert enc.encrypted and enc.kms_key_id is not None and EAST in enc.kms_key_id
    assert _read(sim, enc.snapshot_id) == b"snapshot me"


def test_a_region_the_account_never_used_holds_no_snapshot():
    sim = Simulation(seed=1)
    _, snap_id = _snapshot(sim)
    east = sim.view(region=EAST)
    with pytest.raises(InvalidSnapshotNotFound, match="eu-west-1"):
        east.ebs.copy_snapshot(source_region="eu-west-1", source_snapshot_id=snap_id)
    assert east.ebs.describe_snapshots().snapshots == ()
