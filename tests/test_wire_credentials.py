"""Who calls through the wire: issued access keys act as their user, signatures are checked,
unknown keys act as the root unless credentials are strict (accounts and Regions:
test_wire_routing.py)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from simulator import Simulation
from simulator.wire import mock_aws


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _bob(sim: Simulation) -> Any:
    sim.iam.create_user(user_name="Bob")
    return sim.iam.create_access_key(user_name="Bob")


def _client(key: Any, **kw: Any) -> Any:
    return boto3.client("kms", aws_access_key_id=key.access_key_id,
                        aws_secret_access_key=key.secret_access_key, **kw)


def test_bob_is_denied_until_a_grant_and_its_token_lets_him_in_at_once() -> None:
    sim = Simulation(seed=2, grant_propagation_seconds=300)
    bob_key = _bob(sim)
    with mock_aws(sim):
        key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
        bob = _client(bob_key)
        with pytest.raises(ClientError) as err:
            bob.generate_data_key(KeyId=key, KeySpec="AES_256")
        assert _code(err) == "AccessDeniedException"
        message = err.value.response["Error"]["Message"]
        assert "arn:aws:iam::123456789012:user/Bob" in message
        assert "kms:GenerateDataKey" in message and key in message
        token = boto3.client("kms").create_grant(
            KeyId=key, GranteePrincipal="arn:aws:iam::123456789012:user/Bob",
            Operations=["GenerateDataKey", "Decrypt"])["GrantToken"]
        with pytest.raises(ClientError):  # not yet propagated
            bob.generate_data_key(KeyId=key, KeySpec="AES_256")
        dk = bob.generate_data_key(KeyId=key, KeySpec="AES_256", GrantTokens=[token])
        assert bob.decrypt(CiphertextBlob=dk["CiphertextBlob"],
                           GrantTokens=[token])["Plaintext"] == dk["Plaintext"]
        sim.advance(300)
        bob.generate_data_key(KeyId=key, KeySpec="AES_256")
    identity = sim.audit.events("GenerateDataKey")[-1]["userIdentity"]
    assert identity["arn"] == "arn:aws:iam::123456789012:user/Bob"
    assert identity["accessKeyId"] == bob_key.access_key_id
    # The secret never leaves IAM: not in the audit trail, nor the trace.
    assert bob_key.secret_access_key not in sim.audit.to_jsonl()
    assert bob_key.secret_access_key not in sim.trace.to_json()


def test_a_wrong_secret_or_a_body_changed_after_signing_is_refused_and_changes_nothing() -> None:
    sim = Simulation(seed=2)
    bob_key = _bob(sim)
    sim.iam.put_user_policy(user_name="Bob", policy_name="all", policy_document=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}'))
    with mock_aws(sim):
        wrong = boto3.client("kms", aws_access_key_id=bob_key.access_key_id,
                             aws_secret_access_key="x" * 40)
        with pytest.raises(ClientError) as err:
            wrong.create_key()
        assert _code(err) == "InvalidSignatureException"
        bob = _client(bob_key)

        def tamper(request: Any, **kwargs: Any) -> None:  # runs after botocore's signer
            request.data = request.body.replace(b"honest", b"forged")

        bob.meta.events.register_last("request-created.kms", tamper)
        with pytest.raises(ClientError) as err:
            bob.create_key(Description="honest")
        assert _code(err) == "InvalidSignatureException"
        assert sim.kms.list_keys().keys == ()
        assert _client(bob_key).create_key(Description="ok")["KeyMetadata"]["Description"] == "ok"


def test_inactive_and_deleted_keys_are_unrecognized() -> None:
    sim = Simulation(seed=2)
    bob_key = _bob(sim)
    with mock_aws(sim):
        bob = _client(bob_key)
        sim.iam.update_access_key(user_name="Bob", access_key_id=bob_key.access_key_id,
                                  status="Inactive")
        with pytest.raises(ClientError) as err:
            bob.list_keys()
        assert _code(err) == "UnrecognizedClientException"
        sim.iam.delete_access_key(user_name="Bob", access_key_id=bob_key.access_key_id)
        with pytest.raises(ClientError) as err:
            bob.list_keys()
        assert _code(err) == "UnrecognizedClientException"


def test_unknown_keys_act_as_root_unless_strict() -> None:
    with mock_aws(Simulation(seed=2)) as sim:
        boto3.client("kms").create_key()
        assert sim.audit.events("CreateKey")[0]["userIdentity"]["type"] == "Root"
    with mock_aws(Simulation(seed=2), strict_credentials=True) as sim:
        with pytest.raises(ClientError) as err:
            boto3.client("kms").create_key()
        assert _code(err) == "UnrecognizedClientException"
        bob_key = _bob(sim)
        with pytest.raises(ClientError) as err:  # recognized: now IAM decides
            _client(bob_key).list_keys()
        assert _code(err) == "AccessDeniedException"
