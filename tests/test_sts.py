"""STS: GetCallerIdentity, AssumeRole against role trust policies, and temporary credentials
that act as the assumed-role session until they expire on the virtual clock."""

from __future__ import annotations

import json

import pytest

from simulator import Simulation
from simulator.errors import (
    AccessDenied,
    AccessDeniedException,
    ExpiredTokenException,
    IamMalformedPolicyDocumentException,
    IamValidationError,
    InvalidClientTokenId,
)

ACCT = "123456789012"


def trust(principal: object, **extra: object) -> str:
    st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole", **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


@pytest.fixture
def sim() -> Simulation:
    s = Simulation(seed=11)
    s.iam.create_user(user_name="ci")
    s.iam.create_user(user_name="other")
    return s


def ci(sim):
    return sim.as_principal(f"arn:aws:iam::{ACCT}:user/ci")


def test_get_caller_identity_names_root_user_and_session(sim):
    root = sim.sts.get_caller_identity()
    assert (root.account, root.arn, root.user_id) == (ACCT, f"arn:aws:iam::{ACCT}:root", ACCT)
    user = ci(sim).sts.get_caller_identity()
    assert user.arn == f"arn:aws:iam::{ACCT}:user/ci"
    assert user.user_id == sim.iam.get_user(user_name="ci").user_id


def test_assume_role_trusted_by_user_returns_temporary_credentials(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    got = ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="build-1")
    c = got.credentials
    assert c.access_key_id.startswith("ASIA") and len(c.access_key_id) == 20
    assert len(c.secret_access_key) == 40 and len(c.session_token) > 100
    assert c.expiration == sim.clock.now() + __import__("datetime").timedelta(hours=1)
    assert got.assumed_role_user.arn == f"arn:aws:sts::{ACCT}:assumed-role/app/build-1"
    assert got.assumed_role_user.assumed_role_id == f"{role.role_id}:build-1"
    who = sim.as_principal(c).sts.get_caller_identity()
    assert who.arn == got.assumed_role_user.arn
    assert who.user_id == got.assumed_role_user.assumed_role_id


def test_the_session_is_what_key_policies_see(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "app", "Effect": "Allow", "Principal": {"AWS": role.arn},
         "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}]})
    key = sim.kms.create_key(policy=policy)
    creds = ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s1").credentials
    app = sim.as_principal(creds)
    blob = app.kms.encrypt(key_id=key.key_id, plaintext=b"hi").ciphertext_blob
    assert app.kms.decrypt(ciphertext_blob=blob).plaintext == b"hi"
    with pytest.raises(AccessDeniedException):
        ci(sim).kms.encrypt(key_id=key.key_id, plaintext=b"hi")
    records = [r for r in sim.audit.events() if r["eventName"] == "Encrypt"
               and "errorCode" not in r]
    assert records[-1]["userIdentity"]["arn"] == f"arn:aws:sts::{ACCT}:assumed-role/app/s1"


def test_untrusted_caller_is_access_denied_naming_caller_action_and_role(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    other = sim.as_principal(f"arn:aws:iam::{ACCT}:user/other")
    with pytest.raises(AccessDenied) as err:
        other.sts.assume_role(role_arn=role.arn, role_session_name="x1")
    assert err.value.code == "AccessDenied" and err.value.http_status == 403
    assert err.value.message == (f"User: arn:aws:iam::{ACCT}:user/other is not authorized to "
                                 f"perform: sts:AssumeRole on resource: {role.arn}")
    assert sim.sts.credentials_for("ASIA") is None
    assert len(sim._sts_state.sessions) == 0


def test_account_trust_needs_the_callers_identity_permission(sim):
    role = sim.iam.create_role(role_name="app", assume_role_policy_document=trust(ACCT))
    with pytest.raises(AccessDenied):
        ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s1")
    sim.iam.put_user_policy(user_name="ci", policy_name="assume", policy_document=json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role.arn}]}))
    assert ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s1").credentials


