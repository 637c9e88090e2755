"""Every rule of the KMS authorisation decision (spec C), one test each."""

from __future__ import annotations

from authz_support import (
    ACCOUNT,
    DEFAULT_POLICY,
    KEY_ARN,
    OTHER_ACCOUNT,
    OTHER_KEY_ARN,
    ROOT,
    decide,
    identity_policy,
    key_policy,
    make_runtime,
    statement_policy,
    user,
)

from simulator.iam.principals import Caller
from simulator.kms.authz import KmsRequest, authorize_kms, request_context
from simulator.kms.grants import GrantConstraints, GrantStore

BOB = user("Bob")
ROOT_STMT = ('{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},'
             '"Action":"kms:*","Resource":"*"}')
BOB_DECRYPT = ('{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/Bob"},'
               '"Action":"kms:Decrypt","Resource":"*"}')
IAM_ALL = identity_policy('{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}')
IAM_DENY_DECRYPT = identity_policy(
    '{"Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}')
ROLE_SESSION = Caller(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Ops/s1", account_id=ACCOUNT,
                      type="AssumedRole", role_arn=f"arn:aws:iam::{ACCOUNT}:role/team/Ops")


def store_with_grant(grantee: str, operations=("Decrypt",), constraints=None):
    store = GrantStore(make_runtime())
    grant, _ = store.create(key_arn=KEY_ARN, grantee_principal=grantee, operations=operations,
                            constraints=constraints, retiring_principal=None, name=None,
                            created_by=ROOT.arn)
    return store, grant


def test_root_is_allowed_every_kms_action_by_the_default_policy():
    for action in ("kms:Decrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"):
        d = decide(ROOT, action)
        assert d.allowed and d.reason == "key-policy" and d.message == ""


def test_default_policy_does_not_cover_other_services_actions():
    assert not decide(ROOT, "ec2:CreateVolume").allowed


def test_key_policy_naming_the_caller_allows_without_iam_policy():
    d = decide(BOB, "kms:Decrypt", policy=key_policy(statement_policy(BOB_DECRYPT)))
    assert d.allowed and d.reason == "key-policy"


def test_key_policy_naming_the_caller_does_not_extend_to_other_actions():
    d = decide(BOB, "kms:Encrypt", policy=key_policy(statement_policy(BOB_DECRYPT)))
    assert not d.allowed and "no resource-based policy" in d.message


def test_star_principal_allows_the_account_alone_and_other_accounts_with_their_iam():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}'))
    assert decide(BOB, "kms:Decrypt", policy=doc).allowed
    eve = user("Eve", OTHER_ACCOUNT)
    denied = decide(eve, "kms:Decrypt", policy=doc)
    assert not denied.allowed and "no identity-based policy" in denied.message
    assert decide(eve, "kms:Decrypt", policy=doc, iam=(IAM_ALL,)).allowed


def test_aws_star_with_caller_account_condition_limits_to_the_account():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*",'
        '"Condition":{"StringEquals":{"kms:CallerAccount":"123456789012"}}}'))
    assert decide(BOB, "kms:Decrypt", policy=doc).allowed
    assert not decide(user("Eve", OTHER_ACCOUNT), "kms:Decrypt", policy=doc).allowed


def test_account_statement_plus_iam_allow_allows_as_iam():
    d = decide(BOB, "kms:Decrypt", iam=[IAM_ALL])
    assert d.allowed and d.reason == "iam"


def test_account_statement_without_iam_allow_denies_naming_identity_policies():
    d = decide(BOB, "kms:Decrypt")
    assert not d.allowed and d.reason == "implicit-deny"
    assert "because no identity-based policy allows the kms:Decrypt action" in d.message


def test_bare_account_id_principal_is_the_account_principal():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"kms:*","Resource":"*"}'))
    assert decide(ROOT, "kms:Decrypt", policy=doc).allowed
    assert decide(BOB, "kms:Decrypt", policy=doc, iam=[IAM_ALL]).allowed
    assert not decide(BOB, "kms:Decrypt", policy=doc).allowed


def test_iam_allow_without_an_account_statement_does_nothing():
    doc = key_policy(statement_policy(BOB_DECRYPT.replace("user/Bob", "user/Alice")))
    d = decide(BOB, "kms:Decrypt", policy=doc, iam=[IAM_ALL])
    assert not d.allowed
    assert "because no resource-based policy allows the kms:Decrypt action" in d.message


def test_iam_allow_must_name_this_key_as_resource():
    scoped = identity_policy(
        '{"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"' + OTHER_KEY_ARN
        + '"}}')
    assert not decide(BOB, "kms:Decrypt", iam=[scoped]).allowed
    assert decide(BOB, "kms:Decrypt", iam=[scoped], resource=OTHER_KEY_ARN).allowed


def test_iam_resource_wildcards_match_key_arns():
    wild = identity_policy(
        '{"Statement":{"Effect":"Allow","Action":"kms:Decrypt",'
        '"Resource":"arn:aws:kms:*:123456789012:key/*"}}')
    assert decide(BOB, "kms:Decrypt", iam=[wild]).allowed


