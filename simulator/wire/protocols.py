"""AWS wire protocols: how an operation, its parameters, its result and its errors travel.

A protocol turns a :class:`WireRequest` into an operation and keyword arguments, and a result or
an :class:`~simulator.errors.AwsError` into a :class:`WireResponse`. The shapes themselves are
walked by :class:`~simulator.wire.shapes.ShapeCodec`; a protocol only says how scalars and
envelopes look. This module has the JSON protocol (KMS, WorkSpaces, Directory Service); the query
protocols (IAM, STS, EC2) plug in beside it with the same four methods.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from botocore.model import OperationModel, ServiceModel

from ..errors import AwsError, SerializationException, UnknownOperationException
from .shapes import Base64Blobs, Decoder, ShapeCodec, conversion_error

__all__ = ["JsonProtocol", "Transport", "WireProtocol", "WireRequest", "WireResponse"]


class Transport(NamedTuple):
    """How a request reached the endpoint: over TLS or not, and from which address (the facts
    behind the global condition keys ``aws:SecureTransport`` and ``aws:SourceIp``). ``None``:
    not known (a call in process has no address)."""

    secure: bool
    source_ip: str | None = None


class WireRequest:
    """One HTTP request as it arrived: header names lower-cased, the body as bytes.

    ``url`` is the URL the client signed (scheme, host, path and query), which SigV4 checks.
    ``transport`` is how it arrived (by default: TLS if the URL is ``https``, no address).
    A plain class with slots: one is built per call, on the hot path.
    """

    __slots__ = ("_transport", "body", "headers", "method", "url")

    def __init__(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                 transport: Transport | None = None) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self._transport = transport

    @property
    def transport(self) -> Transport:
        given = self._transport
        return given if given is not None else Transport(self.url.startswith("https:"))

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.url).query


@dataclass
class WireResponse:
    """What goes back: status, headers and body."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class WireProtocol(Protocol):
    """One AWS protocol (``json`` here; ``query`` and ``ec2`` later)."""

    name: str

    def operation(self, model: ServiceModel, request: WireRequest) -> OperationModel:
        """The operation the request names (``UnknownOperationException`` otherwise)."""
        ...

    def decode(self, operation: OperationModel, request: WireRequest) -> dict[str, Any]:
        """The request's members as the service method's snake_case keyword arguments."""
        ...

    def encode(self, operation: OperationModel, result: Any, request_id: str) -> WireResponse:
        """A successful result, serialized through the operation's output shape."""
        ...

    def error(self, error: AwsError, request_id: str) -> WireResponse:
        """An error in the protocol's shape, with AWS's HTTP status."""
        ...


class _JsonScalars(Base64Blobs):
    """JSON protocol scalars: blobs are base64 text, timestamps epoch seconds."""

    @staticmethod
    def timestamp_in(value: object, where: str) -> datetime:
        if type(value) in (int, float):
            try:
                return datetime.fromtimestamp(value, UTC)  # type: ignore[arg-type]
            except (OverflowError, OSError, ValueError):
                pass
        raise conversion_error(where, "a timestamp in epoch seconds", value)

    @staticmethod
    def timestamp_out(value: datetime) -> float:
        return value.timestamp()


_JSON_TYPES = ("application/x-amz-json-1.1", "application/x-amz-json-1.0")
# One encoder for every response: json.dumps with options builds a new one per call.
_dumps = json.JSONEncoder(separators=(",", ":")).encode


class JsonProtocol:
    """AWS's JSON 1.0/1.1 protocol: ``X-Amz-Target: <prefix>.<Operation>``, a JSON object body,
    errors as ``{"__type": code, "message": text}``."""

    name = "json"

    def __init__(self) -> None:
        self.shapes = ShapeCodec(_JsonScalars())
        self._operations: dict[tuple[str, str], OperationModel] = {}
        self._decoders: dict[int, Decoder] = {}  # id(operation) -> its input decoder

    def operation(self, model: ServiceModel, request: WireRequest) -> OperationModel:
        target = request.headers.get("x-amz-target", "")
        found = self._operations.get((model.service_name, target))
        if found is not None:
            return found
        _, _, name = target.partition(".")
        if name not in model.operation_names:
            raise UnknownOperationException(
                f"{model.service_name} has no operation named by X-Amz-Target '{target[:100]}'.")
        operation: OperationModel = model.operation_model(name)
        if operation.input_shape is not None:
            self._decoders[id(operation)] = self.shapes.decoder(operation.input_shape)
        self._operations[model.service_name, target] = operation
        return operation

    def decode(self, operation: OperationModel, request: WireRequest) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type not in _JSON_TYPES:
            content_type = content_type.split(";")[0].strip().lower()
        if content_type not in _JSON_TYPES:
            raise SerializationException(
                f"Content-Type '{content_type[:100]}' is not supported: send "
                "application/x-amz-json-1.1.")
        body = request.body or b"{}"
        try:
            document = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise SerializationException("The request body is not UTF-8.") from None
        except (ValueError, RecursionError):
            raise SerializationException("The request body is not valid JSON.") from None
        shape = operation.input_shape
        if shape is None:
            if document not in ({}, None):
                raise SerializationException(f"{operation.name} takes no parameters.")
            return {}
        if type(document) is not dict:
            raise SerializationException("The request body must be a JSON object.")
        params: dict[str, Any] = self._decoders[id(operation)](document, "")
        return params

    def encode(self, operation: OperationModel, result: Any, request_id: str) -> WireResponse:
        output = self.shapes.output(operation.output_shape, result)
        return WireResponse(200, _dumps(output).encode(),
                            {"content-type": "application/x-amz-json-1.1",
                             "x-amzn-requestid": request_id})

    def error(self, error: AwsError, request_id: str) -> WireResponse:
        body = {"__type": error.code, "message": error.message}
        return WireResponse(error.http_status, json.dumps(body).encode(),
                            self._headers(request_id))

    @staticmethod
    def _headers(request_id: str) -> dict[str, str]:
        return {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": request_id}
