"""IAM customer managed policies: create, versions, attach/detach, and evaluation as identity
policies of the users and roles they are attached to."""

from __future__ import annotations

import pytest

from simulator import Simulation
from simulator.errors import (
    AccessDeniedException,
    DeleteConflictException,
    EntityAlreadyExistsException,
    IamInvalidInputException,
    IamLimitExceededException,
    IamMalformedPolicyDocumentException,
    IamValidationError,
    NoSuchEntityException,
)

ALLOW_KMS = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*",'
             '"Resource":"*"}]}')
DENY_DECRYPT = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt",'
                '"Resource":"*"}]}')


@pytest.fixture
def sim() -> Simulation:
    return Simulation(seed=3)


def test_create_policy_returns_arn_default_version_and_zero_attachments(sim):
    p = sim.iam.create_policy(policy_name="kms-use", policy_document=ALLOW_KMS,
                              description="use keys")
    assert p.arn == f"arn:aws:iam::{sim.account_id}:policy/kms-use"
    assert p.policy_id.startswith("ANPA") and p.default_version_id == "v1"
    assert p.attachment_count == 0 and p.is_attachable and p.description == "use keys"
    assert sim.iam.get_policy(policy_arn=p.arn) == p
    v = sim.iam.get_policy_version(policy_arn=p.arn, version_id="v1")
    assert v.document == ALLOW_KMS and v.is_default_version


def test_policy_with_a_path_has_the_path_in_its_arn(sim):
    p = sim.iam.create_policy(policy_name="x", policy_document=ALLOW_KMS, path="/team/")
    assert p.arn.endswith(":policy/team/x")


def test_duplicate_policy_name_is_entity_already_exists(sim):
    sim.iam.create_policy(policy_name="p", policy_document=ALLOW_KMS)
    with pytest.raises(EntityAlreadyExistsException):
        sim.iam.create_policy(policy_name="P", policy_document=ALLOW_KMS)


@pytest.mark.parametrize("doc", ["", "{", '{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}',
                                 '{"Statement":[{"Effect":"Allow","Principal":"*",'
                                 '"Action":"kms:*","Resource":"*"}]}'])
def test_malformed_documents_are_refused_and_nothing_is_created(sim, doc):
    with pytest.raises((IamMalformedPolicyDocumentException, IamValidationError)):
        sim.iam.create_policy(policy_name="bad", policy_document=doc)
    assert sim.iam.list_policies().policies == []


def test_a_policy_over_6144_characters_is_limit_exceeded(sim):
    big = ('{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":["'
           + '","'.join(f"arn:aws:kms:us-west-2:123456789012:key/{i:036d}" for i in range(100))
           + '"]}]}')
    with pytest.raises(IamLimitExceededException):
        sim.iam.create_policy(policy_name="big", policy_document=big)


