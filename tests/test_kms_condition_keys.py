"""Every condition key KMS documents, with an Allow and a Deny, through real KMS calls.

For each key: a key policy whose statement for Bob carries a condition on the key, once with a
value the request has and once with one it lacks. Allow: the call succeeds only with the
matching value. Deny (Bob otherwise allowed everything): the call fails only with the matching
value. A key the table does not set for an operation, or does not know, is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from authz_support import KEY_ARN, ROOT, decide, key_policy, statement_policy, user

from simulator import Simulation
from simulator.errors import AccessDeniedException
from simulator.iam.principals import Caller
from simulator.kms.authz import KmsRequest, authorize_kms
from simulator.kms.conditions import CONDITION_KEYS, KEY_RESOURCE_ACTIONS, keys_for_action

ACCOUNT = "123456789012"
EC2 = "ec2.us-west-2.amazonaws.com"


@dataclass(frozen=True)
class Case:
    key: str
    operator: str
    match: object
    miss: object
    call: Callable[[Any, str], object]
    caller: Callable[[Caller], Caller] = lambda c: c
    spec: tuple[str, str] = ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")


def _encrypt(context: dict[str, str] | None = None, key: str | None = None
             ) -> Callable[[Any, str], object]:
    return lambda kms, key_id: kms.encrypt(key_id=key or key_id, plaintext=b"x",
                                           encryption_context=context)


def _grant(**kw: Any) -> Callable[[Any, str], object]:
    carol = f"arn:aws:iam::{ACCOUNT}:user/Carol"
    return lambda kms, key_id: kms.create_grant(key_id=key_id, grantee_principal=carol,
                                                operations=["Decrypt"], **kw)


def _re_encrypt(kms: Any, key_id: str) -> object:
    blob = kms.with_caller(ROOT).encrypt(key_id=key_id, plaintext=b"x").ciphertext_blob
    return kms.re_encrypt(ciphertext_blob=blob, destination_key_id=key_id)


CASES = [
    Case("kms:EncryptionAlgorithm", "StringEquals", "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256",
         _encrypt()),
    Case("kms:RequestAlias", "StringEquals", "alias/app", "alias/other",
         _encrypt(key="alias/app")),
    Case("kms:ResourceAliases", "ForAnyValue:StringEquals", "alias/app", "alias/other",
         _encrypt()),
    Case("kms:ScheduleKeyDeletionPendingWindowInDays", "NumericEquals", 7, 30,
         lambda kms, k: kms.schedule_key_deletion(key_id=k, pending_window_in_days=7)),
    Case("kms:BypassPolicyLockoutSafetyCheck", "Bool", "true", "false",
         lambda kms, k: kms.put_key_policy(
             key_id=k, policy=kms.with_caller(ROOT).get_key_policy(key_id=k).policy,
             bypass_policy_lockout_safety_check=True)),
    Case("kms:RotationPeriodInDays", "NumericEquals", 180, 90,
         lambda kms, k: kms.enable_key_rotation(key_id=k, rotation_period_in_days=180)),
    Case("kms:KeyOrigin", "StringEquals", "AWS_KMS", "EXTERNAL", _encrypt()),
    Case("kms:MultiRegion", "Bool", "false", "true", _encrypt()),
    Case("kms:KeySpec", "StringEquals", "SYMMETRIC_DEFAULT", "RSA_2048", _encrypt()),
    Case("kms:CustomerMasterKeySpec", "StringEquals", "SYMMETRIC_DEFAULT", "RSA_2048",
         _encrypt()),
    Case("kms:KeyUsage", "StringEquals", "ENCRYPT_DECRYPT", "SIGN_VERIFY", _encrypt()),
    Case("kms:GrantOperations", "ForAllValues:StringEquals", "Decrypt", "Encrypt", _grant()),
    Case("kms:GranteePrincipal", "StringEquals", f"arn:aws:iam::{ACCOUNT}:user/Carol",
         f"arn:aws:iam::{ACCOUNT}:user/Eve", _grant()),
    Case("kms:RetiringPrincipal", "StringEquals", f"arn:aws:iam::{ACCOUNT}:user/Carol",
         f"arn:aws:iam::{ACCOUNT}:user/Eve",
         _grant(retiring_principal=f"arn:aws:iam::{ACCOUNT}:user/Carol")),
    Case("kms:GrantIsForAWSResource", "Bool", "false", "true", _grant()),
    Case("kms:GrantConstraintType", "StringEquals", "EncryptionContextSubset",
         "EncryptionContextEquals",
         _grant(constraints={"encryption_context_subset": {"dept": "hr"}})),
    Case("kms:EncryptionContext:dept", "StringEquals", "hr", "it", _encrypt({"dept": "hr"})),
    Case("kms:EncryptionContextKeys", "ForAnyValue:StringEquals", "dept", "team",
         _encrypt({"dept": "hr"})),
    Case("kms:ReEncryptOnSameKey", "Bool", "true", "false", _re_encrypt),
    Case("kms:CallerAccount", "StringEquals", ACCOUNT, "111122223333", _encrypt()),
    Case("kms:ViaService", "StringEquals", EC2, "workspaces.us-west-2.amazonaws.com",
         _encrypt(), lambda c: c.through("ec2", "us-west-2")),
    Case("aws:ResourceTag/Project", "StringEquals", "alpha", "beta", _encrypt()),
    Case("aws:RequestTag/Project", "StringEquals", "gamma", "beta",
         lambda kms, k: kms.tag_resource(key_id=k, tags=[{"tag_key": "Project",
                                                          "tag_value": "gamma"}])),
    Case("aws:TagKeys", "ForAllValues:StringEquals", "Project", "Owner",
         lambda kms, k: kms.untag_resource(key_id=k, tag_keys=["Project"])),
    Case("aws:PrincipalTag/team", "StringEquals", "blue", "red", _encrypt()),
    Case("kms:SigningAlgorithm", "StringEquals", "ECDSA_SHA_256", "ECDSA_SHA_384",
         lambda kms, k: kms.sign(key_id=k, message=b"m", signing_algorithm="ECDSA_SHA_256"),
         spec=("ECC_NIST_P256", "SIGN_VERIFY")),
    Case("kms:MessageType", "StringEquals", "RAW", "DIGEST",
         lambda kms, k: kms.sign(key_id=k, message=b"m", signing_algorithm="ECDSA_SHA_256"),
         spec=("ECC_NIST_P256", "SIGN_VERIFY")),
    Case("kms:MacAlgorithm", "StringEquals", "HMAC_SHA_256", "HMAC_SHA_512",
         lambda kms, k: kms.generate_mac(key_id="alias/app", message=b"m",
                                         mac_algorithm="HMAC_SHA_256"),
         spec=("HMAC_256", "GENERATE_VERIFY_MAC")),
    Case("kms:DataKeyPairSpec", "StringEquals", "ECC_NIST_P256", "RSA_2048",
         lambda kms, k: kms.generate_data_key_pair_without_plaintext(
             key_id=k, key_pair_spec="ECC_NIST_P256")),
    Case("aws:PrincipalArn", "ArnEquals", f"arn:aws:iam::{ACCOUNT}:user/Bob",
         f"arn:aws:iam::{ACCOUNT}:user/Eve", _encrypt()),
    Case("aws:PrincipalAccount", "StringEquals", ACCOUNT, "111122223333", _encrypt()),
    Case("aws:PrincipalType", "StringEquals", "User", "AssumedRole", _encrypt()),
    Case("aws:username", "StringEquals", "Bob", "Eve", _encrypt()),
    Case("aws:CurrentTime", "DateGreaterThan", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z",
         _encrypt()),
    Case("aws:EpochTime", "NumericGreaterThan", 0, 9_999_999_999, _encrypt()),
    Case("aws:SourceIp", "IpAddress", "10.0.0.0/8", "192.168.0.0/16", _encrypt(),
         lambda c: c.over(source_ip="10.1.2.3", secure_transport=True)),
    Case("aws:SecureTransport", "Bool", "true", "false", _encrypt(),
         lambda c: c.over(source_ip="10.1.2.3", secure_transport=True)),
]


def _policy(effect: str, statement: dict[str, Any], bob: str) -> str:
    root = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*", "Resource": "*"}
    bob_all = {"Sid": "Bob", "Effect": "Allow", "Principal": {"AWS": bob}, "Action": "kms:*",
               "Resource": "*"}
    cond = {"Sid": "Cond", "Effect": effect, "Principal": {"AWS": bob}, "Action": "kms:*",
            "Resource": "*", **statement}
    stmts = [root, cond] if effect == "Allow" else [root, bob_all, cond]
    return json.dumps({"Version": "2012-10-17", "Statement": stmts})


def _run(case: Case, effect: str, value: object) -> bool:
    """Whether Bob's call succeeds under a policy whose ``effect`` statement has the case's
    condition with ``value``."""
    sim = Simulation(seed=3)
    bob = sim.iam.create_user(user_name="Bob", tags=[{"key": "team", "value": "blue"}])
    sim.iam.create_user(user_name="Carol")
    cond = {"Condition": {case.operator: {case.key: value}}}
    key_spec, usage = case.spec
    key = sim.kms.create_key(policy=_policy(effect, cond, bob.arn), key_spec=key_spec,
                             key_usage=None if key_spec == "SYMMETRIC_DEFAULT" else usage,
                             tags=[{"tag_key": "Project", "tag_value": "alpha"}])
    sim.kms.create_alias(alias_name="alias/app", target_key_id=key.key_id)
    kms = sim.kms.with_caller(case.caller(sim.iam.caller_for(bob.arn)))
    try:
        case.call(kms, key.key_id)
    except AccessDeniedException as err:
        assert bob.arn in err.message
        return False
    return True


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_an_allow_on_the_key_matches_only_its_value(case: Case) -> None:
    assert _run(case, "Allow", case.match)
    assert not _run(case, "Allow", case.miss)


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_a_deny_on_the_key_applies_only_to_its_value(case: Case) -> None:
    assert not _run(case, "Deny", case.match)
    assert _run(case, "Deny", case.miss)


def test_aws_userid_is_the_users_unique_id() -> None:
    sim = Simulation(seed=3)
    bob = sim.iam.create_user(user_name="Bob")
    for effect, value, ok in (("Allow", bob.user_id, True), ("Allow", "AIDANOTBOB", False),
                              ("Deny", bob.user_id, False), ("Deny", "AIDANOTBOB", True)):
        key = sim.kms.create_key(policy=_policy(
            effect, {"Condition": {"StringEquals": {"aws:userid": value}}}, bob.arn))
        try:
            sim.as_principal(bob.arn).kms.encrypt(key_id=key.key_id, plaintext=b"x")
            assert ok
        except AccessDeniedException:
            assert not ok


def test_create_key_conditions_come_from_the_request() -> None:
    sim = Simulation(seed=3)
    sim.iam.create_user(user_name="Dev")
    sim.iam.put_user_policy(user_name="Dev", policy_name="p", policy_document=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*",
             "Condition": {"StringEquals": {"kms:KeySpec": "SYMMETRIC_DEFAULT",
                                            "aws:RequestTag/Project": "alpha"},
                           "ForAllValues:StringEquals": {"aws:TagKeys": ["Project"]},
                           "Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false"}}}]}))
    dev = sim.as_principal(f"arn:aws:iam::{ACCOUNT}:user/Dev").kms
    dev.create_key(tags=[{"tag_key": "Project", "tag_value": "alpha"}])
    for kwargs in ({"tags": [{"tag_key": "Project", "tag_value": "beta"}]},
                   {"tags": [{"tag_key": "Project", "tag_value": "alpha"},
                             {"tag_key": "Owner", "tag_value": "x"}]},
                   {"key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY",
                    "tags": [{"tag_key": "Project", "tag_value": "alpha"}]},
                   {}):
        with pytest.raises(AccessDeniedException):
            dev.create_key(**kwargs)


def test_a_key_the_operation_does_not_set_is_absent() -> None:
    # ScheduleKeyDeletion's window is not part of an Encrypt request: a StringEquals on it
    # fails (an Allow does not apply), a negated operator holds, a Null test says absent.
    for operator, value, allowed in (("NumericEquals", 30, False),
                                     ("NumericNotEquals", 30, True),
                                     ("Null", "true", True)):
        case = Case("kms:ScheduleKeyDeletionPendingWindowInDays", operator, value, value,
                    _encrypt())
        assert _run(case, "Allow", value) is allowed


@pytest.mark.parametrize(("operator", "applies"), [
    ("StringEquals", False), ("StringNotEquals", True), ("StringEqualsIfExists", True)])
def test_an_unknown_key_behaves_as_an_absent_key(operator: str, applies: bool) -> None:
    case = Case("kms:NoSuchConditionKey", operator, "x", "x", _encrypt())
    assert _run(case, "Allow", "x") is applies
    assert _run(case, "Deny", "x") is not applies


def test_every_kms_key_the_table_lists_is_documented_for_its_actions() -> None:
    names = {row.name for row in CONDITION_KEYS}
    assert len(names) == len(CONDITION_KEYS)  # one row per key
    for row in CONDITION_KEYS:
        assert row.actions is None or row.actions <= KEY_RESOURCE_ACTIONS | {"kms:CreateKey"}
    assert "kms:SigningAlgorithm" in keys_for_action("kms:Sign")
    assert "kms:SigningAlgorithm" not in keys_for_action("kms:Encrypt")
    assert "aws:ResourceTag/" not in keys_for_action("kms:CreateKey")


@pytest.mark.parametrize(("action", "key", "value", "other"), [
    ("kms:Sign", "kms:SigningAlgorithm", "ECDSA_SHA_256", "RSASSA_PSS_SHA_256"),
    ("kms:Verify", "kms:MessageType", "RAW", "DIGEST"),
    ("kms:GenerateMac", "kms:MacAlgorithm", "HMAC_SHA_256", "HMAC_SHA_512"),
    ("kms:GenerateDataKeyPair", "kms:DataKeyPairSpec", "RSA_2048", "ECC_NIST_P256"),
    ("kms:GetParametersForImport", "kms:WrappingAlgorithm", "RSAES_OAEP_SHA_256",
     "RSAES_PKCS1_V1_5"),
    ("kms:ImportKeyMaterial", "kms:ExpirationModel", "KEY_MATERIAL_DOES_NOT_EXPIRE",
     "KEY_MATERIAL_EXPIRES"),
    ("kms:ImportKeyMaterial", "kms:ValidTo", "1767225600", "1767225601"),
])
def test_the_keys_of_the_new_operation_families_plug_in_by_parameter(
        action: str, key: str, value: str, other: str) -> None:
    bob = user("Bob")
    for effect, policy_value, allowed in (("Allow", value, True), ("Allow", other, False),
                                          ("Deny", value, False), ("Deny", other, True)):
        doc = key_policy(_policy(effect, {"Condition": {"StringEquals": {key: policy_value}}},
                                 bob.arn))
        request = KmsRequest(caller=bob, action=action, resource=KEY_ARN, params={key: value})
        decision = authorize_kms(request, key_policy=doc, identity_policies=(), grants=None,
                                 key_arn=KEY_ARN)
        assert decision.allowed is allowed
    # The same parameter on an action whose row does not list the key is absent.
    doc = key_policy(_policy("Allow", {"Condition": {"StringEquals": {key: value}}}, bob.arn))
    request = KmsRequest(caller=bob, action="kms:Encrypt", resource=KEY_ARN, params={key: value})
    assert not authorize_kms(request, key_policy=doc, identity_policies=(), grants=None,
                             key_arn=KEY_ARN).allowed


def test_explicit_request_conditions_still_win_over_derived_ones() -> None:
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*",'
        '"Condition":{"StringEquals":{"kms:CallerAccount":"999999999999"}}}'))
    assert decide(ROOT, "kms:Decrypt", policy=doc,
                  conditions={"kms:CallerAccount": "999999999999"}).allowed


def test_the_readme_lists_every_key_of_the_table() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for row in CONDITION_KEYS:
        shown = row.name + "<key>" if row.prefix else row.name
        assert f"`{shown}`" in readme, shown


@pytest.mark.parametrize(("key", "operator", "match", "miss"), [
    ("kms:MultiRegion", "Bool", "true", "false"),
    ("kms:MultiRegionKeyType", "StringEquals", "PRIMARY", "REPLICA"),
    ("kms:ReplicaRegion", "StringEquals", "eu-west-1", "us-east-1"),
])
def test_multi_region_keys_allow_and_deny(key: str, operator: str, match: str, miss: str) -> None:
    for effect, value, ok in (("Allow", match, True), ("Allow", miss, False),
                              ("Deny", match, False), ("Deny", miss, True)):
        sim = Simulation(seed=3)
        bob = sim.iam.create_user(user_name="Bob")
        sim.iam.put_user_policy(user_name="Bob", policy_name="replicas", policy_document=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Action":"kms:CreateKey","Resource":"*"}]}'))  # the replica is a new key
        mrk = sim.kms.create_key(multi_region=True, policy=_policy(
            effect, {"Condition": {operator: {key: value}}}, bob.arn))
        kms = sim.as_principal(bob.arn).kms
        try:
            if key == "kms:ReplicaRegion":
                kms.replicate_key(key_id=mrk.key_id, replica_region="eu-west-1")
            else:
                kms.encrypt(key_id=mrk.key_id, plaintext=b"x")
            assert ok, (effect, value)
        except AccessDeniedException:
            assert not ok, (effect, value)
