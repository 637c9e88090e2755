"""The generic IAM evaluator: what a policy set says about one request (allow / allow by the
account / explicit deny / no decision), and its one bounded, value-keyed memo."""

from __future__ import annotations

from authz_support import ACCOUNT, KEY_ARN, ROOT, identity_policy, key_policy, user

from simulator.iam.evaluator import (
    AuthRequest,
    Effect,
    applicable_statements,
    evaluate,
    statements_for,
)

BOB = user("Bob")


def _req(caller=BOB, action="kms:Decrypt", **kw) -> AuthRequest:
    return AuthRequest(caller=caller, action=action, resource=KEY_ARN, **kw)


def _key(*statements: str):
    return key_policy('{"Statement":[' + ",".join(statements) + "]}")


ALLOW_ACCOUNT = ('{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::' + ACCOUNT + ':root"},'
                 '"Action":"kms:*","Resource":"*"}')
ALLOW_BOB = ('{"Effect":"Allow","Principal":{"AWS":"' + BOB.arn + '"},'
             '"Action":"kms:Decrypt","Resource":"*"}')
DENY_HR = ('{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*",'
           '"Condition":{"StringEquals":{"kms:EncryptionContext:dept":"hr"}}}')


def test_a_statement_naming_the_caller_allows():
    assert evaluate((_key(ALLOW_BOB),), _req()) is Effect.ALLOW


def test_a_statement_naming_only_the_account_delegates_to_iam():
    assert evaluate((_key(ALLOW_ACCOUNT),), _req()) is Effect.ALLOW_ACCOUNT
    # ... while for the account root itself it names the caller.
    assert evaluate((_key(ALLOW_ACCOUNT),), _req(caller=ROOT)) is Effect.ALLOW


def test_an_applicable_deny_wins_over_any_allow_and_only_when_its_condition_holds():
    doc = _key(ALLOW_BOB, DENY_HR)
    hr = {"kms:EncryptionContext:dept": "hr"}
    assert evaluate((doc,), _req(conditions=hr)) is Effect.DENY
    assert evaluate((doc,), _req(conditions={"kms:EncryptionContext:dept": "it"})) is Effect.ALLOW


def test_nothing_applicable_is_no_decision():
    assert evaluate((_key(ALLOW_BOB),), _req(action="kms:Encrypt")) is Effect.NO_DECISION
    assert evaluate((), _req()) is Effect.NO_DECISION


def test_identity_policies_apply_to_their_owner():
    allow = identity_policy('{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}')
    deny = identity_policy('{"Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}')
    assert evaluate((allow,), _req()) is Effect.ALLOW
    assert evaluate((allow, deny), _req()) is Effect.DENY


def test_the_memo_is_keyed_by_value_and_bounded():
    # Two documents parsed from the same text are one value: one memo entry serves both.
    first, second = _key(ALLOW_BOB), _key(ALLOW_BOB)
    assert first is not second and first == second and hash(first) == hash(second)
    statements_for.cache_clear()
    applicable_statements(first, "kms:Decrypt", KEY_ARN, BOB)
    applicable_statements(second, "kms:Decrypt", KEY_ARN, user("Bob"))
    # The resource is not part of the key: one entry serves every volume of EC2.
    applicable_statements(second, "kms:Decrypt", KEY_ARN + "-other", user("Bob"))
    info = statements_for.cache_info()
    assert (info.hits, info.misses) == (2, 1)
    assert info.maxsize is not None and info.maxsize <= 10_000
