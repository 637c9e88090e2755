"""A state file behind the wire face: calls made by boto3 (through ``mock_aws``) are saved
like any other, with the caller their access key identifies, and come back after a reopen."""

from __future__ import annotations

from pathlib import Path

import boto3

from simulator import Simulation
from simulator.wire.mock import mock_aws


def test_boto3_calls_are_saved_and_come_back(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    sim = Simulation(seed=9, state=path)
    with mock_aws(sim):
        kms = boto3.client("kms", region_name=sim.region)
        key = kms.create_key(Description="via the wire")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/wire", TargetKeyId=key)
        blob = kms.encrypt(KeyId="alias/wire", Plaintext=b"wire secret")["CiphertextBlob"]
    events = sim.audit.events()
    sim.close()
    assert b"wire secret" not in path.read_bytes()
    again = Simulation(state=path)
    assert again.audit.events() == events
    assert again.kms.describe_key(key_id="alias/wire").description == "via the wire"
    assert again.kms.decrypt(ciphertext_blob=blob).plaintext == b"wire secret"
    again.close()
