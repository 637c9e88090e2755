"""Snapshots share the data key; same-key restores re-wrap it, other keys re-encrypt (full copy)."""

from __future__ import annotations

import dataclasses

import pytest
from ebs_support import attach, attached

from simulator import Simulation
from simulator.errors import (
    IncorrectState,
    InvalidParameterCombination,
    InvalidParameterDependency,
    InvalidParameterValue,
    InvalidSnapshotNotFound,
    ValidationException,
)


def snapshot_of(sim: Simulation, **create: object) -> tuple[str, str, str]:
    key = sim.kms.create_key()
    vol_id, dev = attached(sim, kms_key_id=key.arn, **create)
    dev.write(1000, b"snapshot me")
    snap = sim.ebs.create_snapshot(volume_id=vol_id, description="daily")
    assert snap.state == "pending"
    sim.run_until_idle()
    return key.arn, vol_id, snap.snapshot_id


def restore(sim: Simulation, snapshot_id: str, **create: object) -> tuple[str, bytes]:
    vol = sim.ebs.create_volume(snapshot_id=snapshot_id, **create)  # type: ignore[arg-type]
    sim.run_until_idle()
    attach(sim, vol.volume_id, 'i-0123456789abcdef1', '/dev/sdh')
    return vol.volume_id, sim.ebs.block_device(vol.volume_id).read(1000, 11)


def test_snapshot_shares_key_and_data_key_lineage(sim: Simulation) -> None:
    key_arn, vol_id, snap_id = snapshot_of(sim)
    [snap] = sim.ebs.describe_snapshots(snapshot_ids=[snap_id]).snapshots
    assert snap.state == "completed" and snap.encrypted and snap.kms_key_id == key_arn
    assert snap.volume_id == vol_id and snap.data_encryption_key_id
    assert snap.description == "daily"


def test_same_key_restore_sends_generate_data_key_without_plaintext_not_re_encrypt(
        sim: Simulation) -> None:
    key_arn, _, snap_id = snapshot_of(sim)
    gdk_before = len(sim.audit.events(event_name="GenerateDataKeyWithoutPlaintext"))
    new_id, data = restore(sim, snap_id)
    assert data == b"snapshot me"
    assert sim.audit.events(event_name="ReEncrypt") == []
    events = sim.audit.events(event_name="GenerateDataKeyWithoutPlaintext")[gdk_before:]
    [event] = events
    assert event["requestParameters"]["encryptionContext"] == {"aws:ebs:id": new_id}
    assert event["userIdentity"]["invokedBy"] == "ec2.amazonaws.com"
    assert event["eventName"] == "GenerateDataKeyWithoutPlaintext"
    shown = sim.ebs.describe_volumes(volume_ids=[new_id]).volumes[0]
    assert shown.encrypted and shown.kms_key_id == key_arn and shown.snapshot_id == snap_id
    snap2 = sim.ebs.create_snapshot(volume_id=new_id)
    [orig, shown2] = sim.ebs.describe_snapshots(snapshot_ids=[snap_id, snap2.snapshot_id]).snapshots
    assert shown2.data_encryption_key_id == orig.data_encryption_key_id  # the same data key


_EBS_USER_WITHOUT_REENCRYPT = """{"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt",
     "kms:DescribeKey", "kms:CreateGrant", "ec2:*"], "Resource": "*"}]}"""


def test_same_key_restore_and_copy_need_no_re_encrypt_permission(sim: Simulation) -> None:
    _, _, snap_id = snapshot_of(sim)
    sim.iam.create_user(user_name="Dana")
    sim.iam.put_user_policy(user_name="Dana", policy_name="ebs-kms",
                            policy_document=_EBS_USER_WITHOUT_REENCRYPT)
    dana = sim.as_principal(sim.iam.get_user(user_name="Dana").arn)
    restored = dana.ebs.create_volume(snapshot_id=snap_id)
    copy = dana.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap_id)
    sim.run_until_idle()
    [volume] = sim.ebs.describe_volumes(volume_ids=[restored.volume_id]).volumes
    assert (volume.state, volume.state_reason) == ("available", None)
    [shown] = sim.ebs.describe_snapshots(snapshot_ids=[copy.snapshot_id]).snapshots
    assert shown.state == "completed"


