"""Accounts and Regions over HTTP: one ``envelope-sim serve`` subprocess serves every Region the
clients sign for and every account whose keys they hold (its first users and keys made through
the admin API); cross-account key use through boto3, with both accounts' trails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from accounts_support import iam_policy, key_policy
from botocore.config import Config
from botocore.exceptions import ClientError
from test_wire_server import admin
from wire_support import serve

A = "123456789012"
B = "210987654321"
_NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with serve("--seed", "21", "--clock", "manual") as (url, proc):
        yield url
        proc.terminate()
        output = proc.stdout.read() if proc.stdout else ""
    assert "Traceback" not in output and "ERROR" not in output, output


def _client(endpoint: str, service: str, region: str, key: dict[str, str] | None = None) -> Any:
    creds = ({"aws_access_key_id": key["AccessKeyId"],
              "aws_secret_access_key": key["SecretAccessKey"]} if key else
             {"aws_access_key_id": "test", "aws_secret_access_key": "test"})
    return boto3.client(service, endpoint_url=endpoint, region_name=region, config=_NO_RETRY,
                        **creds)


def _audit(endpoint: str, query: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in admin(endpoint, "GET", f"audit?{query}").splitlines()]


def test_two_regions_in_one_server_and_a_multi_region_key_across_them(endpoint: str) -> None:
    east = _client(endpoint, "kms", "us-east-1")
    west = _client(endpoint, "kms", "eu-west-1")
    plain = east.create_key(Description="east only")["KeyMetadata"]
    assert plain["Arn"].startswith(f"arn:aws:kms:us-east-1:{A}:")
    with pytest.raises(ClientError) as err:
        west.describe_key(KeyId=plain["KeyId"])
    assert err.value.response["Error"]["Code"] == "NotFoundException"
    assert plain["KeyId"] not in {k["KeyId"] for k in west.list_keys()["Keys"]}

    primary = east.create_key(MultiRegion=True)["KeyMetadata"]
    east.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-1")
    admin(endpoint, "POST", "advance", {"until_idle": True})
    blob = east.encrypt(KeyId=primary["KeyId"], Plaintext=b"dr copy",
                        EncryptionContext={"site": "dr"})["CiphertextBlob"]
    got = west.decrypt(CiphertextBlob=blob, EncryptionContext={"site": "dr"})
    assert got["Plaintext"] == b"dr copy" and ":eu-west-1:" in got["KeyId"]
    assert [r["awsRegion"] for r in _audit(endpoint, "event_name=Decrypt&region=eu-west-1")] \
        == ["eu-west-1"]
    cells = admin(endpoint, "GET", "health")["cells"]
    assert {"account_id": A, "region": "eu-west-1"} in cells


def test_an_invalid_region_over_http_is_refused_by_name(endpoint: str) -> None:
    with pytest.raises(ClientError) as err:
        _client(endpoint, "kms", "moon-base-1").list_keys()
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "moon-base-1" in err.value.response["Error"]["Message"]


def test_another_accounts_keys_and_the_two_sided_rule_for_a_key_by_arn(endpoint: str) -> None:
    region = "eu-central-1"
    admin(endpoint, "POST", f"iam/CreateUser?account_id={B}", {"UserName": "bob"})
    bob_key = admin(endpoint, "POST", f"iam/CreateAccessKey?account_id={B}",
                    {"UserName": "bob"})["AccessKey"]
    bob = _client(endpoint, "kms", region, bob_key)
    assert _client(endpoint, "sts", "us-east-1", bob_key).get_caller_identity()["Account"] == B

    owner = _client(endpoint, "kms", region)  # account A's root (an unknown key)
    bob_arn = f"arn:aws:iam::{B}:user/bob"
    key_arn = owner.create_key(Policy=key_policy(bob_arn).replace("111122223333", A))[
        "KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as err:  # the key policy allows; B's IAM does not yet
        bob.encrypt(KeyId=key_arn, Plaintext=b"x")
    assert err.value.response["Error"] == {
        "Code": "AccessDeniedException",
        "Message": f"User: {bob_arn} is not authorized to perform: kms:Encrypt on resource: "
                   f"{key_arn} because no identity-based policy allows the kms:Encrypt action"}
    # B's own IAM, through the wire as B's user would need rights: the admin API is B's root.
    admin(endpoint, "POST", f"iam/PutUserPolicy?account_id={B}", {
        "UserName": "bob", "PolicyName": "use-a-key", "PolicyDocument": iam_policy(key_arn)})
    blob = bob.encrypt(KeyId=key_arn, Plaintext=b"cross")["CiphertextBlob"]
    assert bob.decrypt(CiphertextBlob=blob)["Plaintext"] == b"cross"
    for account in (A, B):  # CloudTrail: both the caller's and the key owner's trail
        records = _audit(endpoint, f"event_name=Encrypt&account_id={account}&region={region}")
        assert [(r["userIdentity"]["arn"], r.get("errorCode")) for r in records] == [
            (bob_arn, "AccessDeniedException"), (bob_arn, None)]
    # B's keys act in B: a key bob makes is B's, and account A does not see it.
    admin(endpoint, "POST", f"iam/PutUserPolicy?account_id={B}", {
        "UserName": "bob", "PolicyName": "own-keys", "PolicyDocument": iam_policy(
            "*", ["kms:CreateKey"])})
    own = bob.create_key()["KeyMetadata"]
    assert own["Arn"].startswith(f"arn:aws:kms:{region}:{B}:")
    assert own["KeyId"] not in {k["KeyId"] for k in owner.list_keys()["Keys"]}
