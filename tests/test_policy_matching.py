"""Action, resource and principal matching of compiled statements."""

from __future__ import annotations

import pytest
from authz_support import ACCOUNT, KEY_ARN, ROOT, identity_policy, key_policy, user

from simulator.iam.principals import Caller


def actions_matched(pattern: str, candidates: list[str]) -> set[str]:
    doc = identity_policy('{"Statement":{"Effect":"Allow","Action":"' + pattern
                          + '","Resource":"*"}}')
    st = doc.statements[0]
    return {a for a in candidates if st.matches_action(a)}


KMS_ACTIONS = [
    "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateMac", "kms:GenerateRandom",
    "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant", "kms:CreateAlias",
    "kms:CreateKey", "kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:EnableKey",
    "kms:EnableKeyRotation", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags",
    "kms:ListAliases", "kms:ListKeys", "kms:ListRetirableGrants", "kms:PutKeyPolicy",
    "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:RetireGrant", "kms:RevokeGrant",
]


@pytest.mark.parametrize("pattern, expected", [
    ("kms:GenerateDataKey*", {"kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
                              "kms:GenerateDataKeyPair",
                              "kms:GenerateDataKeyPairWithoutPlaintext"}),
    ("kms:ReEncrypt*", {"kms:ReEncryptFrom", "kms:ReEncryptTo"}),
    ("kms:ReEncrypt", set()),
    ("kms:Create*", {"kms:CreateGrant", "kms:CreateAlias", "kms:CreateKey"}),
    ("kms:Enable*", {"kms:EnableKey", "kms:EnableKeyRotation"}),
    ("kms:Get*", {"kms:GetKeyPolicy", "kms:GetKeyRotationStatus"}),
    ("kms:*Grant*", {"kms:CreateGrant", "kms:ListGrants", "kms:ListRetirableGrants",
                     "kms:RetireGrant", "kms:RevokeGrant"}),
    ("kms:?ncrypt", {"kms:Encrypt"}),
    ("kms:decrypt", {"kms:Decrypt"}),
    ("KMS:DECRYPT", {"kms:Decrypt"}),
])
def test_action_patterns(pattern, expected):
    assert actions_matched(pattern, KMS_ACTIONS) == expected


def test_star_and_service_star_match_everything_of_their_scope():
    everything = [*KMS_ACTIONS, "ec2:CreateVolume"]
    assert actions_matched("*", everything) == set(everything)
    assert actions_matched("kms:*", everything) == set(KMS_ACTIONS)


def test_request_action_case_is_ignored():
    st = identity_policy('{"Statement":{"Effect":"Allow","Action":"kms:Decrypt",'
                         '"Resource":"*"}}').statements[0]
    assert st.matches_action("KMS:decrypt")


def test_action_wildcard_does_not_match_a_different_service():
    assert actions_matched("kms:*", ["kmsx:Decrypt", "km:Decrypt"]) == set()


def test_resources_are_case_sensitive_globs():
    st = identity_policy('{"Statement":{"Effect":"Allow","Action":"kms:*",'
                         '"Resource":"arn:aws:kms:us-west-2:123456789012:key/1234*"}}'
                         ).statements[0]
    assert st.matches_resource(KEY_ARN)
    assert not st.matches_resource(KEY_ARN.upper())
    assert not st.matches_resource("arn:aws:kms:us-east-1:123456789012:key/1234abcd")


def test_applicable_selects_statements_by_action_and_resource():
    doc = key_policy('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt",'
                     '"Resource":"*"},{"Effect":"Allow","Principal":"*",'
                     '"Action":"kms:Encrypt","Resource":"*"}]}')
    first = doc.applicable("kms:Decrypt", KEY_ARN)
    assert first == (doc.statements[0],)
    assert doc.applicable("kms:Sign", KEY_ARN) == ()


def principal_level(principal_json: str, caller: Caller) -> int:
    doc = key_policy('{"Statement":{"Effect":"Allow","Principal":' + principal_json
                     + ',"Action":"kms:*","Resource":"*"}}')
    return doc.statements[0].principal_match(caller)


def test_principal_levels():
    bob = user("Bob")
    assert principal_level('"*"', bob) == 2
    assert principal_level('{"AWS":"*"}', bob) == 2
    assert principal_level('{"AWS":"arn:aws:iam::123456789012:user/Bob"}', bob) == 2
    assert principal_level('{"AWS":"arn:aws:iam::123456789012:root"}', bob) == 1
    assert principal_level('{"AWS":"123456789012"}', bob) == 1
    assert principal_level('{"AWS":"123456789012"}', ROOT) == 2
    assert principal_level('{"AWS":"111122223333"}', bob) == 0
    assert principal_level('{"AWS":"arn:aws:iam::123456789012:user/Carol"}', bob) == 0


def test_service_principal_matches_only_that_service_identity():
    svc = Caller(arn="ec2.amazonaws.com", account_id=ACCOUNT, type="AWSService",
                 principal_id="ec2.amazonaws.com")
    assert principal_level('{"Service":"ec2.amazonaws.com"}', svc) == 2
    assert principal_level('{"Service":"ec2.amazonaws.com"}', user("Bob")) == 0
    # a user calling through EC2 is still the user, not the service principal
    assert principal_level('{"Service":"ec2.amazonaws.com"}',
                           user("Bob").through("ec2", "us-west-2")) == 0


def test_assumed_role_session_without_role_arn_is_matched_by_its_derived_role():
    session = Caller(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Ops/s", account_id=ACCOUNT,
                     type="AssumedRole")
    assert principal_level('{"AWS":"arn:aws:iam::123456789012:role/Ops"}', session) == 2
    assert principal_level('{"AWS":"arn:aws:iam::123456789012:role/Dev"}', session) == 0
