"""``envelope-sim serve --state FILE``: the real server process keeps its simulation in a state
file, so a blob encrypted before a stop (SIGTERM) decrypts after a restart on the same file;
the admin calls that would lose or break the file are refused; a second server on the file is
refused; an idle realtime server does not write the clock into the journal."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from wire_support import free_port, serve

from simulator import Simulation
from simulator.wire.gateway import Gateway

_CREDS = {"region_name": "us-west-2", "aws_access_key_id": "test", "aws_secret_access_key": "test",
          "config": Config(retries={"mode": "standard", "total_max_attempts": 1})}


def _kms(endpoint: str, region: str = "us-west-2") -> Any:
    return boto3.client("kms", endpoint_url=endpoint, **{**_CREDS, "region_name": region})


def _admin(endpoint: str, method: str, route: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{endpoint}/_envelope-sim/{route}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    return proc.stdout.read() if proc.stdout else ""


def test_a_blob_encrypted_before_a_sigterm_decrypts_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    with serve("--state", str(path)) as (endpoint, proc):
        kms = _kms(endpoint)
        key = kms.create_key(Description="kept across restarts")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/team", TargetKeyId=key)
        blob = kms.encrypt(KeyId="alias/team", Plaintext=b"the team's secret")["CiphertextBlob"]
        eu = _kms(endpoint, "eu-west-1")  # another Region: a cell made by the request
        eu_blob = eu.encrypt(KeyId=eu.create_key()["KeyMetadata"]["KeyId"],
                             Plaintext=b"in Ireland")["CiphertextBlob"]
        assert _admin(endpoint, "GET", "health")[1]["seed"] is None  # as asked: none
        output = _stop(proc)
    assert "Traceback" not in output and f"state:   {path}" in output
    with Simulation(state=path) as sim:  # the seed drawn for the file is shown nowhere
        assert isinstance(sim.seed, int) and str(sim.seed) not in output
    for made in (path, path.with_name("team.db-key"), path.with_name("team.db-blocks")):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600
    with serve("--state", str(path)) as (endpoint, proc):
        kms = _kms(endpoint)
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"the team's secret"
        assert _kms(endpoint, "eu-west-1").decrypt(CiphertextBlob=eu_blob)["Plaintext"] == \
            b"in Ireland"
        assert kms.describe_key(KeyId="alias/team")["KeyMetadata"]["Description"] == \
            "kept across restarts"
        assert "Traceback" not in _stop(proc)


def test_reset_and_faults_are_refused_and_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    with serve("--state", str(path), "--clock", "manual") as (endpoint, proc):
        key = _kms(endpoint).create_key()["KeyMetadata"]["KeyId"]
        status, body = _admin(endpoint, "POST", "reset", {"seed": 3})
        assert status == 400 and body["__type"] == "UnsupportedOperationException"
        assert str(path) in body["message"] and "delete the file" in body["message"]
        status, body = _admin(endpoint, "POST", "faults", {"kind": "throttle"})
        assert status == 400 and body["__type"] == "UnsupportedOperationException"
        assert [k["KeyId"] for k in _kms(endpoint).list_keys()["Keys"]] == [key]
        _stop(proc)
    assert path.exists()
    with Simulation(state=path) as sim:
        assert [k.key_id for k in sim.kms.list_keys().keys] == [key]


def test_a_second_server_on_the_same_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    with serve("--state", str(path), "--clock", "manual") as (endpoint, proc):
        _kms(endpoint).create_key()
        second = subprocess.run(
            [sys.executable, "-m", "simulator.cli", "serve", "--port", str(free_port()),
             "--state", str(path)], capture_output=True, text=True, timeout=30)
        assert second.returncode == 2
        assert second.stderr.startswith("envelope-sim serve: error: ") and str(path) in \
            second.stderr
        assert "Traceback" not in second.stderr + second.stdout
        assert len(_kms(endpoint).list_keys()["Keys"]) == 1  # the first keeps serving
        _stop(proc)


def test_a_seed_that_contradicts_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    Simulation(seed=1, state=path).close()
    before = path.read_bytes()
    refused = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "serve", "--port", str(free_port()),
         "--state", str(path), "--seed", "2"], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "seed=1" in refused.stderr
    assert "Traceback" not in refused.stderr and path.read_bytes() == before


def test_an_idle_realtime_tick_moves_a_saved_clock_only_when_work_falls_due(
        tmp_path: Path) -> None:
    with Simulation(seed=1, state=tmp_path / "sim.db") as sim:
        gateway = Gateway(sim, clock="realtime", speed=100_000)
        start = sim.clock.now()
        time.sleep(0.01)
        gateway.tick(idle=True)  # nothing scheduled: no advance, no journal row
        assert sim.clock.now() == start
        vol = sim.ebs.create_volume(size=1, availability_zone=f"{sim.region}a").volume_id
        time.sleep(0.01)  # at this speed, the volume's creation falls due
        gateway.tick(idle=True)
        assert sim.clock.now() > start
        assert sim.ebs.describe_volumes(volume_ids=[vol]).volumes[0].state == "available"
        moved = sim.clock.now()
        time.sleep(0.01)
        gateway.tick()  # a request's tick always catches the clock up
        assert sim.clock.now() > moved
