"""Aliases: naming rules, reserved prefix, uniqueness, update rules, AWS managed aliases."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import (
    AccessDeniedException,
    AlreadyExistsException,
    InvalidAliasNameException,
    KMSInvalidStateException,
    NotFoundException,
    ValidationException,
)


def test_create_list_update_delete_alias(sim: Simulation) -> None:
    k1, k2 = sim.kms.create_key(), sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/app", target_key_id=k1.key_id)
    entry = next(a for a in sim.kms.list_aliases().aliases if a.alias_name == "alias/app")
    assert entry.target_key_id == k1.key_id
    assert entry.alias_arn == "arn:aws:kms:us-west-2:123456789012:alias/app"
    sim.kms.update_alias(alias_name="alias/app", target_key_id=k2.arn)
    assert sim.kms.describe_key(key_id="alias/app").key_id == k2.key_id
    assert [a.alias_name for a in sim.kms.list_aliases(key_id=k2.key_id).aliases] == ["alias/app"]
    sim.kms.delete_alias(alias_name="alias/app")
    with pytest.raises(NotFoundException, match="alias/app is not found"):
        sim.kms.describe_key(key_id="alias/app")


def test_alias_must_start_with_the_prefix(sim: Simulation) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException, match='Alias must start with the prefix "alias/"'):
        sim.kms.create_alias(alias_name="app", target_key_id=key.key_id)


@pytest.mark.parametrize("name", ["alias/has space", "alias/colon:x", "alias/", "alias/é"])
def test_alias_with_invalid_characters(sim: Simulation, name: str) -> None:
    key = sim.kms.create_key()
    with pytest.raises(ValidationException):
        sim.kms.create_alias(alias_name=name, target_key_id=key.key_id)


def test_aws_prefix_is_reserved(sim: Simulation) -> None:
    key = sim.kms.create_key()
    with pytest.raises(InvalidAliasNameException):
        sim.kms.create_alias(alias_name="alias/aws/mine", target_key_id=key.key_id)


def test_duplicate_alias_already_exists(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/app", target_key_id=key.key_id)
    with pytest.raises(AlreadyExistsException):
        sim.kms.create_alias(alias_name="alias/app", target_key_id=key.key_id)


def test_alias_target_must_be_a_key_id_not_an_alias(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.create_alias(alias_name="alias/app", target_key_id=key.key_id)
    with pytest.raises(NotFoundException):
        sim.kms.create_alias(alias_name="alias/other", target_key_id="alias/app")


def test_update_alias_needs_the_same_key_type(sim: Simulation) -> None:
    sym = sim.kms.create_key()
    hmac = sim.kms.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC")
    sim.kms.create_alias(alias_name="alias/app", target_key_id=sym.key_id)
    with pytest.raises(ValidationException):
        sim.kms.update_alias(alias_name="alias/app", target_key_id=hmac.key_id)
    assert sim.kms.describe_key(key_id="alias/app").key_id == sym.key_id


def test_alias_to_key_pending_deletion_is_refused(sim: Simulation) -> None:
    key = sim.kms.create_key()
    sim.kms.schedule_key_deletion(key_id=key.key_id, pending_window_in_days=7)
    with pytest.raises(KMSInvalidStateException):
        sim.kms.create_alias(alias_name="alias/app", target_key_id=key.key_id)


def test_predefined_aws_aliases_are_listed_without_target_until_first_use(sim: Simulation) -> None:
    entry = next(a for a in sim.kms.list_aliases().aliases if a.alias_name == "alias/aws/workspaces")
    assert entry.target_key_id is None
    with pytest.raises(NotFoundException):
        sim.kms.encrypt(key_id="alias/aws/workspaces", plaintext=b"x")


def test_describe_key_of_predefined_alias_creates_the_aws_managed_key(sim: Simulation) -> None:
    md = sim.kms.describe_key(key_id="alias/aws/workspaces")
    assert md.key_manager == "AWS" and md.key_state == "Enabled"
    assert sim.kms.describe_key(key_id="alias/aws/workspaces").key_id == md.key_id
    entry = next(a for a in sim.kms.list_aliases().aliases if a.alias_name == "alias/aws/workspaces")
    assert entry.target_key_id == md.key_id
    assert sim.kms.get_key_rotation_status(key_id=md.key_id).key_rotation_enabled


def test_aws_managed_keys_cannot_be_managed_by_users(sim: Simulation) -> None:
    md = sim.kms.describe_key(key_id="alias/aws/ebs")
    for call in (lambda: sim.kms.disable_key(key_id=md.key_id),
                 lambda: sim.kms.schedule_key_deletion(key_id=md.key_id),
                 lambda: sim.kms.disable_key_rotation(key_id=md.key_id),
                 lambda: sim.kms.put_key_policy(key_id=md.key_id, policy="{}"),
                 lambda: sim.kms.delete_alias(alias_name="alias/aws/ebs")):
        with pytest.raises((AccessDeniedException, NotFoundException)):
            call()
    assert sim.kms.describe_key(key_id=md.key_id).key_state == "Enabled"


def test_aws_managed_key_is_usable_only_through_its_service(sim: Simulation) -> None:
    md = sim.kms.describe_key(key_id="alias/aws/workspaces")
    with pytest.raises(AccessDeniedException):
        sim.kms.generate_data_key(key_id=md.arn, key_spec="AES_256")
    via = sim.kms.with_caller(sim.root.through("workspaces", sim.region))
    dk = via.generate_data_key(key_id="alias/aws/workspaces", key_spec="AES_256")
    with pytest.raises(AccessDeniedException):
        sim.kms.decrypt(ciphertext_blob=dk.ciphertext_blob)
    wrong_service = sim.kms.with_caller(sim.root.through("ec2", sim.region))
    with pytest.raises(AccessDeniedException):
        wrong_service.decrypt(ciphertext_blob=dk.ciphertext_blob)
    assert via.decrypt(ciphertext_blob=dk.ciphertext_blob).plaintext == dk.plaintext


def test_describe_key_of_another_accounts_predefined_alias_arn_is_not_found(sim: Simulation) -> None:
    other = f"arn:aws:kms:{sim.region}:111111111111:alias/aws/ebs"
    with pytest.raises(NotFoundException):
        sim.kms.describe_key(key_id=other)
    assert sim.kms.list_keys().keys == ()  # no AWS managed key was created for it


@pytest.mark.parametrize("limit", [0, 101, 1000])
def test_list_aliases_limit_is_1_to_100(sim: Simulation, limit: int) -> None:
    with pytest.raises(ValidationException):
        sim.kms.list_aliases(limit=limit)


def test_list_aliases_accepts_a_limit_of_100(sim: Simulation) -> None:
    assert sim.kms.list_aliases(limit=100).truncated is False