def test_cross_account_caller_needs_key_policy_for_its_account_and_its_own_iam():
    doc = key_policy(statement_policy(
        ROOT_STMT, '{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},'
        '"Action":"kms:Decrypt","Resource":"*"}'))
    eve = user("Eve", OTHER_ACCOUNT)
    assert decide(eve, "kms:Decrypt", policy=doc, iam=[IAM_ALL]).allowed
    assert not decide(eve, "kms:Decrypt", policy=doc).allowed
    assert not decide(eve, "kms:Decrypt", iam=[IAM_ALL]).allowed  # default policy: own account


def test_key_policy_deny_overrides_a_key_policy_allow():
    doc = key_policy(statement_policy(
        BOB_DECRYPT, '{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/Bob"},'
        '"Action":"kms:Decrypt","Resource":"*"}'))
    d = decide(BOB, "kms:Decrypt", policy=doc)
    assert not d.allowed and d.reason == "explicit-deny"
    assert d.message == (
        f"User: {BOB.arn} is not authorized to perform: kms:Decrypt on resource: {KEY_ARN} "
        "with an explicit deny in a resource-based policy")


def test_iam_deny_overrides_a_key_policy_allow():
    d = decide(BOB, "kms:Decrypt", policy=key_policy(statement_policy(BOB_DECRYPT)),
               iam=[IAM_DENY_DECRYPT])
    assert not d.allowed and d.reason == "explicit-deny"
    assert d.message.endswith("with an explicit deny in an identity-based policy")


def test_iam_deny_overrides_an_iam_allow():
    d = decide(BOB, "kms:Decrypt", iam=[IAM_ALL, IAM_DENY_DECRYPT])
    assert not d.allowed and d.reason == "explicit-deny"


def test_key_policy_deny_overrides_a_grant():
    store, _ = store_with_grant(BOB.arn)
    doc = key_policy(statement_policy(
        ROOT_STMT, '{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}'))
    d = decide(BOB, "kms:Decrypt", policy=doc, grants=store, grant_operation="Decrypt")
    assert not d.allowed and d.reason == "explicit-deny"


def test_iam_deny_overrides_a_grant():
    store, _ = store_with_grant(BOB.arn)
    d = decide(BOB, "kms:Decrypt", iam=[IAM_DENY_DECRYPT], grants=store,
               grant_operation="Decrypt")
    assert not d.allowed and d.reason == "explicit-deny"


def test_deny_naming_the_account_applies_to_its_users_and_root():
    doc = key_policy(statement_policy(
        BOB_DECRYPT, ROOT_STMT, '{"Effect":"Deny","Principal":{"AWS":"123456789012"},'
        '"Action":"kms:Decrypt","Resource":"*"}'))
    assert decide(BOB, "kms:Decrypt", policy=doc).reason == "explicit-deny"
    assert decide(ROOT, "kms:Decrypt", policy=doc).reason == "explicit-deny"
    assert decide(ROOT, "kms:Encrypt", policy=doc).allowed


def test_deny_whose_condition_fails_does_not_apply():
    doc = key_policy(statement_policy(
        ROOT_STMT, '{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",'
        '"Condition":{"StringNotEquals":{"kms:CallerAccount":"123456789012"}}}'))
    assert decide(ROOT, "kms:Decrypt", policy=doc).allowed
    eve_doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}',
        '{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",'
        '"Condition":{"StringNotEquals":{"kms:CallerAccount":"123456789012"}}}'))
    assert decide(user("Eve", OTHER_ACCOUNT), "kms:Decrypt", policy=eve_doc).reason == (
        "explicit-deny")


def test_a_grant_allows_when_no_policy_does():
    store, grant = store_with_grant(BOB.arn)
    d = decide(BOB, "kms:Decrypt", grants=store, grant_operation="Decrypt")
    assert d.allowed and d.reason == "grant" and d.grant_id == grant.grant_id


def test_a_grant_allows_only_its_grantee_and_operations():
    store, _ = store_with_grant(BOB.arn)
    assert not decide(user("Carol"), "kms:Decrypt", grants=store,
                      grant_operation="Decrypt").allowed
    assert not decide(BOB, "kms:Encrypt", grants=store, grant_operation="Encrypt").allowed


def test_grants_are_not_consulted_when_no_grant_operation_applies():
    store, _ = store_with_grant(BOB.arn, operations=("Decrypt", "DescribeKey"))
    assert not decide(BOB, "kms:PutKeyPolicy", grants=store).allowed


def test_grant_constraints_are_checked_for_context_operations():
    store, _ = store_with_grant(BOB.arn, constraints=GrantConstraints(
        encryption_context_equals={"purpose": "test"}))
    assert decide(BOB, "kms:Decrypt", grants=store, grant_operation="Decrypt",
                  context={"purpose": "test"}).allowed
    assert not decide(BOB, "kms:Decrypt", grants=store, grant_operation="Decrypt",
                      context={"purpose": "prod"}).allowed


