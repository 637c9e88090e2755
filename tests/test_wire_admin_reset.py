"""The admin API's reset: a refused seed changes nothing."""

from __future__ import annotations

import json

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
