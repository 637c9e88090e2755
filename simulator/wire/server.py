"""``envelope-sim serve``: one HTTP endpoint for every service, account and Region served.

An ASGI application served by uvicorn (HTTP/1.1 through h11). Requests are answered on the one
event loop, one at a time, so the simulation never sees two calls at once (its own lock would
serialize them too; with one loop no thread ever waits on it).
Requests route by ``X-Amz-Target`` (and the SigV4 credential scope); ``/_envelope-sim/`` is the
admin API (:data:`ADMIN_HELP`). Bodies are never logged: they carry plaintext data keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ..cells import check_account_id, check_region
from ..errors import (
    AwsError,
    SerializationException,
    UnknownOperationException,
    UnsupportedOperationException,
    ValidationException,
)
from .gateway import Gateway
from .options import ADMIN_HELP
from .protocols import Transport, WireRequest, WireResponse
from .shapes import ShapeCodec

if TYPE_CHECKING:
    from ..cells import Cell
    from ..iam.service import IdentityAndAccessManagement
    from ..simulation import Simulation

__all__ = ["ADMIN_HELP", "MAX_BODY_BYTES", "ServeConfig", "WireServer", "serve"]

_log = logging.getLogger("simulator.wire")

#: Larger bodies are refused before they are read in full (KMS's largest input is 4 KiB of
#: plaintext; WorkSpaces and Directory Service calls are small).
MAX_BODY_BYTES = 1 << 20
#: The prefix of the admin API.
ADMIN = "/_envelope-sim/"


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class ServeConfig:
    """What ``envelope-sim serve`` was asked for (``reset`` keeps it, maybe with a new seed)."""

    host: str = "127.0.0.1"
    port: int = 4599
    seed: int | None = None
    clock: str = "realtime"
    speed: float = 1.0
    strict_credentials: bool = False
    audit_log: str | None = None
    #: In-memory audit records and trace events kept (the newest); None keeps all.
    max_records: int | None = 10_000
    #: A state file (``Simulation(state=...)``): created, or reopened with what it holds.
    state: str | None = None

    def simulation(self) -> Simulation:
        from ..simulation import Simulation

        sim = Simulation(seed=self.seed, state=self.state)
        sim.audit.keep_last(self.max_records)
        sim.trace.keep_last(self.max_records)
        if self.audit_log:
            sim.audit.write_jsonl(self.audit_log)
        return sim


class WireServer:
    """The ASGI application: the AWS endpoint and the admin API over one :class:`Gateway`."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.gateway = Gateway(config.simulation(), strict_credentials=config.strict_credentials,
                               clock=config.clock, speed=config.speed)
        self._iam_codec: ShapeCodec | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body, too_large = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        if path.startswith(ADMIN):
            response = self.admin(scope["method"], path[len(ADMIN):], query, body, too_large)
        else:
            raw = scope.get("raw_path") or path.encode()
            url = f"http://{headers.get('host', '')}{raw.decode('latin-1')}"
            if query:
                url += "?" + query
            client = scope.get("client")
            request = WireRequest(scope["method"], url, headers, body, Transport(
                scope.get("scheme") == "https", client[0] if client else None))
            if too_large:
                response = self.gateway.refuse(request, SerializationException(
                    f"The request body exceeds {MAX_BODY_BYTES} bytes."))
            else:
                response = self.gateway.handle(request)
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()]})
        await send({"type": "http.response.body", "body": response.body})

    # -- the admin API ----------------------------------------------------------------------

    def admin(self, method: str, route: str, query: str, body: bytes, too_large: bool) -> WireResponse:
        """Answer one admin request (errors are AWS-shaped JSON too)."""
        try:
            if too_large:
                raise SerializationException(f"The request body exceeds {MAX_BODY_BYTES} bytes.")
            self.gateway.tick()
            params = {k: v[-1] for k, v in parse_qs(query).items()}
            result = self._admin(method, route, params, body)
            if isinstance(result, WireResponse):
                return result
            return _json(200, result)
        except AwsError as err:
            return _json(err.http_status, {"__type": err.code, "message": err.message})
        except Exception as exc:  # a simulator bug: one line (the type only), no body, no traceback
            _log.error("admin request failed (%s)", type(exc).__name__)
            return _json(500, {"__type": "InternalFailure",
                               "message": f"envelope-sim failed ({type(exc).__name__})"})

    def _admin(self, method: str, route: str, params: dict[str, str], body: bytes) -> Any:
        sim = self.gateway.sim
        if (method, route) == ("GET", "health"):
            return self._health()
        if (method, route) == ("POST", "reset"):
            if self.config.state is not None:
                # A reset would throw away what the state file keeps (every key a team's
                # ciphertexts need): never on one HTTP call.
                raise UnsupportedOperationException(
                    f"POST {ADMIN}reset is refused while serving the state file "
                    f"{self.config.state!r}: stop the server and delete the file (and its "
                    "-wal, -blocks and -key side files) to start fresh.")
            seed = _document(body).get("seed", self.config.seed)
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise ValidationException("seed must be an integer or null")
            # Build the new simulation first: a seed it refuses leaves the old one serving.
            fresh = replace(self.config, seed=seed).simulation()
            self.config.seed = seed
            sim.audit.close()
            self.gateway.sim = fresh
            return self._health()
        if (method, route) == ("POST", "advance"):
            doc = _document(body)
            if doc.get("until_idle") is True:
                ran = sim.run_until_idle()
            else:
                seconds: Any = doc.get("seconds")
                ran = sim.advance(seconds)  # the simulation checks the value
            return {"ran": ran, "now": _iso(sim)}
        if (method, route) == ("GET", "audit"):
            records = _in_cells(sim, sim.audit.events(params.get("event_name")), params)
            lines = "".join(json.dumps(r) + "\n" for r in records)
            return WireResponse(200, lines.encode(), {"content-type": "application/x-ndjson"})
        if (method, route) == ("GET", "trace"):
            text = sim.trace.to_json(params.get("workspace_id"))
            return WireResponse(200, text.encode(), {"content-type": "application/json"})
        if (method, route) == ("POST", "faults"):
            if self.config.state is not None:
                # Injected faults are not saved: the calls they failed would replay differently,
                # and the file would then refuse to reopen.
                raise UnsupportedOperationException(
                    f"POST {ADMIN}faults is refused while serving the state file "
                    f"{self.config.state!r}: a state file does not keep injected faults, so "
                    "the calls they change could not be replayed. Serve without --state to "
                    "inject faults.")
            return {"faults": self._inject(body)}
        if (method, route) == ("DELETE", "faults"):
            for cell in _cells(sim, params):
                cell.faults.clear()
            return {"faults": []}
        if (method, route) == ("POST", "directory-users"):
            doc = _document(body)
            # The service checks every value (a missing one is None, which it refuses).
            directory_id: Any = doc.get("DirectoryId")
            user_name: Any = doc.get("UserName")
            user = _cell(sim, params).directory.create_user(
                directory_id=directory_id, user_name=user_name,
                given_name=doc.get("GivenName"), surname=doc.get("Surname"),
                email_address=doc.get("EmailAddress"))
            return {"DirectoryId": user.directory_id, "UserName": user.user_name, "Sid": user.sid}
        if method == "POST" and route.startswith("iam/"):
            return self._iam(route[len("iam/"):], body, _cell(sim, params).iam)
        raise UnknownOperationException(
            f"No admin route {method} {ADMIN}{route[:100]}; see `envelope-sim serve --help`.")

    def _health(self) -> dict[str, Any]:
        sim = self.gateway.sim
        return {"status": "ok", "region": sim.region, "account_id": sim.account_id,
                # The seed asked for: a state file's drawn seed recreates every key, and it is
                # sealed in the file for that reason.
                "seed": self.config.seed, "clock": self.config.clock, "speed": self.config.speed,
                "now": _iso(sim),
                "cells": [{"account_id": c.account_id, "region": c.region} for c in sim.cells]}

    def _inject(self, body: bytes) -> list[str]:
        from ..faults import Fault, FaultPlan

        doc = _document(body)
        sim = self.gateway.sim
        if "faults" in doc:
            active = sim.faults.inject_plan(FaultPlan.from_dict(doc))
        else:
            active = [sim.faults.inject(Fault.from_dict(doc))]
        return [a.fault_id for a in active]

    def _iam(self, operation: str, body: bytes, iam: IdentityAndAccessManagement) -> Any:
        from botocore import xform_name

        from .protocols import JsonProtocol

        # The catalog's model: botocore reads it once per process, not on every admin call.
        model = self.gateway.catalog.specs["iam"].model
        if operation not in model.operation_names or not hasattr(iam, xform_name(operation)):
            raise UnknownOperationException(f"envelope-sim does not implement IAM {operation}.")
        op = model.operation_model(operation)
        if self._iam_codec is None:
            self._iam_codec = JsonProtocol().shapes
        params = (self._iam_codec.decoder(op.input_shape)(_document(body), "")
                  if op.input_shape is not None else {})
        result = getattr(iam, xform_name(operation))(**params)
        return self._iam_codec.output(op.output_shape, result)


