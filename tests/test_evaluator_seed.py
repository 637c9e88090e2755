"""The seed's key policy and IAM policies, decided by the evaluator."""

from __future__ import annotations

import json

import pytest
from authz_support import (
    ACCOUNT,
    KEY_ARN,
    OTHER_KEY_ARN,
    ROOT,
    decide,
    identity_policy,
    key_policy,
    make_runtime,
    user,
)

from simulator.iam.evaluator import AuthRequest, authorize_identity
from simulator.iam.service import IdentityAndAccessManagement
from simulator.seed import (
    SEED_KEY_POLICY,
    SEED_KEY_POLICY_WITHOUT_ROOT,
    SEED_KMS_KEY_SCOPED_POLICY,
    SEED_KMS_USER_POLICY,
    SEED_WORKSPACES_ADMIN_POLICY,
    seed_key_policy,
    seed_key_scoped_policy,
)

ALICE = user("Alice")
BOB = user("Bob")
THROUGH_WORKSPACES = ALICE.through("workspaces", "us-west-2")
SEED = key_policy(SEED_KEY_POLICY)
SEED_NO_ROOT = key_policy(SEED_KEY_POLICY_WITHOUT_ROOT)
# Only the seed's key-user statements (3 and 4): no root, no administrator statement.
USER_STATEMENTS = key_policy(json.dumps(
    {"Version": "2012-10-17", "Statement": json.loads(SEED_KEY_POLICY)["Statement"][2:]}))


def grant_conditions(caller):  # what KMS puts in for CreateGrant
    conds = {"kms:GrantIsForAWSResource": caller.via_service is not None,
             "kms:CallerAccount": caller.account_id}
    if caller.via_service:
        conds["kms:ViaService"] = caller.via_service
    return conds


def test_seed_policies_parse_with_existing_principals():
    rt = make_runtime()
    iam = IdentityAndAccessManagement(rt)
    iam.create_user(user_name="Alice")
    doc = key_policy(SEED_KEY_POLICY, iam)
    assert len(doc.statements) == 4
    for text in (SEED_WORKSPACES_ADMIN_POLICY, SEED_KMS_USER_POLICY, SEED_KMS_KEY_SCOPED_POLICY):
        assert identity_policy(text).statements


def test_seed_key_policy_is_refused_while_alice_does_not_exist():
    from simulator.errors import MalformedPolicyDocumentException

    iam = IdentityAndAccessManagement(make_runtime())
    with pytest.raises(MalformedPolicyDocumentException, match="invalid principals"):
        key_policy(SEED_KEY_POLICY, iam)


def test_create_grant_by_alice_through_workspaces_is_allowed_by_the_grant_statement():
    d = decide(THROUGH_WORKSPACES, "kms:CreateGrant", policy=USER_STATEMENTS,
               conditions=grant_conditions(THROUGH_WORKSPACES))
    assert d.allowed and d.reason == "key-policy"


def test_create_grant_by_alice_directly_is_denied_by_the_grant_statement():
    d = decide(ALICE, "kms:CreateGrant", policy=USER_STATEMENTS,
               conditions=grant_conditions(ALICE))
    assert not d.allowed and d.reason == "implicit-deny"
    assert "because no resource-based policy allows the kms:CreateGrant action" in d.message


def test_list_and_revoke_grants_need_the_service_too_under_the_grant_statement():
    for action in ("kms:ListGrants", "kms:RevokeGrant"):
        assert decide(THROUGH_WORKSPACES, action, policy=USER_STATEMENTS,
                      conditions=grant_conditions(THROUGH_WORKSPACES)).allowed
        assert not decide(ALICE, action, policy=USER_STATEMENTS,
                          conditions=grant_conditions(ALICE)).allowed


def test_the_full_seed_policy_lets_alice_create_grants_directly_as_key_administrator():
    # The administrator statement's kms:Create* covers CreateGrant with no condition.
    d = decide(ALICE, "kms:CreateGrant", policy=SEED, conditions=grant_conditions(ALICE))
    assert d.allowed and d.reason == "key-policy"


