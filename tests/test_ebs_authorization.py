"""EBS authorizes its callers: every EC2 action needs the caller's IAM permission on the
resource ARNs (volume, snapshot, instance), with EC2's condition keys; a denial is
UnauthorizedOperation naming caller, action and resource, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from ebs_support import DEVICE, INSTANCE, attached

from simulator import Simulation
from simulator.errors import IncorrectState, UnauthorizedOperation
from simulator.testing.world import WorkspacesWorld

ACCOUNT = "123456789012"
VOLUME_ARN = f"arn:aws:ec2:us-west-2:{ACCOUNT}:volume/"
INSTANCE_ARN = f"arn:aws:ec2:us-west-2:{ACCOUNT}:instance/{INSTANCE}"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_with(sim: Simulation, name: str, *statements: dict[str, Any]) -> Any:
    """A principal view for a new user holding ``statements`` (none: no permissions)."""
    user = sim.iam.create_user(user_name=name)
    if statements:
        sim.iam.put_user_policy(user_name=name, policy_name="p",
                                policy_document=policy(*statements))
    return sim.as_principal(user.arn)


DENY_ALL = {"Effect": "Deny", "Action": "*", "Resource": "*"}
ALLOW_EC2 = {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}


def state(sim: Simulation) -> Any:
    vols = sim.ebs.describe_volumes().volumes
    snaps = sim.ebs.describe_snapshots().snapshots
    return (vols, snaps, sim.ebs.get_ebs_default_kms_key_id(),
            sim.ebs.get_ebs_encryption_by_default(), len(sim.kms.grants.list(
                sim.kms.describe_key(key_id="alias/aws/ebs").arn)))


def _operations(vol: str, free: str, snap: str) -> dict[str, Callable[[Any], object]]:
    """Each operation, on the attached volume ``vol`` or the available volume ``free``."""
    return {
        "CreateVolume": lambda e: e.create_volume(size=1),
        "AttachVolume": lambda e: e.attach_volume(volume_id=free,
                                                  instance_id="i-0000000000000000f",
                                                  device="/dev/sdg"),
        "DetachVolume": lambda e: e.detach_volume(volume_id=vol),
        "DeleteVolume": lambda e: e.delete_volume(volume_id=free),
        "CreateSnapshot": lambda e: e.create_snapshot(volume_id=vol),
        "CopySnapshot": lambda e: e.copy_snapshot(source_snapshot_id=snap, source_region="us-west-2"),
        "DeleteSnapshot": lambda e: e.delete_snapshot(snapshot_id=snap),
        "DescribeVolumes": lambda e: e.describe_volumes(),
        "DescribeSnapshots": lambda e: e.describe_snapshots(),
        "EnableEbsEncryptionByDefault": lambda e: e.enable_ebs_encryption_by_default(),
        "DisableEbsEncryptionByDefault": lambda e: e.disable_ebs_encryption_by_default(),
        "GetEbsEncryptionByDefault": lambda e: e.get_ebs_encryption_by_default(),
        "ModifyEbsDefaultKmsKeyId": lambda e: e.modify_ebs_default_kms_key_id(
            kms_key_id="alias/mine"),
        "GetEbsDefaultKmsKeyId": lambda e: e.get_ebs_default_kms_key_id(),
        "ResetEbsDefaultKmsKeyId": lambda e: e.reset_ebs_default_kms_key_id(),
    }


OPERATIONS = sorted(_operations("", "", ""))


@pytest.fixture
def world(sim: Simulation) -> tuple[Simulation, str, str, str]:
    """An attached encrypted volume, an available one and a completed snapshot, made by the
    root."""
    vol, _ = attached(sim)
    free = sim.ebs.create_volume(size=1, encrypted=True).volume_id
    snap = sim.ebs.create_snapshot(volume_id=vol).snapshot_id
    sim.run_until_idle()
    return sim, vol, free, snap


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("statements", [(), (DENY_ALL,), (ALLOW_EC2, {
    "Effect": "Deny", "Action": "ec2:*", "Resource": "*"})], ids=["none", "deny-all", "deny-ec2"])
def test_every_ebs_operation_needs_the_callers_permission(
        world: tuple[Simulation, str, str, str], operation: str,
        statements: tuple[dict[str, Any], ...]) -> None:
    sim, vol, free, snap = world
    view = user_with(sim, "Mallory", *statements)
    before = state(sim)
    audit = len(sim.audit)
    with pytest.raises(UnauthorizedOperation) as err:
        _operations(vol, free, snap)[operation](view.ebs)
    assert err.value.http_status == 403
    message = err.value.message
    assert view.caller.arn in message and f"ec2:{operation}" in message
    assert "on resource: arn:aws:ec2:us-west-2:" in message or "on resource: *" in message
    assert len(sim.audit) == audit  # no KMS call made
    assert state(sim) == before  # nothing changed


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_ec2_allow_lets_every_operation_through(
        world: tuple[Simulation, str, str, str], operation: str) -> None:
    sim, vol, free, snap = world
    view = user_with(sim, "Ops", ALLOW_EC2)
    _operations(vol, free, snap)[operation](view.ebs)


def test_attach_needs_both_the_volume_and_the_instance(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1).volume_id
    other = sim.ebs.create_volume(size=1).volume_id
    sim.run_until_idle()
    view = user_with(sim, "Ann", {"Effect": "Allow", "Action": "ec2:AttachVolume",
                                  "Resource": [VOLUME_ARN + vol, INSTANCE_ARN]})
    with pytest.raises(UnauthorizedOperation, match=f"volume/{other}"):
        view.ebs.attach_volume(volume_id=other, instance_id=INSTANCE, device=DEVICE)
    with pytest.raises(UnauthorizedOperation, match="instance/i-00000000000000001"):
        view.ebs.attach_volume(volume_id=vol, instance_id="i-00000000000000001", device=DEVICE)
    view.ebs.attach_volume(volume_id=vol, instance_id=INSTANCE, device=DEVICE)
    assert sim.ebs.describe_volumes(volume_ids=[vol]).volumes[0].state == "in-use"


def test_ec2_encrypted_condition_allows_and_denies(sim: Simulation) -> None:
    view = user_with(sim, "Enc", ALLOW_EC2, {
        "Effect": "Deny", "Action": "ec2:CreateVolume", "Resource": "*",
        "Condition": {"Bool": {"ec2:Encrypted": "false"}}})
    with pytest.raises(UnauthorizedOperation, match="explicit deny"):
        view.ebs.create_volume(size=1)
    assert view.ebs.create_volume(size=1, encrypted=True).encrypted
    only_encrypted = user_with(sim, "Del", {
        "Effect": "Allow", "Action": "ec2:DeleteVolume", "Resource": "*",
        "Condition": {"Bool": {"ec2:Encrypted": "true"}}})
    plain = sim.ebs.create_volume(size=1).volume_id
    enc = sim.ebs.create_volume(size=1, encrypted=True).volume_id
    sim.run_until_idle()
    with pytest.raises(UnauthorizedOperation):
        only_encrypted.ebs.delete_volume(volume_id=plain)
    only_encrypted.ebs.delete_volume(volume_id=enc)


def test_ec2_volume_size_and_parent_snapshot_conditions(
        world: tuple[Simulation, str, str, str]) -> None:
    sim, _, _, snap = world
    view = user_with(sim, "Sized", {
        "Effect": "Allow", "Action": "ec2:CreateVolume", "Resource": "*",
        "Condition": {"NumericLessThanEquals": {"ec2:VolumeSize": 10},
                      "Null": {"ec2:ParentSnapshot": "false"}}})
    with pytest.raises(UnauthorizedOperation):
        view.ebs.create_volume(size=1)  # no parent snapshot
    with pytest.raises(UnauthorizedOperation):
        view.ebs.create_volume(size=20, snapshot_id=snap)
    assert view.ebs.create_volume(size=2, snapshot_id=snap).snapshot_id == snap


def test_a_user_denied_everything_cannot_read_a_workspace_volume() -> None:
    sim = Simulation(seed=7)
    world = WorkspacesWorld.build(sim, users=("jdoe",), admin="Alice")
    ws = world.launch("jdoe")
    volume = world.user_volume(ws)
    mallory = user_with(sim, "Mallory", DENY_ALL)
    with pytest.raises(UnauthorizedOperation, match="ssm:StartSession"):
        mallory.ebs.block_device(volume)
    with pytest.raises(UnauthorizedOperation):
        mallory.ebs.detach_volume(volume_id=volume)
    # WorkSpaces' own view and the root keep working.
    assert sim.ebs.block_device(volume).read(0, 16) is not None


def test_the_block_device_is_the_instances_view(sim: Simulation) -> None:
    vol, device = attached(sim)
    device.write(0, b"secret")
    ec2_only = user_with(sim, "Ec2Only", ALLOW_EC2)
    with pytest.raises(UnauthorizedOperation, match=f"instance/{INSTANCE}"):
        ec2_only.ebs.block_device(vol)
    elsewhere = user_with(sim, "Elsewhere", ALLOW_EC2, {
        "Effect": "Allow", "Action": "ssm:StartSession",
        "Resource": f"arn:aws:ec2:us-west-2:{ACCOUNT}:instance/i-00000000000000001"})
    with pytest.raises(UnauthorizedOperation):
        elsewhere.ebs.block_device(vol)
    on_instance = user_with(sim, "OnInstance", {
        "Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"})
    assert on_instance.ebs.block_device(vol).read(0, 6) == b"secret"
    sim.ebs.detach_volume(volume_id=vol)
    with pytest.raises(IncorrectState):  # not attached: no device at all
        on_instance.ebs.block_device(vol)


def test_kms_sees_the_caller_through_ec2_and_a_kms_denial_fails_the_volume(
        sim: Simulation) -> None:
    alice = sim.iam.create_user(user_name="Alice")
    key = sim.kms.create_key(policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": alice.arn},
         "Action": ["kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant", "kms:Decrypt",
                    "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}}}]}))
    sim.iam.put_user_policy(user_name="Alice", policy_name="ec2",
                            policy_document=policy(ALLOW_EC2))
    ebs = sim.as_principal(alice.arn).ebs
    good = ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
    sim.run_until_idle()
    assert sim.ebs.describe_volumes(volume_ids=[good.volume_id]).volumes[0].state == "available"
    for name in ("GenerateDataKeyWithoutPlaintext", "CreateGrant"):
        [event] = sim.audit.events(event_name=name)
        assert event["userIdentity"]["arn"] == alice.arn
        assert event["userIdentity"]["invokedBy"] == "ec2.amazonaws.com"

    # The same user without the ViaService allowance for CreateGrant: the data key is made,
    # the grant refused; the volume fails and keeps neither a data key nor a grant.
    sim.kms.put_key_policy(key_id=key.key_id, policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": {"AWS": alice.arn}, "Action": "kms:CreateGrant",
             "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": alice.arn},
             "Action": "kms:GenerateDataKeyWithoutPlaintext", "Resource": "*"}]}))
    grants = len(sim.kms.grants.list(key.arn))
    bad = ebs.create_volume(size=1, encrypted=True, kms_key_id=key.arn)
    sim.run_until_idle()
    shown = sim.ebs.describe_volumes(volume_ids=[bad.volume_id]).volumes[0]
    assert shown.state == "error" and "AccessDeniedException" in (shown.state_reason or "")
    assert "kms:CreateGrant" in (shown.state_reason or "")
    assert len(sim.kms.grants.list(key.arn)) == grants
    rec = sim._ebs_state.volumes[bad.volume_id]
    assert rec.encrypted_data_key is None and rec.grant_id is None and rec.store is None


def test_ec2_resource_tags_and_tagging_are_authorized(sim: Simulation) -> None:
    team = user_with(sim, "Team", {"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                                   "Condition": {"StringEquals": {"ec2:ResourceTag/team": "data"}}},
                     {"Effect": "Allow", "Action": ["ec2:CreateVolume", "ec2:DescribeVolumes"],
                      "Resource": "*"})
    ours = sim.ebs.create_volume(size=1, tag_specifications=[
        {"resource_type": "volume", "tags": [{"key": "team", "value": "data"}]}]).volume_id
    theirs = sim.ebs.create_volume(size=1, tag_specifications=[
        {"resource_type": "volume", "tags": [{"key": "team", "value": "web"}]}]).volume_id
    sim.run_until_idle()
    with pytest.raises(UnauthorizedOperation, match=f"volume/{theirs}"):
        team.ebs.delete_volume(volume_id=theirs)
    with pytest.raises(UnauthorizedOperation, match="ec2:CreateTags"):
        team.ebs.create_tags(resources=[theirs], tags=[{"key": "team", "value": "data"}])
    team.ebs.create_tags(resources=[ours], tags=[{"key": "owner", "value": "me"}])
    team.ebs.delete_volume(volume_id=ours)
    # Tagging at creation needs ec2:CreateTags with ec2:CreateAction = CreateVolume.
    before = sim.ebs.describe_volumes().volumes
    with pytest.raises(UnauthorizedOperation, match="ec2:CreateTags"):
        team.ebs.create_volume(size=1, tag_specifications=[
            {"resource_type": "volume", "tags": [{"key": "team", "value": "data"}]}])
    assert sim.ebs.describe_volumes().volumes == before  # nothing was created


def test_request_tags_and_tag_keys_condition_tagging(sim: Simulation) -> None:
    vol = sim.ebs.create_volume(size=1).volume_id
    view = user_with(sim, "Tagger", {
        "Effect": "Allow", "Action": ["ec2:CreateTags", "ec2:DeleteTags"], "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
                      "StringEqualsIfExists": {"aws:RequestTag/team": "data"}}})
    view.ebs.create_tags(resources=[vol], tags=[{"key": "team", "value": "data"}])
    with pytest.raises(UnauthorizedOperation):
        view.ebs.create_tags(resources=[vol], tags=[{"key": "team", "value": "web"}])
    with pytest.raises(UnauthorizedOperation):
        view.ebs.create_tags(resources=[vol], tags=[{"key": "cost", "value": "1"}])
    with pytest.raises(UnauthorizedOperation):
        view.ebs.delete_tags(resources=[vol], tags=[{"key": "cost"}])
    view.ebs.delete_tags(resources=[vol], tags=[{"key": "team"}])
    assert sim.ebs.describe_volumes(volume_ids=[vol]).volumes[0].tags == ()