def _cell(sim: Simulation, params: dict[str, str]) -> Cell:
    """The cell the ``account_id`` and ``region`` query parameters name (each defaults to the
    simulation's own; checked, ``ValidationException``)."""
    return sim.view(account_id=params.get("account_id"), region=params.get("region"))


def _cells(sim: Simulation, params: dict[str, str]) -> list[Cell]:
    """Every cell, or only those of the ``account_id`` and/or ``region`` given."""
    account, region = params.get("account_id"), params.get("region")
    if account is None and region is None:
        return list(sim.cells)
    if account is not None:
        check_account_id(account)
    if region is not None and region != sim.region:
        check_region(region)
    return [c for c in sim.cells
            if account in (None, c.account_id) and region in (None, c.region)]


def _in_cells(sim: Simulation, records: list[dict[str, Any]],
              params: dict[str, str]) -> list[dict[str, Any]]:
    """The records of the ``account_id`` and/or ``region`` given (CloudTrail's recipient
    account and Region: a cross-account call is in both accounts' trails)."""
    account, region = params.get("account_id"), params.get("region")
    if account is not None:
        check_account_id(account)
        records = [r for r in records if r["recipientAccountId"] == account]
    if region is not None:
        if region != sim.region:
            check_region(region)
        records = [r for r in records if r["awsRegion"] == region]
    return records


