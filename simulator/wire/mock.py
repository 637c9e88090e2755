"""``mock_aws``: boto3 and botocore clients talk to a simulation in process, with no network.

botocore emits ``before-send`` with the fully serialized and signed request; the first handler
that returns a response answers the call. The route answers every request of a served service
through the :class:`~simulator.wire.gateway.Gateway`, so botocore serializes, signs and parses
exactly as it does against AWS. Each request goes to the simulation's account of its access key
and the Region the client signs for (its ``region_name``), as over HTTP.

Which clients are routed:

- every client created while the route is open, whatever session it comes from (code under
  test, such as the AWS Encryption SDK, builds its own). A client created inside keeps its
  route, and once the route has closed it *refuses* every call rather than reach AWS;
- a client created earlier, while some route is open (it answers from the innermost one).

Reaching sessions the test did not create needs one entry in botocore's list of built-in
handlers (``botocore.handlers.BUILTIN_HANDLERS``, which every new session registers; moto uses
it the same way). It is added on the first ``mock_aws`` and does nothing while no route is open.
Clients of other services (S3, ...) are answered with an error naming the service: nothing
reaches the network while a route is open.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ContextDecorator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from .gateway import Gateway
from .protocols import WireRequest

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ["MockClosedError", "mock_aws"]

#: Marks, in the request's context, a call whose client has its own route (botocore runs every
#: before-send handler and takes the first response: the process-wide handler must not answer
#: it again). The context lives as long as the call and is shared by its retries, which that
#: client's route answers too; a call the process-wide handler answers is never marked.
_ANSWERED = "envelope-sim:answered"

#: Harmless defaults so botocore can sign without real credentials or a configured Region.
_DEFAULT_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


class MockClosedError(RuntimeError):
    """A client created inside ``mock_aws`` was called after the route closed."""


class _Raw:
    """The raw body botocore reads from an ``AWSResponse`` (``stream()``)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


class _Headers(Mapping[str, str]):
    """botocore's case-insensitive request headers, read as text on access (values mix bytes
    and str: X-Amz-Target arrives as bytes). Only the few headers a call reads are converted."""

    __slots__ = ("_headers", "_seen")

    def __init__(self, headers: Any) -> None:
        self._headers = headers
        self._seen: dict[str, Any] = {}

    def __getitem__(self, name: str) -> str:
        value = self._headers[name]
        return value.decode("latin-1") if type(value) is bytes else str(value)

    def get(self, name: str, default: Any = None) -> Any:
        seen = self._seen
        if name in seen:
            value = seen[name]
        else:
            # Indexing, not .get(): botocore's HeadersDict inherits Mapping.get, a frame more.
            try:
                value = self._headers[name]
            except KeyError:
                value = None
            else:
                value = value.decode("latin-1") if type(value) is bytes else str(value)
            seen[name] = value
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        return (name.lower() for name in self._headers)

    def __len__(self) -> int:
        return len(self._headers)


def _wire_request(request: AWSPreparedRequest) -> WireRequest:
    headers = _Headers(request.headers)
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:  # a file-like body
        data = body.read()
        with contextlib.suppress(AttributeError, OSError):
            body.seek(0)
    return WireRequest(request.method, request.url, headers, data)


class _Route:
    """One open ``mock_aws``: the gateway that answers, and whether it is still open."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.closed = False
        route = self

        class EnvelopeSimRouted:
            """Mixed into clients created while the route is open: they keep the route."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.meta: Any
                self.meta.events.register_first("before-send", route.before_send)

        self.mixin = EnvelopeSimRouted

    def before_send(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
        """The handler of the clients created inside this route: they are always answered here."""
        if self.closed:
            raise MockClosedError(
                "This client was created inside mock_aws(), which has exited; envelope-sim "
                "refuses the call so that it never reaches AWS. Create clients inside the block.")
        if request.context is not None:
            request.context[_ANSWERED] = True
        return self.answer(request)

    def answer(self, request: AWSPreparedRequest) -> AWSResponse:
        """The simulation's response to ``request``."""
        response = self.gateway.handle(_wire_request(request))
        return AWSResponse(request.url, response.status, response.headers, _Raw(response.body))


class _Router:
    """The process-wide hooks: which route is open, installed once into botocore."""

    def __init__(self) -> None:
        self.routes: list[_Route] = []
        self.installed = False

    def install(self) -> None:
        if self.installed:
            return
        import botocore.handlers

        handlers: list[tuple[str, Callable[..., Any]]] = [
            ("creating-client-class", self.on_client_class), ("before-send", self.before_send)]
        botocore.handlers.BUILTIN_HANDLERS.extend(handlers)
        with contextlib.suppress(ImportError):  # boto3's default session may already exist
            import boto3

            if boto3.DEFAULT_SESSION is not None:
                for event, handler in handlers:
                    boto3.DEFAULT_SESSION.events.register(event, handler)
        self.installed = True

    def on_client_class(self, base_classes: list[type], **kwargs: Any) -> None:
        if self.routes:
            base_classes.insert(0, self.routes[-1].mixin)

    def before_send(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        if not self.routes or (request.context is not None and _ANSWERED in request.context):
            return None  # no route open, or the client's own route answered
        return self.routes[-1].answer(request)


_ROUTER = _Router()


class mock_aws(ContextDecorator):
    """Route boto3/botocore clients to a simulation in process.

    ``with mock_aws(sim) as sim:`` (or ``mock_aws()`` making a fresh ``Simulation``; also a
    decorator). A client's ``region_name`` picks the Region and its access key the account
    (keys no account issued act as the default account's root; unset, the simulation's Region
    and ``test`` keys are supplied). ``strict_credentials=True`` refuses access keys the
    simulation did not issue;
    ``clock="realtime"`` makes virtual time follow the wall clock times ``speed`` for code that
    polls (by default time moves only through ``sim.advance``/``run_until_idle``).
    """

    def __init__(self, sim: Simulation | None = None, *, strict_credentials: bool = False,
                 clock: str = "manual", speed: float = 1.0) -> None:
        self._given = sim
        self._strict = strict_credentials
        self._clock = clock
        self._speed = speed
        self._stack: list[tuple[_Route, dict[str, str | None]]] = []

    def __enter__(self) -> Simulation:
        from ..simulation import Simulation

        sim = self._given if self._given is not None else Simulation()
        route = _Route(Gateway(sim, strict_credentials=self._strict, clock=self._clock,
                               speed=self._speed))
        env = {"AWS_DEFAULT_REGION": sim.region, **_DEFAULT_ENV}
        saved = {name: os.environ.get(name) for name in env}
        for name, value in env.items():
            os.environ.setdefault(name, value)
        _ROUTER.install()
        _ROUTER.routes.append(route)
        self._stack.append((route, saved))
        return sim

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        route, saved = self._stack.pop()
        route.closed = True
        _ROUTER.routes.remove(route)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
