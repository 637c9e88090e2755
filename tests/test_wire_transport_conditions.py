"""The request's transport on the wire feeds ``aws:SecureTransport`` and ``aws:SourceIp``:
through mock_aws (the URL's scheme), the real server (the client's address) and the gateway's
per-caller views (never answering with another request's transport)."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from test_wire_server import admin
from wire_support import serve

from simulator import Simulation
from simulator.wire import mock_aws
from simulator.wire.gateway import Gateway
from simulator.wire.protocols import Transport, WireRequest

_NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
_CREDS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def _key_policy(account: str, deny: dict[str, Any]) -> str:
    """The default key policy (the account's IAM decides) plus a Deny to everyone on ``deny``."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM policies", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "Transport", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
         "Resource": "*", "Condition": deny}]})


def _code(call: Any, **kwargs: Any) -> str | None:
    try:
        call(**kwargs)
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return None


def test_a_deny_on_insecure_transport_refuses_an_http_endpoint_and_allows_https() -> None:
    sim = Simulation(seed=1)
    key = sim.kms.create_key(policy=_key_policy(
        sim.account_id, {"Bool": {"aws:SecureTransport": "false"}})).key_id
    with mock_aws(sim):
        plain = boto3.client("kms", endpoint_url=f"http://kms.{sim.region}.amazonaws.com",
                             config=_NO_RETRY)
        tls = boto3.client("kms", endpoint_url=f"https://kms.{sim.region}.amazonaws.com",
                           config=_NO_RETRY)
        with pytest.raises(ClientError) as err:
            plain.encrypt(KeyId=key, Plaintext=b"x")
        assert err.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "explicit deny in a resource-based policy" in err.value.response["Error"]["Message"]
        blob = tls.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
        assert boto3.client("kms").decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"  # default
    # In process there is no transport: the key is absent and the Deny does not match.
    assert sim.kms.encrypt(key_id=key, plaintext=b"y").key_id.endswith(key)


def test_an_allow_on_source_ip_holds_and_a_deny_on_its_network_refuses_over_http() -> None:
    with serve("--seed", "17", "--clock", "manual") as (endpoint, _proc):
        root = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1",
                            config=_NO_RETRY, **_CREDS)
        key_arn = root.create_key()["KeyMetadata"]["Arn"]
        account = key_arn.split(":")[4]
        admin(endpoint, "POST", f"iam/CreateUser?account_id={account}", {"UserName": "ip"})
        access = admin(endpoint, "POST", f"iam/CreateAccessKey?account_id={account}",
                       {"UserName": "ip"})["AccessKey"]
        user = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1",
                            config=_NO_RETRY, aws_access_key_id=access["AccessKeyId"],
                            aws_secret_access_key=access["SecretAccessKey"])

        def policy(*statements: dict[str, Any]) -> None:
            admin(endpoint, "POST", f"iam/PutUserPolicy?account_id={account}", {
                "UserName": "ip", "PolicyName": "by-address", "PolicyDocument": json.dumps(
                    {"Version": "2012-10-17", "Statement": list(statements)})})

        def allow(network: str) -> dict[str, Any]:
            return {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": key_arn,
                    "Condition": {"IpAddress": {"aws:SourceIp": network}}}

        policy(allow("10.0.0.0/8"))  # another network: the Allow does not match
        assert _code(user.encrypt, KeyId=key_arn, Plaintext=b"x") == "AccessDeniedException"
        policy(allow("127.0.0.1/32"))
        assert _code(user.encrypt, KeyId=key_arn, Plaintext=b"x") is None
        policy(allow("127.0.0.1/32"), {
            "Effect": "Deny", "Action": "kms:*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}})
        with pytest.raises(ClientError) as err:
            user.encrypt(KeyId=key_arn, Plaintext=b"x")
        assert err.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "explicit deny in an identity-based policy" in \
            err.value.response["Error"]["Message"]


def _encrypt_request(key: str, region: str, transport: Transport) -> WireRequest:
    auth = (f"AWS4-HMAC-SHA256 Credential=test/20260101/{region}/kms/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
    body = json.dumps({"KeyId": key, "Plaintext": base64.b64encode(b"x").decode()})
    return WireRequest("POST", f"https://kms.{region}.amazonaws.com/", {
        "x-amz-target": "TrentService.Encrypt", "content-type": "application/x-amz-json-1.1",
        "authorization": auth, "x-amz-date": "20260101T000000Z",
        "host": f"kms.{region}.amazonaws.com"}, body.encode(), transport)


def test_requests_over_different_transports_do_not_share_a_cached_view() -> None:
    sim = Simulation(seed=1)
    key = sim.kms.create_key(policy=_key_policy(
        sim.account_id, {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})).key_id
    gateway = Gateway(sim)
    outside, inside = Transport(True, "192.0.2.7"), Transport(True, "10.1.2.3")
    # Same credentials, operation and Region each time: only the transport differs.
    statuses = [gateway.handle(_encrypt_request(key, sim.region, t)).status
                for t in (outside, inside, outside, inside, Transport(False, "192.0.2.7"))]
    assert statuses == [200, 400, 200, 400, 200]
    assert [r.get("errorCode") for r in sim.audit.events("Encrypt")] == [
        None, "AccessDeniedException", None, "AccessDeniedException", None]


def test_the_audit_record_of_a_wire_request_names_the_clients_address() -> None:
    sim = Simulation(seed=1)
    key = sim.kms.create_key(policy=_key_policy(
        sim.account_id, {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})).key_id
    in_process = sim.audit.events("CreateKey")[0]["sourceIPAddress"]
    gateway = Gateway(sim)
    for transport in (Transport(True, "192.0.2.7"), Transport(True, "10.1.2.3")):
        gateway.handle(_encrypt_request(key, sim.region, transport))
    assert [(r["sourceIPAddress"], r.get("errorCode")) for r in sim.audit.events("Encrypt")] == [
        ("192.0.2.7", None), ("10.1.2.3", "AccessDeniedException")]
    sim.kms.encrypt(key_id=key, plaintext=b"x")  # in process: as before
    assert sim.audit.events("Encrypt")[-1]["sourceIPAddress"] == in_process
