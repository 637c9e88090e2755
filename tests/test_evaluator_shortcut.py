"""key_policy_settles: the services' shortcut for "the key policy alone allows this caller".

It may only say True when authorize_kms would allow with reason "key-policy" whatever the
request's conditions, context and grants are (the property test in test_evaluator_properties.py
checks that on random policies); these tests pin down when it must say False, so that KMS then
evaluates the request in full.
"""

from __future__ import annotations

import pytest
from authz_support import ACCOUNT, DEFAULT_POLICY, KEY_ARN, ROOT, identity_policy, key_policy, user

from simulator import Simulation
from simulator.errors import AccessDeniedException
from simulator.iam.evaluator import key_policy_settles

BOB = user("Bob")
IAM_ALL = identity_policy('{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}')


def policy(*statements: str):
    return key_policy('{"Statement":[' + ",".join(statements) + "]}")


ALLOW_ROOT = ('{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},'
              '"Action":"kms:*","Resource":"*"}')
ALLOW_BOB = ('{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/Bob"},'
             '"Action":"kms:Decrypt","Resource":"*"}')


def test_default_policy_settles_for_the_account_root():
    assert key_policy_settles(DEFAULT_POLICY, "kms:Decrypt", KEY_ARN, ROOT, ())


def test_an_account_principal_does_not_settle_for_a_user_of_the_account():
    # "arn:aws:iam::<acct>:root" names the account: a user also needs an IAM Allow.
    assert not key_policy_settles(DEFAULT_POLICY, "kms:Decrypt", KEY_ARN, BOB, ())


def test_a_statement_naming_the_user_settles_only_without_identity_policies():
    doc = policy(ALLOW_BOB)
    assert key_policy_settles(doc, "kms:Decrypt", KEY_ARN, BOB, ())
    assert not key_policy_settles(doc, "kms:Decrypt", KEY_ARN, BOB, (IAM_ALL,))
    assert not key_policy_settles(doc, "kms:Encrypt", KEY_ARN, BOB, ())


def test_any_applicable_deny_or_condition_prevents_settling():
    deny = ('{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*",'
            '"Condition":{"StringEquals":{"kms:EncryptionContext:dept":"hr"}}}')
    conditional_allow = ('{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt",'
                         '"Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}')
    assert not key_policy_settles(policy(ALLOW_ROOT, deny), "kms:Decrypt", KEY_ARN, ROOT, ())
    assert key_policy_settles(policy(ALLOW_ROOT, deny), "kms:Encrypt", KEY_ARN, ROOT, ())
    assert not key_policy_settles(policy(conditional_allow), "kms:Decrypt", KEY_ARN, ROOT, ())


def test_the_verdict_is_per_caller_object_and_per_policy():
    other_root = type(ROOT).root(ACCOUNT)
    doc = policy(ALLOW_ROOT)
    assert key_policy_settles(doc, "kms:Decrypt", KEY_ARN, ROOT, ())
    assert key_policy_settles(doc, "kms:Decrypt", KEY_ARN, other_root, ())
    assert not key_policy_settles(policy(ALLOW_BOB), "kms:Decrypt", KEY_ARN, ROOT, ())


def test_kms_still_applies_a_conditional_deny_to_the_root():
    sim = Simulation(seed=3)
    text = ('{"Version":"2012-10-17","Statement":[' + ALLOW_ROOT + ','
            '{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*",'
            '"Condition":{"StringEquals":{"kms:EncryptionContext:dept":"hr"}}}]}')
    key = sim.kms.create_key(policy=text)
    hr = sim.kms.encrypt(key_id=key.arn, plaintext=b"x", encryption_context={"dept": "hr"})
    it = sim.kms.encrypt(key_id=key.arn, plaintext=b"x", encryption_context={"dept": "it"})
    assert sim.kms.decrypt(ciphertext_blob=it.ciphertext_blob,
                           encryption_context={"dept": "it"}).plaintext == b"x"
    with pytest.raises(AccessDeniedException):
        sim.kms.decrypt(ciphertext_blob=hr.ciphertext_blob, encryption_context={"dept": "hr"})


def test_kms_still_checks_presented_grant_tokens_when_the_policy_settles():
    from simulator.errors import InvalidGrantTokenException

    sim = Simulation(seed=3)
    key = sim.kms.create_key()
    with pytest.raises(InvalidGrantTokenException):
        sim.kms.generate_data_key(key_id=key.arn, key_spec="AES_256", grant_tokens=["not-a-token"])
