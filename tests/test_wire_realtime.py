"""The realtime clock: virtual time follows the wall clock times a speed, so clients that poll
see scheduled work happen (the nine-step launch over HTTP, a polling client in process)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from wire_support import serve

from simulator import Simulation
from simulator.clock import WallClockPacer
from simulator.wire import mock_aws

_CREDS = {"region_name": "us-west-2", "aws_access_key_id": "test", "aws_secret_access_key": "test"}


def test_the_pacer_owes_wall_seconds_times_speed_and_never_pays_twice() -> None:
    now = [100.0]
    pacer = WallClockPacer(speed=60, monotonic=lambda: now[0])
    assert pacer.owed() == 0
    now[0] = 101.5
    assert pacer.owed() == pytest.approx(90)
    assert pacer.owed() == 0
    now[0] = 102.0
    assert pacer.owed() == pytest.approx(30)
    with pytest.raises(ValueError):
        WallClockPacer(speed=0)


def _poll(read: Callable[[], str], until: set[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        state = read()
        if state in until:
            return state
        assert time.monotonic() < deadline, f"still {state}"
        time.sleep(0.05)


def _launch(ds: Any, ws: Any, kms: Any, add_user: Callable[[str, str], None]) -> tuple[str, str]:
    directory = ds.create_directory(Name="corp.example.com", Password="Passw0rd!",
                                    Size="Small")["DirectoryId"]
    add_user(directory, "jdoe")
    key = kms.create_key(Description="workspaces")["KeyMetadata"]["Arn"]
    bundle = ws.describe_workspace_bundles(Owner="AMAZON")["Bundles"][0]["BundleId"]
    created = ws.create_workspaces(Workspaces=[{
        "DirectoryId": directory, "UserName": "jdoe", "BundleId": bundle,
        "VolumeEncryptionKey": key, "RootVolumeEncryptionEnabled": True,
        "UserVolumeEncryptionEnabled": True}])
    assert created["FailedRequests"] == []
    return created["PendingRequests"][0]["WorkspaceId"], key


def test_a_polling_client_in_process_sees_pending_turn_available() -> None:
    sim = Simulation(seed=5)
    with mock_aws(sim, clock="realtime", speed=20_000):
        ws = boto3.client("workspaces")
        workspace_id, _ = _launch(boto3.client("ds"), ws, boto3.client("kms"),
                                  lambda d, u: sim.directory.create_user(directory_id=d, user_name=u))

        def state() -> str:
            return str(ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]["State"])

        assert state() == "PENDING"
        assert _poll(state, {"AVAILABLE"}) == "AVAILABLE"


def test_the_nine_step_launch_through_boto3_against_a_realtime_server() -> None:
    with serve("--seed", "5", "--clock", "realtime", "--speed", "3600") as (endpoint, _proc):
        clients = {n: boto3.client(n, endpoint_url=endpoint, **_CREDS)
                   for n in ("ds", "workspaces", "kms")}
        ws, kms = clients["workspaces"], clients["kms"]

        def add_user(directory: str, user: str) -> None:
            body = json.dumps({"DirectoryId": directory, "UserName": user}).encode()
            urllib.request.urlopen(urllib.request.Request(
                f"{endpoint}/_envelope-sim/directory-users", data=body, method="POST"), timeout=10)

        workspace_id, key = _launch(clients["ds"], ws, kms, add_user)

        def state() -> str:
            found = ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"]
            return str(found[0]["State"]) if found else "GONE"

        assert _poll(state, {"AVAILABLE", "ERROR"}) == "AVAILABLE"
        kms.disable_key(KeyId=key)
        ws.reboot_workspaces(RebootWorkspaceRequests=[{"WorkspaceId": workspace_id}])
        assert _poll(state, {"AVAILABLE", "UNHEALTHY", "ERROR"}) == "UNHEALTHY"
        described = ws.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]
        assert "DisabledException" in described.get("ErrorCode", "") + described.get("ErrorMessage", "")
        kms.enable_key(KeyId=key)
        ws.reboot_workspaces(RebootWorkspaceRequests=[{"WorkspaceId": workspace_id}])
        assert _poll(state, {"AVAILABLE", "UNHEALTHY", "ERROR"}) == "AVAILABLE"
        ws.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": workspace_id}])
        assert _poll(state, {"TERMINATED", "GONE"}) in {"TERMINATED", "GONE"}
        with urllib.request.urlopen(f"{endpoint}/_envelope-sim/trace?workspace_id={workspace_id}",
                                    timeout=10) as response:
            trace = json.loads(response.read())
    assert {e["step"] for e in trace} >= set(range(1, 10))
