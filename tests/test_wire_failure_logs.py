"""A simulator bug on the wire is logged as one line naming the exception's type, never its
message (which may quote a plaintext the request carried)."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from simulator import Simulation
from simulator.wire.gateway import Gateway
from simulator.wire.protocols import WireRequest
from simulator.wire.server import ServeConfig, WireServer

_SECRET = "plaintext-that-must-not-be-logged"


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise ValueError(_SECRET)


def test_a_failing_service_call_logs_no_exception_message(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    sim = Simulation(seed=1)
    monkeypatch.setattr(type(sim.kms), "encrypt", _boom)
    auth = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/kms/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
    body = json.dumps({"KeyId": "k", "Plaintext": base64.b64encode(_SECRET.encode()).decode()})
    request = WireRequest("POST", "http://localhost/", {
        "x-amz-target": "TrentService.Encrypt", "content-type": "application/x-amz-json-1.1",
        "authorization": auth, "x-amz-date": "20260101T000000Z", "host": "localhost"},
        body.encode())
    with caplog.at_level(logging.ERROR, "simulator.wire"):
        response = Gateway(sim).handle(request)
    assert response.status == 500 and b"InternalFailure" in response.body
    assert "ValueError" in caplog.text and _SECRET not in caplog.text
    assert _SECRET.encode() not in response.body


def test_a_failing_admin_request_logs_no_exception_message(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    server = WireServer(ServeConfig(clock="manual"))
    monkeypatch.setattr(type(server.gateway.sim), "run_until_idle", _boom)
    with caplog.at_level(logging.ERROR, "simulator.wire"):
        response = server.admin("POST", "advance", "", b'{"until_idle": true}', False)
    assert response.status == 500
    assert "ValueError" in caplog.text and _SECRET not in caplog.text
