"""The IAM service: users, roles, inline policies, callers, principal existence."""

from __future__ import annotations

import pytest
from authz_support import ACCOUNT, make_runtime

from simulator.errors import (
    DeleteConflictException,
    EntityAlreadyExistsException,
    IamLimitExceededException,
    IamMalformedPolicyDocumentException,
    IamValidationError,
    NoSuchEntityException,
    ValidationException,
)
from simulator.iam.principals import ebs_identity_arn, root_arn, workspaces_identity_arn
from simulator.iam.service import DEFAULT_SESSION_NAME, IdentityAndAccessManagement
from simulator.seed import SEED_KMS_USER_POLICY, SEED_WORKSPACES_ADMIN_POLICY

POLICY = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}'


@pytest.fixture
def iam() -> IdentityAndAccessManagement:
    return IdentityAndAccessManagement(make_runtime())


def test_create_user_returns_arn_id_and_date(iam):
    u = iam.create_user(user_name="Alice")
    assert u.arn == f"arn:aws:iam::{ACCOUNT}:user/Alice"
    assert u.user_name == "Alice" and u.path == "/"
    assert u.user_id.startswith("AIDA") and len(u.user_id) == 21
    assert iam.get_user(user_name="Alice") == u
    assert iam.list_users().users == [u]


def test_user_with_path_has_the_path_in_its_arn(iam):
    u = iam.create_user(user_name="Bob", path="/admins/")
    assert u.arn == f"arn:aws:iam::{ACCOUNT}:user/admins/Bob"


def test_user_names_are_unique_ignoring_case(iam):
    iam.create_user(user_name="Alice")
    with pytest.raises(EntityAlreadyExistsException):
        iam.create_user(user_name="alice")
    assert len(iam.list_users().users) == 1


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "slash/name", "é", None, 5])
def test_bad_user_names_are_validation_errors(iam, name):
    with pytest.raises(IamValidationError) as err:
        iam.create_user(user_name=name)
    assert err.value.code == "ValidationError"
    assert isinstance(err.value, ValidationException)
    assert iam.list_users().users == []


def test_user_name_of_64_allowed_characters_is_accepted(iam):
    iam.create_user(user_name="a+=,.@_-" + "b" * 56)


@pytest.mark.parametrize("path", ["", "admins", "/admins", "admins/", "/a b/", 5])
def test_bad_paths_are_validation_errors(iam, path):
    with pytest.raises(IamValidationError):
        iam.create_user(user_name="Alice", path=path)


def test_unknown_user_is_no_such_entity(iam):
    for call in (lambda: iam.get_user(user_name="Nobody"),
                 lambda: iam.delete_user(user_name="Nobody"),
                 lambda: iam.put_user_policy(user_name="Nobody", policy_name="p",
                                             policy_document=POLICY),
                 lambda: iam.list_user_policies(user_name="Nobody")):
        with pytest.raises(NoSuchEntityException) as err:
            call()
        assert err.value.code == "NoSuchEntity"


def test_inline_user_policies_put_get_list_replace_delete(iam):
    iam.create_user(user_name="Alice")
    iam.put_user_policy(user_name="Alice", policy_name="ws", policy_document=POLICY)
    iam.put_user_policy(user_name="alice", policy_name="kms",
                        policy_document=SEED_KMS_USER_POLICY)
    assert iam.list_user_policies(user_name="Alice").policy_names == ["ws", "kms"]
    got = iam.get_user_policy(user_name="Alice", policy_name="kms")
    assert got.policy_document == SEED_KMS_USER_POLICY and got.user_name == "Alice"
    iam.put_user_policy(user_name="Alice", policy_name="ws",
                        policy_document=SEED_WORKSPACES_ADMIN_POLICY)
    assert iam.get_user_policy(user_name="Alice", policy_name="ws").policy_document == (
        SEED_WORKSPACES_ADMIN_POLICY)
    iam.delete_user_policy(user_name="Alice", policy_name="ws")
    assert iam.list_user_policies(user_name="Alice").policy_names == ["kms"]
    with pytest.raises(NoSuchEntityException):
        iam.get_user_policy(user_name="Alice", policy_name="ws")
    with pytest.raises(NoSuchEntityException):
        iam.delete_user_policy(user_name="Alice", policy_name="ws")