def test_alice_uses_the_key_through_the_key_users_statement():
    for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey",
                   "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"):
        assert decide(ALICE, action, policy=USER_STATEMENTS).allowed, action


def test_seed_literal_reencrypt_entry_covers_neither_reencrypt_permission():
    for action in ("kms:ReEncryptFrom", "kms:ReEncryptTo"):
        assert not decide(ALICE, action, policy=USER_STATEMENTS).allowed


def test_principal_without_iam_policy_is_denied_when_only_the_account_statement_could_allow():
    d = decide(BOB, "kms:Decrypt", policy=SEED)
    assert not d.allowed
    assert d.message == (
        f"User: {BOB.arn} is not authorized to perform: kms:Decrypt on resource: {KEY_ARN} "
        "because no identity-based policy allows the kms:Decrypt action")


def test_seed_kms_user_policy_allows_describe_and_create_grant_through_the_root_statement():
    iam = [identity_policy(SEED_KMS_USER_POLICY)]
    for action in ("kms:CreateGrant", "kms:DescribeKey", "kms:ListGrants"):
        d = decide(BOB, action, policy=SEED, iam=iam)
        assert d.allowed and d.reason == "iam", action
    assert not decide(BOB, "kms:Decrypt", policy=SEED, iam=iam).allowed


def test_iam_policies_count_with_the_root_statement_and_not_without_it():
    iam = [identity_policy(SEED_KMS_USER_POLICY)]
    assert decide(BOB, "kms:DescribeKey", policy=SEED, iam=iam).allowed
    d = decide(BOB, "kms:DescribeKey", policy=SEED_NO_ROOT, iam=iam)
    assert not d.allowed
    assert "because no resource-based policy allows the kms:DescribeKey action" in d.message


def test_root_is_denied_when_the_root_statement_is_removed():
    assert decide(ROOT, "kms:Decrypt", policy=SEED).allowed
    assert not decide(ROOT, "kms:Decrypt", policy=SEED_NO_ROOT).allowed


def test_seed_key_scoped_iam_policy_allows_create_grant_on_the_named_key_only():
    iam = [identity_policy(seed_key_scoped_policy(KEY_ARN))]
    assert decide(BOB, "kms:CreateGrant", policy=SEED, iam=iam).allowed
    assert not decide(BOB, "kms:CreateGrant", policy=SEED, iam=iam,
                      resource=OTHER_KEY_ARN).allowed
    # The verbatim sample names a key of account 111122223333: it covers none of ours.
    assert not decide(BOB, "kms:CreateGrant", policy=SEED,
                      iam=[identity_policy(SEED_KMS_KEY_SCOPED_POLICY)]).allowed


def test_seed_key_policy_for_another_administrator():
    text = seed_key_policy(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/Carol")
    doc = key_policy(text)
    assert decide(user("Carol"), "kms:Decrypt", policy=doc).allowed
    assert not decide(ALICE, "kms:Decrypt", policy=doc).allowed


def test_seed_workspaces_admin_policy_allows_workspaces_and_ds_actions_only():
    iam = [identity_policy(SEED_WORKSPACES_ADMIN_POLICY)]

    def ask(caller, action, policies=iam):
        return authorize_identity(AuthRequest(caller=caller, action=action, resource="*"),
                                  identity_policies=policies)

    assert ask(ALICE, "workspaces:CreateWorkspaces").allowed
    assert ask(ALICE, "ds:DescribeDirectories").allowed
    assert ask(ALICE, "WorkSpaces:RebootWorkspaces").allowed  # action names ignore case
    d = ask(ALICE, "ec2:CreateVolume")
    assert not d.allowed and "no identity-based policy allows the ec2:CreateVolume" in d.message
    assert not ask(BOB, "workspaces:CreateWorkspaces", []).allowed
    assert ask(ROOT, "workspaces:CreateWorkspaces", []).allowed
