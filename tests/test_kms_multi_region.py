"""Multi-Region keys: CreateKey(MultiRegion), ReplicateKey, UpdatePrimaryRegion, DescribeKey's
MultiRegionConfiguration, shared material and rotation, and the deletion rules for primaries
with replicas (KMS Developer Guide, "Multi-Region keys in AWS KMS")."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from simulator import Simulation
from simulator.errors import (
    AccessDeniedException,
    AlreadyExistsException,
    DisabledException,
    InvalidCiphertextException,
    KMSInvalidStateException,
    MalformedPolicyDocumentException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from simulator.kms.multi_region_ops import REPLICA_CREATION_SECONDS

EAST = "us-east-1"


def _mrk(sim: Simulation) -> tuple[str, object]:
    key = sim.kms.create_key(multi_region=True, description="primary")
    result = sim.kms.replicate_key(key_id=key.key_id, replica_region=EAST, description="replica")
    sim.advance(REPLICA_CREATION_SECONDS)
    return key.key_id, result


def test_a_multi_region_key_has_an_mrk_id_and_a_primary_configuration():
    sim = Simulation(seed=1)
    md = sim.kms.create_key(multi_region=True)
    assert re.fullmatch(r"mrk-[0-9a-f]{32}", md.key_id)
    assert md.multi_region
    config = md.multi_region_configuration
    assert config is not None and config.multi_region_key_type == "PRIMARY"
    assert config.primary_key.arn == md.arn and config.primary_key.region == sim.region
    assert config.replica_keys == ()
    assert sim.kms.create_key().multi_region_configuration is None


def test_replicate_key_makes_a_replica_with_the_same_id_in_the_other_region():
    sim = Simulation(seed=1)
    key = sim.kms.create_key(multi_region=True)
    result = sim.kms.replicate_key(key_id=key.arn, replica_region=EAST, description="r")
    replica = result.replica_key_metadata
    assert replica.key_id == key.key_id
    assert replica.arn == f"arn:aws:kms:{EAST}:{sim.account_id}:key/{key.key_id}"
    assert replica.key_state == "Creating" and replica.description == "r"
    east = sim.view(region=EAST)
    with pytest.raises(KMSInvalidStateException, match="being created"):
        east.kms.encrypt(key_id=key.key_id, plaintext=b"x")
    sim.advance(REPLICA_CREATION_SECONDS)
    md = east.kms.describe_key(key_id=key.key_id)
    assert md.key_state == "Enabled"
    config = md.multi_region_configuration
    assert config is not None and config.multi_region_key_type == "REPLICA"
    assert config.primary_key.region == sim.region
    assert [r.region for r in config.replica_keys] == [EAST]
    primary = sim.kms.describe_key(key_id=key.key_id).multi_region_configuration
    assert primary is not None and [r.arn for r in primary.replica_keys] == [replica.arn]


def test_a_blob_from_the_primary_decrypts_in_the_replica_and_back():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    east = sim.view(region=EAST)
    blob = sim.kms.encrypt(key_id=key_id, plaintext=b"west", encryption_context={"a": "1"})
    assert east.kms.decrypt(ciphertext_blob=blob.ciphertext_blob,
                            encryption_context={"a": "1"}).plaintext == b"west"
    back = east.kms.encrypt(key_id=key_id, plaintext=b"east").ciphertext_blob
    assert sim.kms.decrypt(ciphertext_blob=back).plaintext == b"east"


def test_a_single_region_keys_blob_does_not_decrypt_in_another_region():
    sim = Simulation(seed=1)
    key = sim.kms.create_key()
    blob = sim.kms.encrypt(key_id=key.key_id, plaintext=b"x").ciphertext_blob
    with pytest.raises(InvalidCiphertextException):
        sim.view(region=EAST).kms.decrypt(ciphertext_blob=blob)


def test_rotating_the_primary_reaches_the_replicas():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    east = sim.view(region=EAST)
    sim.kms.rotate_key_on_demand(key_id=key_id)
    new = sim.kms.describe_key(key_id=key_id).current_key_material_id
    assert east.kms.describe_key(key_id=key_id).current_key_material_id == new
    blob = sim.kms.encrypt(key_id=key_id, plaintext=b"after").ciphertext_blob
    assert east.kms.decrypt(ciphertext_blob=blob).key_material_id == new
    sim.kms.enable_key_rotation(key_id=key_id, rotation_period_in_days=90)
    assert east.kms.get_key_rotation_status(key_id=key_id).key_rotation_enabled
    sim.advance(timedelta(days=91))
    auto = sim.kms.describe_key(key_id=key_id).current_key_material_id
    assert auto != new
    assert east.kms.describe_key(key_id=key_id).current_key_material_id == auto


def test_rotation_is_managed_on_the_primary_only():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    with pytest.raises(UnsupportedOperationException, match="replica"):
        sim.view(region=EAST).kms.enable_key_rotation(key_id=key_id)


def test_replicating_a_replica_or_a_single_region_key_is_unsupported():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    with pytest.raises(UnsupportedOperationException, match="replica key"):
        sim.view(region=EAST).kms.replicate_key(key_id=key_id, replica_region="eu-west-1")
    single = sim.kms.create_key()
    with pytest.raises(UnsupportedOperationException, match="not a multi-Region key"):
        sim.kms.replicate_key(key_id=single.key_id, replica_region=EAST)


def test_one_replica_per_region_and_none_in_the_primarys_own_region():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    for region in (EAST, sim.region):
        with pytest.raises(AlreadyExistsException):
            sim.kms.replicate_key(key_id=key_id, replica_region=region)


@pytest.mark.parametrize("region", ["moon-1", "us-gov-west-1", "", 3])
def test_replica_regions_must_be_aws_partition_regions(region):
    sim = Simulation(seed=1)
    key = sim.kms.create_key(multi_region=True)
    with pytest.raises(ValidationException):
        sim.kms.replicate_key(key_id=key.key_id, replica_region=region)


def test_a_disabled_primary_cannot_be_replicated():
    sim = Simulation(seed=1)
    key = sim.kms.create_key(multi_region=True)
    sim.kms.disable_key(key_id=key.key_id)
    with pytest.raises(DisabledException):
        sim.kms.replicate_key(key_id=key.key_id, replica_region=EAST)
    assert sim.view(region=EAST).kms.list_keys().keys == ()


def test_the_replica_has_its_own_key_policy_aliases_and_state():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    east = sim.view(region=EAST)
    east.kms.create_alias(alias_name="alias/east", target_key_id=key_id)
    east.kms.disable_key(key_id=key_id)
    assert sim.kms.describe_key(key_id=key_id).key_state == "Enabled"
    with pytest.raises(NotFoundException):
        sim.kms.describe_key(key_id="alias/east")


def test_update_primary_region_swaps_the_primary_and_the_replica():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    east = sim.view(region=EAST)
    sim.kms.update_primary_region(key_id=key_id, primary_region=EAST)
    assert east.kms.describe_key(
        key_id=key_id).multi_region_configuration.multi_region_key_type == "PRIMARY"
    west = sim.kms.describe_key(key_id=key_id).multi_region_configuration
    assert west.multi_region_key_type == "REPLICA" and west.primary_key.region == EAST
    # now only the new primary replicates and rotates
    with pytest.raises(UnsupportedOperationException):
        sim.kms.rotate_key_on_demand(key_id=key_id)
    east.kms.rotate_key_on_demand(key_id=key_id)
    assert (sim.kms.describe_key(key_id=key_id).current_key_material_id
            == east.kms.describe_key(key_id=key_id).current_key_material_id)
    # recorded in both Regions, as one shared event
    (mine,) = sim.view().audit.events("UpdatePrimaryRegion")
    (theirs,) = east.audit.events("UpdatePrimaryRegion")
    assert mine["sharedEventID"] == theirs["sharedEventID"]


def test_update_primary_region_needs_a_replica_there():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    with pytest.raises(NotFoundException, match="eu-west-1"):
        sim.kms.update_primary_region(key_id=key_id, primary_region="eu-west-1")
    with pytest.raises(UnsupportedOperationException):
        sim.view(region=EAST).kms.update_primary_region(key_id=key_id, primary_region=EAST)


def test_a_primary_with_replicas_waits_for_them_before_its_own_waiting_period():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    east = sim.view(region=EAST)
    result = sim.kms.schedule_key_deletion(key_id=key_id, pending_window_in_days=7)
    assert result.key_state == "PendingReplicaDeletion" and result.deletion_date is None
    md = sim.kms.describe_key(key_id=key_id)
    assert md.key_state == "PendingReplicaDeletion" and md.pending_deletion_window_in_days == 7
    with pytest.raises(KMSInvalidStateException, match="pending replica deletion"):
        sim.kms.encrypt(key_id=key_id, plaintext=b"x")
    with pytest.raises(KMSInvalidStateException):
        sim.kms.replicate_key(key_id=key_id, replica_region="eu-west-1")
    sim.advance(timedelta(days=30))
    assert sim.kms.describe_key(key_id=key_id).key_state == "PendingReplicaDeletion"
    east.kms.schedule_key_deletion(key_id=key_id, pending_window_in_days=7)
    sim.advance(timedelta(days=7))  # the replica is deleted; the primary's 7 days start now
    md = sim.kms.describe_key(key_id=key_id)
    assert md.key_state == "PendingDeletion"
    assert md.deletion_date == sim.clock.now() + timedelta(days=7)
    sim.advance(timedelta(days=7))
    with pytest.raises(NotFoundException):
        sim.kms.describe_key(key_id=key_id)


def test_cancelling_a_primarys_pending_replica_deletion_leaves_it_disabled():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    sim.kms.schedule_key_deletion(key_id=key_id, pending_window_in_days=7)
    sim.kms.cancel_key_deletion(key_id=key_id)
    assert sim.kms.describe_key(key_id=key_id).key_state == "Disabled"


def test_replicate_key_is_recorded_in_both_regions():
    sim = Simulation(seed=1)
    key_id, _ = _mrk(sim)
    assert len(sim.view().audit.events("ReplicateKey")) == 1
    (created,) = sim.view(region=EAST).audit.events("CreateKey")
    assert created["resources"][0]["ARN"].endswith(key_id)


def test_replicate_key_needs_create_key_in_the_callers_iam_policy():
    sim = Simulation(seed=1)
    key = sim.kms.create_key(multi_region=True)
    user = sim.iam.create_user(user_name="ops")
    sim.iam.put_user_policy(user_name="ops", policy_name="p", policy_document=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ReplicateKey",'
        '"Resource":"*"}]}'))
    with pytest.raises(AccessDeniedException, match="kms:CreateKey"):
        sim.as_principal(user.arn).kms.replicate_key(key_id=key.key_id, replica_region=EAST)
    assert sim.view(region=EAST).kms.list_keys().keys == ()


def test_grant_tokens_of_a_multi_region_key_work_at_once():
    sim = Simulation(seed=1, grant_propagation_seconds=60)
    key = sim.kms.create_key(multi_region=True)
    user = sim.iam.create_user(user_name="app")
    grant = sim.kms.create_grant(key_id=key.key_id, grantee_principal=user.arn,
                                 operations=["Encrypt"])
    out = sim.as_principal(user.arn).kms.encrypt(key_id=key.arn, plaintext=b"x",
                                                 grant_tokens=[grant.grant_token])
    assert out.key_id == key.arn


def test_a_refused_replicate_key_leaves_the_other_region_untouched():
    sim = Simulation(seed=1)
    key = sim.kms.create_key(multi_region=True)
    with pytest.raises(MalformedPolicyDocumentException):
        sim.kms.replicate_key(key_id=key.key_id, replica_region=EAST, policy="{not json")
    assert sim.cells.find(sim.account_id, EAST) is None
    assert sim.kms.describe_key(key_id=key.key_id).multi_region_configuration.replica_keys == ()