@pytest.mark.parametrize("document", [
    "{", "[]", '{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}',
    '{"Statement":{"Effect":"Maybe","Action":"kms:*","Resource":"*"}}',
    '{"Statement":{"Effect":"Allow","Action":"kms:*"}}',
])
def test_malformed_identity_policy_is_iams_malformed_policy_document(iam, document):
    iam.create_user(user_name="Alice")
    with pytest.raises(IamMalformedPolicyDocumentException) as err:
        iam.put_user_policy(user_name="Alice", policy_name="p", policy_document=document)
    assert err.value.code == "MalformedPolicyDocument"
    assert iam.list_user_policies(user_name="Alice").policy_names == []


@pytest.mark.parametrize("document", [None, 5, {"Statement": []}, ""])
def test_non_string_or_empty_policy_document_is_a_validation_error(iam, document):
    iam.create_user(user_name="Alice")
    with pytest.raises(IamValidationError):
        iam.put_user_policy(user_name="Alice", policy_name="p", policy_document=document)


@pytest.mark.parametrize("name", ["", "x" * 129, "bad name", None])
def test_bad_policy_names_are_validation_errors(iam, name):
    iam.create_user(user_name="Alice")
    with pytest.raises(IamValidationError):
        iam.put_user_policy(user_name="Alice", policy_name=name, policy_document=POLICY)


def test_user_inline_policies_are_limited_to_2048_characters_in_total(iam):
    iam.create_user(user_name="Alice")
    actions = ",".join(f'"kms:Action{i:04d}"' for i in range(80))
    big = '{"Statement":{"Effect":"Allow","Action":[' + actions + '],"Resource":"*"}}'
    iam.put_user_policy(user_name="Alice", policy_name="a", policy_document=big)
    with pytest.raises(IamLimitExceededException, match="2048"):
        iam.put_user_policy(user_name="Alice", policy_name="b", policy_document=big)
    assert iam.list_user_policies(user_name="Alice").policy_names == ["a"]
    # replacing a policy counts only the new text
    iam.put_user_policy(user_name="Alice", policy_name="a", policy_document=big)


def test_user_with_policies_cannot_be_deleted(iam):
    iam.create_user(user_name="Alice")
    iam.put_user_policy(user_name="Alice", policy_name="p", policy_document=POLICY)
    with pytest.raises(DeleteConflictException):
        iam.delete_user(user_name="Alice")
    iam.delete_user_policy(user_name="Alice", policy_name="p")
    iam.delete_user(user_name="Alice")
    assert iam.list_users().users == []


def test_roles_mirror_users(iam):
    r = iam.create_role(role_name="Ops", path="/team/")
    assert r.arn == f"arn:aws:iam::{ACCOUNT}:role/team/Ops" and r.role_id.startswith("AROA")
    assert iam.get_role(role_name="ops") == r and iam.list_roles().roles == [r]
    with pytest.raises(EntityAlreadyExistsException):
        iam.create_role(role_name="OPS")
    iam.put_role_policy(role_name="Ops", policy_name="p", policy_document=POLICY)
    assert iam.get_role_policy(role_name="Ops", policy_name="p").policy_document == POLICY
    assert iam.list_role_policies(role_name="Ops").policy_names == ["p"]
    with pytest.raises(DeleteConflictException):
        iam.delete_role(role_name="Ops")
    iam.delete_role_policy(role_name="Ops", policy_name="p")
    iam.delete_role(role_name="Ops")
    with pytest.raises(NoSuchEntityException):
        iam.get_role(role_name="Ops")


def test_caller_for_root_user_and_role(iam):
    assert iam.caller_for(root_arn(ACCOUNT)).is_root
    u = iam.create_user(user_name="Alice")
    c = iam.caller_for(u.arn)
    assert (c.arn, c.type, c.user_name, c.principal_id) == (u.arn, "IAMUser", "Alice", u.user_id)
    r = iam.create_role(role_name="Ops", path="/team/")
    s = iam.caller_for(r.arn)
    assert s.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/Ops/{DEFAULT_SESSION_NAME}"
    assert s.type == "AssumedRole" and s.role_arn == r.arn
    assert s.principal_id == f"{r.role_id}:{DEFAULT_SESSION_NAME}"
    named = iam.caller_for(f"arn:aws:sts::{ACCOUNT}:assumed-role/Ops/batch-job")
    assert named.arn.endswith("/Ops/batch-job") and named.role_arn == r.arn


