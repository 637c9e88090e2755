"""The admin API: a refused reset changes nothing; IAM calls reuse the loaded model."""

from __future__ import annotations

import json

import botocore.session
import pytest

from simulator.wire.server import ServeConfig, WireServer


def _post(server: WireServer, route: str, body: object) -> tuple[int, dict[str, object]]:
    response = server.admin("POST", route, "", json.dumps(body).encode(), False)
    return response.status, json.loads(response.body)


def test_a_reset_with_a_refused_seed_keeps_the_running_simulation_and_its_seed(tmp_path) -> None:
    log = tmp_path / "audit.jsonl"
    server = WireServer(ServeConfig(seed=5, clock="manual", audit_log=str(log)))
    key = server.gateway.sim.kms.create_key().key_id

    status, body = _post(server, "reset", {"seed": -1})

    assert status == 400 and body["__type"] == "ValidationException"
    assert server.config.seed == 5
    server.gateway.sim.kms.describe_key(key_id=key)  # the same simulation, its audit log open
    server.gateway.sim.audit.close()
    assert "DescribeKey" in log.read_text()
    status, body = _post(server, "reset", {})
    assert status == 200 and body["seed"] == 5


def test_the_admin_iam_route_uses_the_catalog_model_without_reloading_botocore(
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = WireServer(ServeConfig(seed=5, clock="manual"))

    def no_new_session() -> None:
        raise AssertionError("botocore's models were loaded again for one admin call")

    monkeypatch.setattr(botocore.session, "get_session", no_new_session)
    status, body = _post(server, "iam/CreateUser", {"UserName": "carol"})
    assert status == 200 and body["User"]["UserName"] == "carol"