def test_only_ec2_may_reuse_a_snapshot_data_key(sim: Simulation) -> None:
    from simulator.errors import AccessDeniedException

    key_arn, _, snap_id = snapshot_of(sim)
    blob = sim.ebs._state.snapshots[snap_id].encrypted_data_key
    with pytest.raises(AccessDeniedException):
        sim.kms.generate_data_key_without_plaintext_reusing(
            key_id=key_arn, source_ciphertext_blob=blob, source_encryption_context={},
            encryption_context={"aws:ebs:id": "vol-0"})


def test_restore_under_another_key_gets_a_new_data_key_and_reencrypted_blocks(
        sim: Simulation) -> None:
    _, vol_id, snap_id = snapshot_of(sim)
    other = sim.kms.create_key()
    new_id, data = restore(sim, snap_id, encrypted=True, kms_key_id=other.arn)
    assert data == b"snapshot me"
    assert sim.ebs.describe_volumes(volume_ids=[new_id]).volumes[0].kms_key_id == other.arn
    assert sim.ebs.raw_blocks(new_id)[0] != sim.ebs.raw_blocks(vol_id)[0]
    new_snap = sim.ebs.create_snapshot(volume_id=new_id)
    [orig, shown] = sim.ebs.describe_snapshots(
        snapshot_ids=[snap_id, new_snap.snapshot_id]).snapshots
    assert shown.data_encryption_key_id != orig.data_encryption_key_id


def test_volume_from_encrypted_snapshot_cannot_drop_encryption(sim: Simulation) -> None:
    _, _, snap_id = snapshot_of(sim)
    before = sim.ebs.describe_volumes().volumes
    with pytest.raises(InvalidParameterCombination):
        sim.ebs.create_volume(snapshot_id=snap_id, encrypted=False)
    assert sim.ebs.describe_volumes().volumes == before


def test_unencrypted_snapshot_restores_encrypted_when_asked(sim: Simulation) -> None:
    vol_id, dev = attached(sim, encrypted=False)
    dev.write(1000, b"snapshot me")
    snap = sim.ebs.create_snapshot(volume_id=vol_id)
    sim.run_until_idle()
    new_id, data = restore(sim, snap.snapshot_id, encrypted=True)
    assert data == b"snapshot me"
    assert b"snapshot me" not in sim.ebs.raw_blocks(new_id)[0]


def test_copy_snapshot_same_key_shares_lineage_and_uses_the_copy_id_as_context(
        sim: Simulation) -> None:
    key_arn, _, snap_id = snapshot_of(sim)
    copy = sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap_id)
    sim.run_until_idle()
    [shown] = sim.ebs.describe_snapshots(snapshot_ids=[copy.snapshot_id]).snapshots
    [orig] = sim.ebs.describe_snapshots(snapshot_ids=[snap_id]).snapshots
    assert shown.state == "completed" and shown.kms_key_id == key_arn
    assert shown.data_encryption_key_id == orig.data_encryption_key_id
    assert sim.audit.events(event_name="ReEncrypt") == []
    event = sim.audit.events(event_name="GenerateDataKeyWithoutPlaintext")[-1]
    assert event["requestParameters"]["encryptionContext"] == {"aws:ebs:id": copy.snapshot_id}
    _, data = restore(sim, copy.snapshot_id)
    assert data == b"snapshot me"


