"""The admin API for several accounts and Regions (called in process on the ASGI application;
the server subprocess tests cover the same routes over HTTP): IAM of another account, audit
filtered by account and Region, faults and directory users placed in a cell, the cells in use;
and the transport facts the server puts on each request."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from simulator.errors import NoSuchEntityException
from simulator.wire.protocols import Transport, WireRequest, WireResponse
from simulator.wire.server import ServeConfig, WireServer

A = "123456789012"
B = "210987654321"


def _call(app: WireServer, method: str, route: str, body: Any = None) -> tuple[int, Any]:
    path, _, query = route.partition("?")
    data = b"" if body is None else json.dumps(body).encode()
    response = app.admin(method, path, query, data, False)
    text = response.body.decode()
    if response.headers.get("content-type") == "application/x-ndjson":
        return response.status, [json.loads(line) for line in text.splitlines()]
    return response.status, json.loads(text)


@pytest.fixture
def app() -> WireServer:
    return WireServer(ServeConfig(seed=4, clock="manual"))


def test_iam_of_another_account_through_the_admin_api_makes_its_users_and_keys(
        app: WireServer) -> None:
    status, user = _call(app, "POST", f"iam/CreateUser?account_id={B}", {"UserName": "bob"})
    assert status == 200 and user["User"]["Arn"] == f"arn:aws:iam::{B}:user/bob"
    status, key = _call(app, "POST", f"iam/CreateAccessKey?account_id={B}", {"UserName": "bob"})
    access_key_id = key["AccessKey"]["AccessKeyId"]
    assert app.gateway.sim.cells.account_of_access_key(access_key_id) == B
    with pytest.raises(NoSuchEntityException):  # the default account has no such user
        app.gateway.sim.iam.get_user(user_name="bob")
    cells = _call(app, "GET", "health")[1]["cells"]
    assert {"account_id": B, "region": "us-west-2"} in cells


@pytest.mark.parametrize("route", [
    "audit?account_id=12", "audit?region=mars-1", "iam/ListUsers?account_id=x",
    "directory-users?region=nowhere"])
def test_a_bad_account_or_region_is_a_validation_error(app: WireServer, route: str) -> None:
    method = "GET" if route.startswith("audit") else "POST"
    status, body = _call(app, method, route, {})
    assert status == 400 and body["__type"] == "ValidationException"


def test_audit_is_filtered_by_recipient_account_and_region(app: WireServer) -> None:
    sim = app.gateway.sim
    sim.kms.create_key()
    sim.view(account_id=B, region="eu-west-1").kms.create_key()
    sim.view(region="eu-west-1").kms.create_key()
    _, mine = _call(app, "GET", f"audit?event_name=CreateKey&account_id={B}")
    assert [(r["recipientAccountId"], r["awsRegion"]) for r in mine] == [(B, "eu-west-1")]
    _, west = _call(app, "GET", "audit?event_name=CreateKey&region=eu-west-1")
    assert sorted(r["recipientAccountId"] for r in west) == [A, B]
    _, both = _call(app, "GET", f"audit?event_name=CreateKey&account_id={A}&region=us-west-2")
    assert len(both) == 1
    assert len(_call(app, "GET", "audit?event_name=CreateKey")[1]) == 3


def test_faults_act_in_the_cell_they_name_and_delete_can_name_one(app: WireServer) -> None:
    sim = app.gateway.sim
    fault = {"trigger": {"type": "OnCall", "operation": "kms:Encrypt"},
             "effect": {"type": "RaiseError", "error": "KMSInternalException"}}
    assert _call(app, "POST", "faults", {**fault, "account_id": B, "region": "eu-west-1"})[0] \
        == 200
    assert _call(app, "POST", "faults", fault)[0] == 200
    other = sim.view(account_id=B, region="eu-west-1")
    assert len(other.faults.active) == 1 and len(sim.faults.active) == 1
    assert _call(app, "DELETE", f"faults?account_id={B}&region=eu-west-1") == (200, {"faults": []})
    assert other.faults.active == [] and len(sim.faults.active) == 1
    assert _call(app, "DELETE", "faults") == (200, {"faults": []})
    assert sim.faults.active == []


def test_a_directory_user_is_made_in_the_cell_named(app: WireServer) -> None:
    other = app.gateway.sim.view(account_id=B, region="eu-west-1")
    directory = other.directory.create_directory(name="corp.example.com", password="Passw0rd!x",
                                                 size="Small")
    status, user = _call(app, "POST", f"directory-users?account_id={B}&region=eu-west-1",
                         {"DirectoryId": directory.directory_id, "UserName": "jdoe"})
    assert status == 200 and user["UserName"] == "jdoe"
    status, refused = _call(app, "POST", "directory-users",  # not in the default cell
                            {"DirectoryId": directory.directory_id, "UserName": "jdoe"})
    assert (status, refused["__type"]) == (400, "EntityDoesNotExistException")


def test_the_server_puts_the_connections_transport_on_each_request(app: WireServer,
                                                                   monkeypatch: Any) -> None:
    seen: list[WireRequest] = []

    def handle(request: WireRequest) -> WireResponse:
        seen.append(request)
        return WireResponse(200, b"{}")

    monkeypatch.setattr(app.gateway, "handle", handle)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    for scheme, client in (("http", ("10.1.2.3", 50000)), ("https", None)):
        scope = {"type": "http", "method": "POST", "path": "/", "raw_path": b"/",
                 "query_string": b"", "headers": [(b"host", b"localhost")], "scheme": scheme,
                 "client": client}
        asyncio.run(app(scope, receive, send))
    assert [r.transport for r in seen] == [Transport(False, "10.1.2.3"), Transport(True, None)]
    # In process (mock_aws) the request is botocore's: TLS as its URL says, no address.
    assert WireRequest("POST", "https://kms.us-west-2.amazonaws.com/", {}, b"").transport \
        == Transport(True, None)


def test_fault_ids_are_unique_across_cells_and_replay_under_a_seed() -> None:
    def ids() -> list[str]:
        app = WireServer(ServeConfig(seed=4, clock="manual"))
        fault = {"trigger": {"type": "OnCall", "operation": "kms:Encrypt"},
                 "effect": {"type": "RaiseError", "error": "KMSInternalException"}}
        out = []
        for where in ({"account_id": B, "region": "eu-west-1"}, {}, {"region": "eu-west-1"}):
            status, body = _call(app, "POST", "faults", {**fault, **where})
            assert status == 200
            out += body["faults"]
        return out

    first = ids()
    assert len(set(first)) == 3 and ids() == first