def test_unknown_and_malformed_policy_arns(sim):
    with pytest.raises(NoSuchEntityException):
        sim.iam.get_policy(policy_arn=f"arn:aws:iam::{sim.account_id}:policy/none")
    with pytest.raises(NoSuchEntityException):
        sim.iam.get_policy(policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")
    with pytest.raises(IamInvalidInputException):
        sim.iam.get_policy(policy_arn="arn:aws:kms:us-west-2:123456789012:key/x")
    with pytest.raises(IamValidationError):
        sim.iam.get_policy(policy_arn="short")


def test_attached_policy_allows_a_user_through_the_account_statement(sim):
    key = sim.kms.create_key()
    alice = sim.iam.create_user(user_name="alice")
    as_alice = sim.as_principal(alice.arn)
    with pytest.raises(AccessDeniedException):
        as_alice.kms.describe_key(key_id=key.key_id)
    p = sim.iam.create_policy(policy_name="kms-use", policy_document=ALLOW_KMS)
    sim.iam.attach_user_policy(user_name="alice", policy_arn=p.arn)
    assert sim.iam.get_policy(policy_arn=p.arn).attachment_count == 1
    assert as_alice.kms.describe_key(key_id=key.key_id).key_id == key.key_id
    sim.iam.detach_user_policy(user_name="alice", policy_arn=p.arn)
    with pytest.raises(AccessDeniedException):
        as_alice.kms.describe_key(key_id=key.key_id)


def test_attached_policy_applies_to_sessions_of_a_role_and_a_deny_wins(sim):
    key = sim.kms.create_key()
    sim.iam.create_role(role_name="app")
    allow = sim.iam.create_policy(policy_name="allow", policy_document=ALLOW_KMS)
    deny = sim.iam.create_policy(policy_name="deny", policy_document=DENY_DECRYPT)
    sim.iam.attach_role_policy(role_name="app", policy_arn=allow.arn)
    app = sim.as_principal(f"arn:aws:iam::{sim.account_id}:role/app")
    blob = app.kms.encrypt(key_id=key.key_id, plaintext=b"x").ciphertext_blob
    assert app.kms.decrypt(ciphertext_blob=blob).plaintext == b"x"
    sim.iam.attach_role_policy(role_name="app", policy_arn=deny.arn)
    with pytest.raises(AccessDeniedException, match="explicit deny"):
        app.kms.decrypt(ciphertext_blob=blob)
    names = [a.policy_name for a in
             sim.iam.list_attached_role_policies(role_name="app").attached_policies]
    assert names == ["allow", "deny"]


def test_a_new_default_version_changes_what_attached_principals_may_do(sim):
    key = sim.kms.create_key()
    sim.iam.create_user(user_name="bob")
    p = sim.iam.create_policy(policy_name="p", policy_document=ALLOW_KMS)
    sim.iam.attach_user_policy(user_name="bob", policy_arn=p.arn)
    bob = sim.as_principal(f"arn:aws:iam::{sim.account_id}:user/bob")
    blob = bob.kms.encrypt(key_id=key.key_id, plaintext=b"x").ciphertext_blob
    narrowed = ('{"Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}')
    v2 = sim.iam.create_policy_version(policy_arn=p.arn, policy_document=narrowed)
    assert v2.version_id == "v2" and not v2.is_default_version
    assert bob.kms.decrypt(ciphertext_blob=blob).plaintext == b"x"  # v1 still the default
    sim.iam.set_default_policy_version(policy_arn=p.arn, version_id="v2")
    with pytest.raises(AccessDeniedException):
        bob.kms.decrypt(ciphertext_blob=blob)
    assert [v.version_id for v in sim.iam.list_policy_versions(policy_arn=p.arn).versions] == [
        "v1", "v2"]


def test_versions_are_limited_to_five_and_the_default_cannot_be_deleted(sim):
    p = sim.iam.create_policy(policy_name="p", policy_document=ALLOW_KMS)
    for _ in range(4):
        sim.iam.create_policy_version(policy_arn=p.arn, policy_document=ALLOW_KMS)
    with pytest.raises(IamLimitExceededException):
        sim.iam.create_policy_version(policy_arn=p.arn, policy_document=ALLOW_KMS)
    with pytest.raises(DeleteConflictException):
        sim.iam.delete_policy_version(policy_arn=p.arn, version_id="v1")
    with pytest.raises(NoSuchEntityException):
        sim.iam.get_policy_version(policy_arn=p.arn, version_id="v9")
    with pytest.raises(IamValidationError):
        sim.iam.get_policy_version(policy_arn=p.arn, version_id="1")
    sim.iam.delete_policy_version(policy_arn=p.arn, version_id="v5")
    assert sim.iam.create_policy_version(policy_arn=p.arn,
                                         policy_document=ALLOW_KMS).version_id == "v6"


def test_delete_policy_is_refused_while_attached_or_with_extra_versions(sim):
    sim.iam.create_user(user_name="u")
    p = sim.iam.create_policy(policy_name="p", policy_document=ALLOW_KMS)
    sim.iam.attach_user_policy(user_name="u", policy_arn=p.arn)
    with pytest.raises(DeleteConflictException, match="attached"):
        sim.iam.delete_policy(policy_arn=p.arn)
    with pytest.raises(DeleteConflictException, match="detach"):
        sim.iam.delete_user(user_name="u")
    sim.iam.detach_user_policy(user_name="u", policy_arn=p.arn)
    sim.iam.create_policy_version(policy_arn=p.arn, policy_document=ALLOW_KMS)
    with pytest.raises(DeleteConflictException, match="versions"):
        sim.iam.delete_policy(policy_arn=p.arn)
    sim.iam.delete_policy_version(policy_arn=p.arn, version_id="v2")
    sim.iam.delete_policy(policy_arn=p.arn)
    sim.iam.delete_user(user_name="u")
    with pytest.raises(NoSuchEntityException):
        sim.iam.get_policy(policy_arn=p.arn)


def test_role_with_attached_policy_cannot_be_deleted(sim):
    sim.iam.create_role(role_name="r")
    p = sim.iam.create_policy(policy_name="p", policy_document=ALLOW_KMS)
    sim.iam.attach_role_policy(role_name="r", policy_arn=p.arn)
    with pytest.raises(DeleteConflictException):
        sim.iam.delete_role(role_name="r")
    sim.iam.detach_role_policy(role_name="r", policy_arn=p.arn)
    sim.iam.delete_role(role_name="r")


def test_attach_is_idempotent_and_limited_to_ten_per_principal(sim):
    sim.iam.create_user(user_name="u")
    arns = [sim.iam.create_policy(policy_name=f"p{i}", policy_document=ALLOW_KMS).arn
            for i in range(11)]
    sim.iam.attach_user_policy(user_name="u", policy_arn=arns[0])
    sim.iam.attach_user_policy(user_name="u", policy_arn=arns[0])
    assert sim.iam.get_policy(policy_arn=arns[0]).attachment_count == 1
    for arn in arns[1:10]:
        sim.iam.attach_user_policy(user_name="u", policy_arn=arn)
    with pytest.raises(IamLimitExceededException):
        sim.iam.attach_user_policy(user_name="u", policy_arn=arns[10])
    assert len(sim.iam.list_attached_user_policies(user_name="u").attached_policies) == 10


def test_detaching_a_policy_that_is_not_attached_is_no_such_entity(sim):
    sim.iam.create_user(user_name="u")
    p = sim.iam.create_policy(policy_name="p", policy_document=ALLOW_KMS)
    with pytest.raises(NoSuchEntityException):
        sim.iam.detach_user_policy(user_name="u", policy_arn=p.arn)
    with pytest.raises(NoSuchEntityException):
        sim.iam.attach_user_policy(user_name="nobody", policy_arn=p.arn)


def test_list_policies_filters_by_scope_attachment_and_path(sim):
    sim.iam.create_user(user_name="u")
    a = sim.iam.create_policy(policy_name="a", policy_document=ALLOW_KMS, path="/x/")
    sim.iam.create_policy(policy_name="b", policy_document=ALLOW_KMS)
    sim.iam.attach_user_policy(user_name="u", policy_arn=a.arn)
    assert [p.policy_name for p in sim.iam.list_policies().policies] == ["a", "b"]
    assert [p.policy_name for p in sim.iam.list_policies(only_attached=True).policies] == ["a"]
    assert [p.policy_name for p in sim.iam.list_policies(path_prefix="/x/").policies] == ["a"]
    assert sim.iam.list_policies(scope="AWS").policies == []
    with pytest.raises(IamValidationError):
        sim.iam.list_policies(scope="Mine")