def test_caller_for_service_identities(iam):
    for arn in (ebs_identity_arn(ACCOUNT), workspaces_identity_arn(ACCOUNT)):
        c = iam.caller_for(arn)
        assert c.arn == arn and c.type == "AWSService" and c.account_id == ACCOUNT


@pytest.mark.parametrize("arn", [
    f"arn:aws:iam::{ACCOUNT}:user/Nobody", f"arn:aws:iam::{ACCOUNT}:role/Nobody",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/Nobody/s", "arn:aws:iam::111122223333:root",
    "garbage", "", None,
])
def test_caller_for_unknown_principals_is_no_such_entity(iam, arn):
    with pytest.raises(NoSuchEntityException):
        iam.caller_for(arn)


def test_caller_for_a_user_arn_with_the_wrong_path_is_no_such_entity(iam):
    iam.create_user(user_name="Alice", path="/a/")
    with pytest.raises(NoSuchEntityException):
        iam.caller_for(f"arn:aws:iam::{ACCOUNT}:user/Alice")


def test_identity_policies_follow_every_change(iam):
    iam.create_user(user_name="Alice")
    caller = iam.caller_for(f"arn:aws:iam::{ACCOUNT}:user/Alice")
    assert iam.identity_policies(caller) == ()
    iam.put_user_policy(user_name="Alice", policy_name="p", policy_document=POLICY)
    first = iam.identity_policies(caller)
    assert [d.text for d in first] == [POLICY]
    iam.delete_user_policy(user_name="Alice", policy_name="p")
    assert iam.identity_policies(caller) == ()


def test_role_sessions_get_their_roles_policies(iam):
    r = iam.create_role(role_name="Ops")
    iam.put_role_policy(role_name="Ops", policy_name="p", policy_document=POLICY)
    assert [d.text for d in iam.identity_policies(iam.caller_for(r.arn))] == [POLICY]


def test_root_and_unknown_callers_have_no_identity_policies(iam):
    from simulator.iam.principals import Caller

    assert iam.identity_policies(Caller.root(ACCOUNT)) == ()
    ghost = Caller(arn=f"arn:aws:iam::{ACCOUNT}:user/Ghost", account_id=ACCOUNT,
                   type="IAMUser", user_name="Ghost")
    assert iam.identity_policies(ghost) == ()


def test_service_identities_have_service_linked_policies_without_kms(iam):
    ws = iam.caller_for(workspaces_identity_arn(ACCOUNT))
    (doc,) = iam.identity_policies(ws)
    assert doc.applicable("ec2:CreateVolume", "*") and doc.applicable("ds:DescribeDirectories",
                                                                      "*")
    assert doc.applicable("kms:Decrypt", "*") == ()


@pytest.mark.parametrize("arn, exists", [
    ("*", True), (ACCOUNT, True), ("111122223333", True), (root_arn(ACCOUNT), True),
    ("arn:aws:iam::111122223333:root", True), ("arn:aws:sts::123456789012:root", False),
    (f"arn:aws:iam::{ACCOUNT}:user/Alice", True), (f"arn:aws:iam::{ACCOUNT}:user/Bob", False),
    (f"arn:aws:iam::{ACCOUNT}:role/Ops", True), (f"arn:aws:iam::{ACCOUNT}:role/Dev", False),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/Ops/any", True),
    ("arn:aws:iam::111122223333:user/Anyone", True),
    (ebs_identity_arn(ACCOUNT), True), ("ec2.amazonaws.com", True),
    ("not an arn", False), ("12345", False),
])
def test_principal_exists(iam, arn, exists):
    iam.create_user(user_name="Alice")
    iam.create_role(role_name="Ops")
    assert iam.principal_exists(arn) is exists


def test_a_policy_document_over_the_model_length_is_refused_before_it_is_parsed(iam):
    iam.create_user(user_name="Bob")
    statement = '{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}'
    huge = '{"Version":"2012-10-17","Statement":[' + ",".join([statement] * 3000) + "]}"
    with pytest.raises(IamValidationError, match="less than or equal to 131072"):
        iam.put_user_policy(user_name="Bob", policy_name="p", policy_document=huge)
    broken = huge[:-1]  # too long and malformed: the length is checked first
    with pytest.raises(IamValidationError, match="less than or equal to 131072"):
        iam.put_user_policy(user_name="Bob", policy_name="p", policy_document=broken)
    assert iam.list_user_policies(user_name="Bob").policy_names == []