def test_an_identity_deny_wins_over_a_trust_that_names_the_user(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    sim.iam.put_user_policy(user_name="ci", policy_name="no", policy_document=json.dumps(
        {"Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]}))
    with pytest.raises(AccessDenied):
        ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s1")


def test_trust_conditions_are_evaluated(sim):
    role = sim.iam.create_role(role_name="app", assume_role_policy_document=trust(
        f"arn:aws:iam::{ACCT}:user/ci",
        Condition={"StringEquals": {"aws:PrincipalType": "AssumedRole"}}))
    with pytest.raises(AccessDenied):
        ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s1")


def test_root_roles_without_trust_and_unknown_roles_are_refused(sim):
    plain = sim.iam.create_role(role_name="plain")
    role = sim.iam.create_role(role_name="app", assume_role_policy_document=trust("*"))
    with pytest.raises(AccessDenied, match="root"):
        sim.sts.assume_role(role_arn=role.arn, role_session_name="s1")
    with pytest.raises(AccessDenied):
        ci(sim).sts.assume_role(role_arn=plain.arn, role_session_name="s1")
    with pytest.raises(AccessDenied):
        ci(sim).sts.assume_role(role_arn=f"arn:aws:iam::{ACCT}:role/none", role_session_name="s1")
    with pytest.raises(AccessDenied):
        ci(sim).sts.assume_role(role_arn="arn:aws:iam::210987654321:role/app",
                                role_session_name="s1")


@pytest.mark.parametrize("kwargs", [
    {"role_session_name": "x"}, {"role_session_name": "bad name"},
    {"duration_seconds": 899}, {"duration_seconds": 3601}, {"duration_seconds": True},
    {"role_arn": "arn:aws:s3:::bucket/with/a/long/name"}, {"role_arn": 5},
])
def test_bad_parameters_are_validation_errors(sim, kwargs):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    args = {"role_arn": role.arn, "role_session_name": "ok", **kwargs}
    with pytest.raises(IamValidationError):
        ci(sim).sts.assume_role(**args)


def test_longer_sessions_up_to_the_roles_maximum(sim):
    role = sim.iam.create_role(role_name="app", max_session_duration=7200,
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    got = ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s0", duration_seconds=7200)
    assert (got.credentials.expiration - sim.clock.now()).total_seconds() == 7200


def test_role_chaining_is_limited_to_one_hour(sim):
    first = sim.iam.create_role(role_name="first", max_session_duration=7200,
                                assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    second = sim.iam.create_role(role_name="second", max_session_duration=7200,
                                 assume_role_policy_document=trust(first.arn))
    creds = ci(sim).sts.assume_role(role_arn=first.arn, role_session_name="a1").credentials
    session = sim.as_principal(creds)
    with pytest.raises(IamValidationError, match="chaining"):
        session.sts.assume_role(role_arn=second.arn, role_session_name="b1",
                                duration_seconds=7200)
    got = session.sts.assume_role(role_arn=second.arn, role_session_name="b1")
    assert got.assumed_role_user.arn.endswith("assumed-role/second/b1")


def test_credentials_expire_on_the_virtual_clock(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    creds = ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s0",
                                    duration_seconds=900).credentials
    sim.advance(899)
    assert sim.as_principal(creds).caller.type == "AssumedRole"
    sim.advance(1)
    with pytest.raises(ExpiredTokenException) as err:
        sim.as_principal(creds)
    assert err.value.code == "ExpiredToken"


def test_unknown_key_or_wrong_token_is_invalid_client_token_id(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    creds = ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s0").credentials
    for key, token in [("ASIAAAAAAAAAAAAAAAAA", creds.session_token),
                       (creds.access_key_id, "forged"), (creds.access_key_id, None),
                       (creds.access_key_id, "\udc80")]:
        with pytest.raises(InvalidClientTokenId):
            sim.sts.caller_for_session(access_key_id=key, session_token=token)


def test_sessions_of_a_deleted_role_name_no_one(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    creds = ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s0").credentials
    sim.iam.delete_role(role_name="app")
    with pytest.raises(InvalidClientTokenId):
        sim.as_principal(creds)


def test_secrets_stay_out_of_reprs_and_the_audit_trail(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    got = ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s0")
    c = got.credentials
    text = repr(got) + repr(sim.sts.credentials_for(c.access_key_id)) + sim.audit.to_jsonl()
    assert c.secret_access_key not in text and c.session_token not in text
    assert c.access_key_id in sim.audit.to_jsonl()
    events = [r for r in sim.audit.events() if r["eventName"] == "AssumeRole"]
    assert events[-1]["eventSource"] == "sts.amazonaws.com"


def test_seeded_runs_issue_the_same_credentials():
    def run() -> tuple[str, str, str]:
        s = Simulation(seed=5)
        s.iam.create_user(user_name="ci")
        role = s.iam.create_role(role_name="r", assume_role_policy_document=trust(
            f"arn:aws:iam::{ACCT}:user/ci"))
        c = ci(s).sts.assume_role(role_arn=role.arn, role_session_name="s0").credentials
        return c.access_key_id, c.secret_access_key, c.session_token
    assert run() == run()


@pytest.mark.parametrize("doc", [
    '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole",'
    '"Resource":"*"}]}',
    '{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}',
    '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"}}]}',
    trust("arn:aws:iam::123456789012:user/ghost"),
    "not json",
])
def test_malformed_trust_policies_are_refused_and_no_role_is_created(sim, doc):
    with pytest.raises(IamMalformedPolicyDocumentException):
        sim.iam.create_role(role_name="r", assume_role_policy_document=doc)
    assert sim.iam.list_roles().roles == []


def test_update_assume_role_policy_replaces_the_trust(sim):
    role = sim.iam.create_role(role_name="app",
                               assume_role_policy_document=trust(f"arn:aws:iam::{ACCT}:user/ci"))
    other = sim.as_principal(f"arn:aws:iam::{ACCT}:user/other")
    new = trust(f"arn:aws:iam::{ACCT}:user/other")
    sim.iam.update_assume_role_policy(role_name="app", policy_document=new)
    assert sim.iam.get_role(role_name="app").assume_role_policy_document == new
    assert other.sts.assume_role(role_arn=role.arn, role_session_name="s0").credentials
    with pytest.raises(AccessDenied):
        ci(sim).sts.assume_role(role_arn=role.arn, role_session_name="s0")