def test_grant_denied_message_names_the_missing_policy_kind():
    store, _ = store_with_grant(BOB.arn)
    d = decide(BOB, "kms:Encrypt", grants=store, grant_operation="Encrypt")
    assert "because no identity-based policy allows the kms:Encrypt action" in d.message


def test_role_session_matches_a_key_policy_naming_its_role():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/team/Ops"},'
        '"Action":"kms:Decrypt","Resource":"*"}'))
    assert decide(ROLE_SESSION, "kms:Decrypt", policy=doc).allowed


def test_role_session_matches_a_key_policy_naming_the_session_itself():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":{"AWS":"' + ROLE_SESSION.arn + '"},'
        '"Action":"kms:Decrypt","Resource":"*"}'))
    assert decide(ROLE_SESSION, "kms:Decrypt", policy=doc).allowed


def test_grant_to_a_role_allows_its_sessions():
    store, _ = store_with_grant(f"arn:aws:iam::{ACCOUNT}:role/team/Ops")
    assert decide(ROLE_SESSION, "kms:Decrypt", grants=store, grant_operation="Decrypt").allowed


def test_not_principal_deny_exempts_only_the_named_principal():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}',
        '{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/Bob"},'
        '"Action":"kms:Decrypt","Resource":"*"}'))
    assert decide(BOB, "kms:Decrypt", policy=doc).allowed
    assert decide(user("Carol"), "kms:Decrypt", policy=doc).reason == "explicit-deny"


def test_not_action_allows_everything_but_the_listed_actions():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/Bob"},'
        '"NotAction":"kms:Decrypt","Resource":"*"}'))
    assert decide(BOB, "kms:Encrypt", policy=doc).allowed
    assert not decide(BOB, "kms:Decrypt", policy=doc).allowed


def test_not_resource_in_iam_excludes_the_listed_keys():
    pol = identity_policy('{"Statement":{"Effect":"Allow","Action":"kms:*","NotResource":"'
                          + OTHER_KEY_ARN + '"}}')
    assert decide(BOB, "kms:Decrypt", iam=[pol]).allowed
    assert not decide(BOB, "kms:Decrypt", iam=[pol], resource=OTHER_KEY_ARN).allowed


def test_key_policy_statement_without_action_never_matches():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":"*","Resource":"*"}',
        '{"Effect":"Deny","Principal":"*","Action":"kms:*"}'))
    assert not decide(BOB, "kms:Decrypt", policy=doc).allowed
    assert all(s.inert for s in doc.statements)


def test_condition_keys_in_requests_are_case_insensitive():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*",'
        '"Condition":{"StringEquals":{"kms:EncryptionContext:Dept":"hr"}}}'))
    assert decide(BOB, "kms:Decrypt", policy=doc,
                  conditions={"KMS:ENCRYPTIONCONTEXT:dept": "hr"}).allowed
    assert not decide(BOB, "kms:Decrypt", policy=doc,
                      conditions={"kms:EncryptionContext:dept": "HR"}).allowed


def test_request_context_derives_principal_and_via_service_keys():
    caller = ROLE_SESSION.through("ec2", "us-west-2")
    ctx = request_context(KmsRequest(caller=caller, action="kms:Decrypt", resource=KEY_ARN))
    assert ctx["aws:principalarn"] == (f"arn:aws:iam::{ACCOUNT}:role/team/Ops",)
    assert ctx["aws:principaltype"] == ("AssumedRole",)
    assert ctx["kms:viaservice"] == ("ec2.us-west-2.amazonaws.com",)
    assert ctx["kms:calleraccount"] == (ACCOUNT,)
    direct = request_context(KmsRequest(caller=BOB, action="kms:Decrypt", resource=KEY_ARN))
    assert "kms:viaservice" not in direct and direct["aws:username"] == ("Bob",)


def test_request_context_keeps_values_given_by_the_service():
    ctx = request_context(KmsRequest(caller=BOB, action="kms:Decrypt", resource=KEY_ARN,
                                      conditions={"kms:CallerAccount": "999999999999"}))
    assert ctx["kms:calleraccount"] == ("999999999999",)


def test_via_service_condition_allows_only_calls_through_that_service():
    doc = key_policy(statement_policy(
        '{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*",'
        '"Condition":{"StringEquals":{"kms:ViaService":"ec2.us-west-2.amazonaws.com",'
        '"kms:CallerAccount":"123456789012"}}}'))
    assert decide(BOB.through("ec2", "us-west-2"), "kms:Decrypt", policy=doc).allowed
    assert not decide(BOB, "kms:Decrypt", policy=doc).allowed
    assert not decide(BOB.through("workspaces", "us-west-2"), "kms:Decrypt", policy=doc).allowed


def test_root_needs_no_identity_policy_but_an_iam_deny_cannot_bind_it():
    # The root has no identity policies; any passed are ignored for it.
    req = KmsRequest(caller=ROOT, action="kms:Decrypt", resource=KEY_ARN)
    d = authorize_kms(req, key_policy=DEFAULT_POLICY, identity_policies=[IAM_DENY_DECRYPT],
                      grants=None, key_arn=KEY_ARN)
    assert d.allowed
