"""One request in, one response out: routing, credentials, the codec and the service call.

A request goes to the cell of (the account of its access key, the Region of its SigV4
credential scope) of the simulation (:mod:`.credentials` says who and where); IAM and STS,
global per account, to the account's one IAM and STS.

Both faces use it: :func:`~simulator.wire.mock.mock_aws` hands it the request botocore signed,
the HTTP server the request that arrived. The gateway maps names and shapes and calls the
service method; every rule stays in the service, which raises the AWS error the client sees.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel, ServiceModel

from ..clock import WallClockPacer
from ..errors import (
    AwsError,
    InternalFailure,
    UnknownOperationException,
    ValidationException,
    error_for_code,
)
from ..iam.principals import Caller
from ..simulation import Simulation
from .credentials import Authenticator
from .protocols import JsonProtocol, WireProtocol, WireRequest, WireResponse
from .query import Ec2Protocol, QueryProtocol

if TYPE_CHECKING:
    from ..cells import Cell

__all__ = ["GLOBAL_SERVICES", "PROTOCOLS", "SERVICES", "Catalog", "Gateway", "ServiceSpec", "catalog"]

_log = logging.getLogger("simulator.wire")

#: Services reachable over the wire: botocore's service name -> the Simulation attribute.
SERVICES = {"kms": "kms", "workspaces": "workspaces", "ds": "directory", "iam": "iam",
            "sts": "sts", "ec2": "ebs"}

#: Services with one endpoint per account, whatever Region a request is signed for.
GLOBAL_SERVICES = frozenset({"iam", "sts"})

#: The error a service's model uses for "not supported", in order of preference.
_UNSUPPORTED_CODES = ("UnsupportedOperationException", "OperationNotSupportedException")


@dataclass
class ServiceSpec:
    """One service on the wire: its botocore model, protocol and simulation attribute."""

    name: str
    attribute: str
    model: ServiceModel
    protocol: WireProtocol
    unsupported_code: str

    @functools.cached_property
    def signing_name(self) -> str:
        return str(self.model.signing_name)


#: The wire protocols served, by botocore's protocol name (the query protocols join here).
PROTOCOLS: dict[str, Callable[[], WireProtocol]] = {
    "json": JsonProtocol, "query": QueryProtocol, "ec2": Ec2Protocol}


class Catalog:
    """The services the wire serves, found by ``X-Amz-Target`` prefix or signing name."""

    def __init__(self) -> None:
        session = botocore.session.get_session()
        protocols = {name: make() for name, make in PROTOCOLS.items()}
        self.specs: dict[str, ServiceSpec] = {}
        self._by_target: dict[str, ServiceSpec] = {}
        self._by_signing: dict[str, ServiceSpec] = {}
        for name, attribute in SERVICES.items():
            model = session.get_service_model(name)
            errors = {shape.name for shape in model.error_shapes}
            code = next((c for c in _UNSUPPORTED_CODES if c in errors), "ValidationException")
            # The first protocol of the model's list that is served: WorkSpaces and Directory
            # Service list CBOR first, and botocore sends them JSON.
            offered = model.metadata.get("protocols") or [model.metadata["protocol"]]
            protocol = protocols[next(p for p in offered if p in protocols)]
            spec = ServiceSpec(name, attribute, model, protocol, code)
            self.specs[name] = spec
            if "targetPrefix" in model.metadata:
                self._by_target[model.metadata["targetPrefix"]] = spec
            self._by_signing[spec.signing_name] = spec

    def route(self, request: WireRequest) -> ServiceSpec:
        """The service a request is for (``UnknownOperationException`` if none)."""
        target = request.headers.get("x-amz-target")
        if target is not None:
            spec = self._by_target.get(target.partition(".")[0])
            if spec is not None:
                return spec
            raise UnknownOperationException(
                f"No service of this endpoint answers X-Amz-Target '{target[:100]}'; "
                f"served: {', '.join(sorted(self.specs))}.")
        scope = request.headers.get("authorization", "").split("/")
        if len(scope) > 3 and scope[3] in self._by_signing:
            return self._by_signing[scope[3]]
        raise UnknownOperationException(
            "The request names no operation (no X-Amz-Target header); "
            f"served: {', '.join(sorted(self.specs))}.")


@functools.cache
def catalog() -> Catalog:
    """The process's catalog (botocore's models are read once; they never change)."""
    return Catalog()


@dataclass(frozen=True)
class _Method:
    call: Callable[..., Any]
    accepted: frozenset[str]
    required: frozenset[str]


class Gateway:
    """Serves wire requests from one simulation (``gateway.sim`` may be replaced, e.g. on reset).

    The HTTP server calls it from one event loop; ``mock_aws`` from whichever threads use boto3.
    Service calls hold the simulation's lock; the gateway's own caches are plain dicts, where a
    race at worst builds an entry twice.
    """

    def __init__(self, sim: Simulation, *, strict_credentials: bool = False,
                 clock: str = "manual", speed: float = 1.0) -> None:
        if clock not in ("manual", "realtime"):
            raise ValidationException("clock must be 'manual' or 'realtime'")
        if type(speed) not in (int, float) or not 0 < speed < math.inf:
            raise ValidationException(f"speed must be a positive number, not {speed!r}")
        if not isinstance(sim, Simulation):
            raise ValidationException(f"a Simulation is needed, not {type(sim).__name__}")
        if type(strict_credentials) is not bool:
            raise ValidationException(
                f"strict_credentials must be True or False, not {strict_credentials!r}")
        self.catalog = catalog()
        self.strict_credentials = strict_credentials
        self.clock = clock
        self.speed = speed
        self._requests = itertools.count(1)  # next() is atomic: no two requests share an id
        self.sim = sim

    @property
    def sim(self) -> Simulation:
        return self._sim

    @sim.setter
    def sim(self, sim: Simulation) -> None:
        self._sim = sim
        self._authenticate = Authenticator(sim.cells, sim.account_id, sim.region,
                                           self.strict_credentials)
        self._views: dict[tuple[str, str | None, str, str | None, bool | None],
                           dict[tuple[str, str], _Method]] = {}
        self._pacer = WallClockPacer(self.speed) if self.clock == "realtime" else None

    def tick(self, idle: bool = False) -> None:
        """In realtime mode, run the simulation up to the wall clock (times the speed).

        An ``idle`` tick (no request waiting) on a simulation with a state file moves the clock
        only when scheduled work falls due: every advance is a journal row, and an idle server
        would otherwise add several a second forever (a request catches the clock up)."""
        if self._pacer is not None:
            if idle and self._sim.state_file is not None:
                due = self._sim.clock.next_due()
                if due is None or (due - self._sim.clock.now()).total_seconds() > \
                        self._pacer.due():
                    return
            owed = self._pacer.owed()
            if owed > 0:
                self._sim.advance(owed)

    def next_request_id(self) -> str:
        """A UUID-shaped request id from a counter (drawing entropy would change seeded runs)."""
        n = next(self._requests)
        return f"{n >> 32 & 0xFFFFFFFF:08x}-0000-4000-8000-{n & 0xFFFFFFFFFFFF:012x}"

    def refuse(self, request: WireRequest, error: AwsError) -> WireResponse:
        """``error`` in the protocol of the service the request is for (JSON if it names none)."""
        try:
            protocol = self.catalog.route(request).protocol
        except AwsError:
            protocol = self.catalog.specs["kms"].protocol
        return protocol.error(error, self.next_request_id())

    def handle(self, request: WireRequest) -> WireResponse:
        """Answer one request; never raises (every failure is an AWS-shaped error)."""
        request_id = self.next_request_id()
        protocol: WireProtocol = self.catalog.specs["kms"].protocol
        try:
            spec = self.catalog.route(request)
            protocol = spec.protocol
            if self._pacer is not None:
                self.tick()
            caller, region = self._authenticate(request, spec.signing_name, protocol.name)
            transport = request.transport
            caller = caller.over(source_ip=transport.source_ip, secure_transport=transport.secure)
            operation = protocol.operation(spec.model, request)
            params = protocol.decode(operation, request)
            method = self._method(spec, caller, region, operation)
            if not method.accepted.issuperset(params):
                unsupported = set(params) - method.accepted
                names = sorted(n for n in operation.input_shape.members
                               if xform_name(n) in unsupported)
                raise error_for_code(spec.unsupported_code)(
                    f"envelope-sim does not support {', '.join(names)} in "
                    f"{spec.model.service_id} {operation.name} yet.")
            if method.required and not method.required.issubset(params):
                missing = method.required - set(params)
                names = sorted(n for n in operation.input_shape.members if xform_name(n) in missing)
                raise ValidationException(
                    f"{len(names)} validation error(s) detected: "
                    + "; ".join(f"Value null at '{n[0].lower() + n[1:]}' failed to satisfy "
                                "constraint: Member must not be null" for n in names))
            result = method.call(**params)
            return protocol.encode(operation, result, request_id)
        except AwsError as err:
            return protocol.error(err, request_id)
        except Exception as exc:  # a simulator bug: answer like AWS, log one line (no body)
            # The type only: a bug's message may quote what the request carried (a plaintext).
            _log.error("envelope-sim failed on a request (%s)", type(exc).__name__)
            _log.debug("failure detail", exc_info=True)
            return protocol.error(InternalFailure(
                f"envelope-sim failed on this request ({type(exc).__name__}); please report it."),
                request_id)

    def _method(self, spec: ServiceSpec, caller: Caller, region: str,
                operation: OperationModel) -> _Method:
        # Keyed by ARN, access key, Region and transport: hashing the whole frozen Caller costs
        # more, and the caller's ARN names its account. The transport is in the key because the
        # view's caller carries it (a view must never answer with another request's address).
        key = (caller.arn, caller.access_key_id, region, caller.source_ip,
               caller.secure_transport)
        views = self._views.get(key)
        if views is None:
            if len(self._views) >= 256:
                self._views.clear()
            views = self._views[key] = {}
        method = views.get((spec.attribute, operation.name))
        if method is None:
            cell = self._cell(spec, caller.account_id, region)
            service = getattr(cell, spec.attribute).with_caller(caller)
            method = views[spec.attribute, operation.name] = _bind(spec, service, operation.name)
        return method

    def _cell(self, spec: ServiceSpec, account_id: str, region: str) -> Cell:
        """The cell serving ``spec`` for ``account_id`` in ``region`` (made on first use); for
        IAM and STS, global per account, the account's cell that holds them."""
        cells = self._sim.cells
        found = cells.home(account_id) if spec.name in GLOBAL_SERVICES else \
            cells.find(account_id, region)
        return found if found is not None else self._sim.view(account_id, region)


def _bind(spec: ServiceSpec, service: Any, operation: str) -> _Method:
    signature = _parameters(service.__class__, operation)
    if signature is None:
        raise error_for_code(spec.unsupported_code)(
            f"envelope-sim does not implement {spec.model.service_id} {operation} yet.")
    return _Method(getattr(service, xform_name(operation)), *signature)


@functools.cache
def _parameters(cls: Any, operation: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The keyword parameters of the method implementing ``operation`` (all, and those without
    a default), or None if the service has no such method. A method taking ``**params`` (an
    operation the service refuses by name) accepts every member: the service answers."""
    function = getattr(cls, xform_name(operation), None)
    if function is None or not callable(function) or xform_name(operation).startswith("_"):
        return None
    parameters = list(inspect.signature(function).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return _ANY, frozenset()
    keywords = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
    return (frozenset(p.name for p in keywords),
            frozenset(p.name for p in keywords if p.default is p.empty))


class _Anything(frozenset[str]):
    """Accepts every parameter name (``issuperset`` is always true)."""

    def issuperset(self, other: Any) -> bool:
        return True


_ANY = _Anything()
