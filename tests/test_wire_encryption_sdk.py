"""The AWS Encryption SDK, unchanged, in process (mock_aws) and against the HTTP server: a round
trip with an encryption context, refusal once the key is disabled, and the audit of its calls."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable
from typing import Any

import aws_encryption_sdk
import boto3
import pytest
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import DecryptKeyError
from wire_support import serve

from simulator import Simulation
from simulator.wire import mock_aws

CONTEXT = {"purpose": "payroll", "tenant": "t-1"}


def _round_trip(key_arn: str, disable: Callable[[], None], caplog: pytest.LogCaptureFixture) -> None:
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[key_arn])
    message, _ = client.encrypt(source=b"salary table", key_provider=provider,
                                encryption_context=CONTEXT)
    plaintext, header = client.decrypt(source=message, key_provider=provider)
    assert plaintext == b"salary table"
    assert CONTEXT.items() <= header.encryption_context.items()
    disable()
    with caplog.at_level(logging.WARNING), pytest.raises(DecryptKeyError):
        client.decrypt(source=message,
                       key_provider=aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[key_arn]))
    assert "DisabledException" in caplog.text  # the SDK's error, caused by KMS's


def _check_audit(records: list[dict[str, Any]]) -> None:
    calls = [(r["eventName"], r.get("errorCode")) for r in records
             if r["eventName"] in ("GenerateDataKey", "Decrypt")]
    assert calls == [("GenerateDataKey", None), ("Decrypt", None), ("Decrypt", "DisabledException")]
    for record in records:
        if record["eventName"] in ("GenerateDataKey", "Decrypt"):
            assert CONTEXT.items() <= record["requestParameters"]["encryptionContext"].items()


def test_the_encryption_sdk_round_trips_in_process_and_fails_after_disable_key(
        caplog: pytest.LogCaptureFixture) -> None:
    sim = Simulation(seed=9)
    with mock_aws(sim):
        key = sim.kms.create_key(description="sdk").arn
        _round_trip(key, lambda: sim.kms.disable_key(key_id=key), caplog)
    _check_audit(sim.audit.events())


def test_the_encryption_sdk_round_trips_against_the_server(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve("--seed", "9", "--clock", "manual") as (endpoint, _proc):
        for name, value in {"AWS_ENDPOINT_URL_KMS": endpoint, "AWS_ACCESS_KEY_ID": "test",
                            "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-west-2"}.items():
            monkeypatch.setenv(name, value)
        kms = boto3.client("kms")
        key = kms.create_key(Description="sdk")["KeyMetadata"]["Arn"]
        _round_trip(key, lambda: kms.disable_key(KeyId=key), caplog)
        with urllib.request.urlopen(f"{endpoint}/_envelope-sim/audit", timeout=10) as response:
            records = [json.loads(line) for line in response.read().decode().splitlines()]
    _check_audit(records)
