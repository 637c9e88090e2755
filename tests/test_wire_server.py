"""``envelope-sim serve`` as a real subprocess: boto3 over HTTP, the admin API, determinism,
bad input, and a clean stop."""

from __future__ import annotations

import base64
import http.client
import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from test_wire_parity import replay
from wire_support import MODELS, serve, succeeding_operations

_CREDS = {"region_name": "us-west-2", "aws_access_key_id": "test", "aws_secret_access_key": "test",
          "config": Config(retries={"mode": "standard", "total_max_attempts": 1})}


def admin(endpoint: str, method: str, route: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{endpoint}/_envelope-sim/{route}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return text if route.startswith(("audit", "trace")) else json.loads(text)


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, **_CREDS)


@pytest.fixture(scope="module")
def manual_server() -> Iterator[tuple[str, Any]]:
    """One server for the module; once every test has used it, its output must hold no
    traceback (bad and fuzzed input included)."""
    with serve("--seed", "11", "--clock", "manual") as (endpoint, proc):
        yield endpoint, proc
        proc.terminate()
        output = proc.stdout.read() if proc.stdout else ""
    assert not any(bad in output for bad in ("Traceback", "ERROR", "failed on")), output


def test_every_implemented_operation_answers_over_http_as_the_python_api_does(
        manual_server: tuple[str, Any]) -> None:
    endpoint, _ = manual_server
    admin(endpoint, "POST", "reset", {"seed": 11})
    clients = {name: client(endpoint, name) for name in MODELS}

    def call(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if service == "_idle":
            admin(endpoint, "POST", "advance", {"until_idle": True})
            return {}
        if service == "_user":
            admin(endpoint, "POST", "directory-users",
                  {"DirectoryId": params["directory_id"], "UserName": params["user_name"]})
            return {}
        result: dict[str, Any] = getattr(clients[service], xform_name(operation))(**params)
        return result

    assert replay(call) == succeeding_operations()


def test_the_admin_api_reports_advances_filters_injects_and_resets(
        manual_server: tuple[str, Any]) -> None:
    endpoint, _ = manual_server
    health = admin(endpoint, "POST", "reset", {"seed": 3})
    assert health["seed"] == 3 and health["clock"] == "manual" and health["status"] == "ok"
    kms = client(endpoint, "kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.describe_key(KeyId=key)
    lines = admin(endpoint, "GET", "audit?event_name=DescribeKey").splitlines()
    assert [json.loads(line)["eventName"] for line in lines] == ["DescribeKey"]
    assert admin(endpoint, "POST", "advance", {"seconds": 3600})["now"] == "2026-01-05T10:00:00Z"
    fault = {"trigger": {"type": "OnCall", "operation": "kms:Encrypt", "nth": 1},
             "effect": {"type": "RaiseError", "error": "KMSInternalException", "count": 1}}
    assert len(admin(endpoint, "POST", "faults", fault)["faults"]) == 1
    with pytest.raises(ClientError) as err:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert err.value.response["Error"]["Code"] == "KMSInternalException"
    assert admin(endpoint, "DELETE", "faults") == {"faults": []}
    assert json.loads(admin(endpoint, "GET", "trace"))
    with pytest.raises(urllib.error.HTTPError) as bad:
        admin(endpoint, "POST", "advance", {"seconds": -1})
    assert json.loads(bad.value.read())["__type"] == "ValidationException"
    with pytest.raises(urllib.error.HTTPError) as bad:
        admin(endpoint, "GET", "nothing-here")
    assert json.loads(bad.value.read())["__type"] == "UnknownOperationException"
    assert admin(endpoint, "POST", "reset", {})["now"] == "2026-01-05T09:00:00Z"


def _raw(endpoint: str, body: bytes, headers: dict[str, str], method: str = "POST") -> tuple[int, dict[str, Any]]:
    parts = urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, "/", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


_AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260105/us-west-2/kms/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


def _kms_headers(target: str = "TrentService.CreateKey", **extra: str) -> dict[str, str]:
    return {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Date": "20260105T090000Z", "Authorization": _AUTH, **extra}


@pytest.mark.parametrize(("body", "headers", "code"), [
    (b"{not json", _kms_headers(), "SerializationException"),
    (b"\xff\xfe\x00", _kms_headers(), "SerializationException"),
    (b"[]", _kms_headers(), "SerializationException"),
    (b'{"Description": 5}', _kms_headers(), "SerializationException"),
    (b'{"Tags": {"a": 1}}', _kms_headers(), "SerializationException"),
    (b'{"KeyId": "x", "NumberOfBytes": "32"}', _kms_headers("TrentService.GenerateDataKey"),
     "SerializationException"),
    (b'{"CiphertextBlob": "!!!"}', _kms_headers("TrentService.Decrypt"), "SerializationException"),
    (b"[" * 100_000, _kms_headers(), "SerializationException"),
    (b'{"NumberOfBytes": ' + b"9" * 5000 + b"}", _kms_headers("TrentService.GenerateRandom"),
     "SerializationException"),
    (b"{}", _kms_headers("TrentService.NoSuchThing"), "UnknownOperationException"),
    (b"{}", _kms_headers("Nobody.Nothing"), "UnknownOperationException"),
    (b"{}", _kms_headers(**{"Content-Type": "text/plain"}), "SerializationException"),
    (b"{}", {k: v for k, v in _kms_headers().items() if k != "Authorization"},
     "MissingAuthenticationTokenException"),
    (b"{}", _kms_headers(Authorization="Bearer nope"), "IncompleteSignatureException"),
    (b"x" * (2 << 20), _kms_headers(), "SerializationException"),
])
def test_bad_input_gets_an_aws_shaped_error_and_the_server_keeps_serving(
        manual_server: tuple[str, Any], body: bytes, headers: dict[str, str], code: str) -> None:
    endpoint, _ = manual_server
    status, document = _raw(endpoint, body, headers)
    assert 400 <= status < 500 and document["__type"] == code, document
    assert admin(endpoint, "GET", "health")["status"] == "ok"


def test_fuzzed_bodies_never_break_the_server(manual_server: tuple[str, Any]) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    endpoint, _ = manual_server
    targets = st.sampled_from([f"{m.metadata['targetPrefix']}.{op}" for m in MODELS.values()
                               for op in m.operation_names[:12]])
    json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                               lambda inner: st.lists(inner, max_size=3)
                               | st.dictionaries(st.text(max_size=12), inner, max_size=3),
                               max_leaves=12)
    bodies = st.binary(max_size=64) | json_values.map(lambda v: json.dumps(v).encode()) | \
        st.dictionaries(st.sampled_from(["KeyId", "Plaintext", "Workspaces", "DirectoryIds",
                                         "EncryptionContext", "Limit", "GrantTokens"]),
                        json_values, max_size=3).map(lambda v: json.dumps(v).encode())

    @settings(deadline=None)  # examples: the profile (60 in CI, 2000 with HYPOTHESIS_PROFILE=long)
    @given(targets, bodies)
    def fuzz(target: str, body: bytes) -> None:
        status, document = _raw(endpoint, body, _kms_headers(target))
        assert status < 500 or document["__type"] in {"KMSInternalException"}, document
        assert isinstance(document.get("__type"), str) or status == 200

    fuzz()
    assert admin(endpoint, "GET", "health")["status"] == "ok"


def _keys_and_blobs(endpoint: str) -> list[Any]:
    kms = client(endpoint, "kms")
    key = kms.create_key(Description="seeded")["KeyMetadata"]
    dk = kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256", EncryptionContext={"a": "b"})
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"same every run")["CiphertextBlob"]
    return [key["KeyId"], dk["CiphertextBlob"], dk["Plaintext"], blob]


def test_serve_seed_7_gives_the_same_key_ids_and_blobs_on_two_runs() -> None:
    runs = []
    for _ in range(2):
        with serve("--seed", "7") as (endpoint, _proc):
            runs.append(_keys_and_blobs(endpoint))
    assert runs[0] == runs[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_stop_the_server_promptly_even_with_an_idle_keep_alive_connection(
        sig: signal.Signals, tmp_path: Any) -> None:
    log = tmp_path / "audit.jsonl"
    with serve("--seed", "1", "--audit-log", str(log)) as (endpoint, proc):
        kms = client(endpoint, "kms")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")["Plaintext"]
        kms.list_keys()  # leaves a pooled keep-alive connection open
        started = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        output = proc.stdout.read() if proc.stdout else ""
    assert "Traceback" not in output
    # Bodies are never logged: no plaintext data key in the server's output.
    assert base64.b64encode(data_key).decode() not in output and data_key.hex() not in output
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["eventName"] for r in records] == ["CreateKey", "GenerateDataKey", "ListKeys"]
    assert base64.b64encode(data_key).decode() not in log.read_text()
    assert "envelope-sim serving KMS, WorkSpaces and Directory Service at " + endpoint in output