def _iso(sim: Simulation) -> str:
    return sim.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SerializationException("The request body is not valid UTF-8 JSON.") from None
    if type(doc) is not dict:
        raise SerializationException("The request body must be a JSON object.")
    return doc


def _json(status: int, document: Any) -> WireResponse:
    return WireResponse(status, json.dumps(document).encode(), {"content-type": "application/json"})


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, or ``(b"", True)`` once it exceeds :data:`MAX_BODY_BYTES` (the rest is
    drained, not kept)."""
    chunks: list[bytes] = []
    size = 0
    too_large = False
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            too_large = True
            chunks.clear()
        elif not too_large:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return (b"", True) if too_large else (b"".join(chunks), False)


async def _ticker(server: WireServer, every: float) -> None:
    """In realtime mode, scheduled work runs as it falls due even when no request arrives."""
    while True:
        await asyncio.sleep(every)
        try:
            server.gateway.tick(idle=True)
        except Exception as exc:  # keep serving; the next request reports state
            _log.error("scheduled work failed (%s)", type(exc).__name__)


def serve(config: ServeConfig, announce: Callable[[str], None] = print) -> None:
    """Run the server until Ctrl-C or SIGTERM (in-flight requests complete)."""
    import uvicorn

    app = WireServer(config)
    uv_config = uvicorn.Config(app, host=config.host, port=config.port, interface="asgi3",
                               http="h11", lifespan="off", access_log=False, log_level="warning")
    server = uvicorn.Server(uv_config)

    async def main() -> None:
        ticker = asyncio.create_task(_ticker(app, 0.2)) if config.clock == "realtime" else None
        try:
            await server.serve()
        finally:
            if ticker is not None:
                ticker.cancel()
            app.gateway.sim.audit.close()

    endpoint = f"http://{config.host}:{config.port}"
    sim = app.gateway.sim
    announce(
        f"envelope-sim serving KMS, WorkSpaces and Directory Service at {endpoint}\n"
        f"  every Region and account: the SigV4 Region and the access key choose; unknown keys "
        f"act as account {sim.account_id}'s root\n"
        f"  default Region {sim.region}, seed {config.seed}, "
        f"clock {config.clock} (speed {config.speed:g})\n"
        + (f"  state:   {config.state} (every call saved; reopened on the next start)\n"
           if config.state else "") +
        f"  boto3:   boto3.client('kms', endpoint_url='{endpoint}', region_name='{sim.region}',\n"
        f"                        aws_access_key_id='test', aws_secret_access_key='test')\n"
        f"  aws-cli: aws --endpoint-url {endpoint} --region {sim.region} kms list-keys\n"
        # botocore and the aws-cli read AWS_DEFAULT_REGION; the other SDKs AWS_REGION.
        f"  any SDK: AWS_ENDPOINT_URL={endpoint} AWS_REGION={sim.region} "
        f"AWS_DEFAULT_REGION={sim.region}\n"
        f"  admin:   {endpoint}{ADMIN}health (see envelope-sim serve --help)\n"
        "  Ctrl-C stops it.")
    # uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again for the handler
    # that was there before; this one ends the run normally, so the audit log is closed.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        asyncio.run(main())
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        app.gateway.sim.close()  # a state file: pending block writes committed, lock released


class _Stopped(Exception):
    """Raised by the signal handler uvicorn hands a stop signal back to."""


def _stopped(signum: int, frame: object) -> None:
    raise _Stopped(signum)