def test_copy_snapshot_to_a_new_key_is_a_full_reencrypted_copy(sim: Simulation) -> None:
    _, _, snap_id = snapshot_of(sim)
    other = sim.kms.create_key()
    copy = sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap_id, encrypted=True, kms_key_id=other.arn)
    sim.run_until_idle()
    [shown] = sim.ebs.describe_snapshots(snapshot_ids=[copy.snapshot_id]).snapshots
    assert shown.kms_key_id == other.arn and shown.state == "completed"
    _, data = restore(sim, copy.snapshot_id)
    assert data == b"snapshot me"


def test_copy_snapshot_refuses_encrypted_false_and_key_without_encrypted(sim: Simulation) -> None:
    _, _, snap_id = snapshot_of(sim)
    before = sim.ebs.describe_snapshots().snapshots
    with pytest.raises(InvalidParameterCombination):
        sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap_id, encrypted=False)
    with pytest.raises(InvalidParameterDependency):
        sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap_id, kms_key_id="alias/aws/ebs")
    assert sim.ebs.describe_snapshots().snapshots == before


def test_encryption_by_default_encrypts_snapshot_copies(sim: Simulation) -> None:
    vol_id, _ = attached(sim, encrypted=False)
    snap = sim.ebs.create_snapshot(volume_id=vol_id)
    sim.run_until_idle()
    sim.ebs.enable_ebs_encryption_by_default()
    copy = sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap.snapshot_id)
    [shown] = sim.ebs.describe_snapshots(snapshot_ids=[copy.snapshot_id]).snapshots
    assert shown.encrypted


def test_create_snapshot_response_leaves_out_the_data_encryption_key_id(sim: Simulation) -> None:
    key = sim.kms.create_key()
    vol_id, _ = attached(sim, kms_key_id=key.arn)
    made = sim.ebs.create_snapshot(volume_id=vol_id)
    assert made.data_encryption_key_id is None
    [shown] = sim.ebs.describe_snapshots(snapshot_ids=[made.snapshot_id]).snapshots
    assert shown.data_encryption_key_id


def test_copy_snapshot_returns_only_the_new_id_and_its_tags(sim: Simulation) -> None:
    _, _, snap_id = snapshot_of(sim)
    copy = sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap_id)
    assert dataclasses.asdict(copy) == {"snapshot_id": copy.snapshot_id, "tags": ()}
    assert copy.snapshot_id != snap_id


def test_pending_snapshot_cannot_be_restored_and_deleted_is_gone(sim: Simulation) -> None:
    vol_id, _ = attached(sim)
    snap = sim.ebs.create_snapshot(volume_id=vol_id)
    with pytest.raises(IncorrectState):
        sim.ebs.create_volume(snapshot_id=snap.snapshot_id)
    sim.ebs.delete_snapshot(snapshot_id=snap.snapshot_id)
    with pytest.raises(InvalidSnapshotNotFound):
        sim.ebs.describe_snapshots(snapshot_ids=[snap.snapshot_id])
    sim.run_until_idle()
    assert sim.ebs.describe_snapshots().snapshots == ()


def test_copy_snapshot_requires_a_source_region_holding_the_snapshot(
        sim: Simulation) -> None:
    _, _, snap_id = snapshot_of(sim)
    before = sim.ebs.describe_snapshots().snapshots
    with pytest.raises(ValidationException, match="missing required parameter 'source_region'"):
        sim.ebs.copy_snapshot(source_snapshot_id=snap_id)  # type: ignore[call-arg]
    with pytest.raises(InvalidSnapshotNotFound, match="us-east-1"):
        sim.ebs.copy_snapshot(source_region="us-east-1", source_snapshot_id=snap_id)
    for bad in ("", "west", 7):
        with pytest.raises(InvalidParameterValue, match="SourceRegion"):
            sim.ebs.copy_snapshot(source_region=bad, source_snapshot_id=snap_id)  # type: ignore[arg-type]
    assert sim.ebs.describe_snapshots().snapshots == before
    copy = sim.ebs.copy_snapshot(source_region=sim.region, source_snapshot_id=snap_id)
    assert copy.snapshot_id != snap_id
