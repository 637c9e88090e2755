"""Values <-> botocore shapes: the model-driven half of every protocol codec.

A request's members become the service method's snake_case keywords (``botocore.xform_name``),
nested structures become dicts with snake_case keys, map keys stay as sent (an encryption context
is data, not names). A result (a frozen dataclass, a mapping, a scalar) goes back out through the
output shape: each member is read as the attribute (or key) of its snake_case name.

Only the scalars differ between protocols (JSON: base64 blobs and epoch-second timestamps; the
query protocols: strings), so a protocol hands in a :class:`Scalars` and gets converters compiled
once per shape.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from botocore import xform_name
from botocore.model import ListShape, MapShape, Shape, StructureShape

from ..errors import SerializationException

__all__ = ["Base64Blobs", "Decoder", "Encoder", "Scalars", "ShapeCodec", "conversion_error"]

Decoder = Callable[[Any, str], Any]
Encoder = Callable[[Any], Any]


class Scalars(Protocol):
    """How one protocol writes blobs and timestamps."""

    def blob_in(self, value: object, where: str) -> bytes: ...

    def blob_out(self, value: bytes) -> Any: ...

    def timestamp_in(self, value: object, where: str) -> datetime: ...

    def timestamp_out(self, value: datetime) -> Any: ...


class Base64Blobs:
    """Blobs as base64 text, as both the JSON and the query protocols write them."""

    @staticmethod
    def blob_in(value: object, where: str) -> bytes:
        if type(value) is not str:
            raise conversion_error(where, "base64-encoded bytes", value)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException(f"The value at '{where}' is not valid base64.") from None

    @staticmethod
    def blob_out(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")


def conversion_error(where: str, expected: str, value: object) -> SerializationException:
    got = type(value).__name__
    return SerializationException(f"Cannot convert the value at '{where}' ({got}) to {expected}.")


def _string(value: object, where: str) -> str:
    if type(value) is str:
        return value
    raise conversion_error(where, "a string", value)


def _integer(value: object, where: str) -> int:
    if type(value) is int:
        return value
    raise conversion_error(where, "an integer", value)


def _boolean(value: object, where: str) -> bool:
    if type(value) is bool:
        return value
    raise conversion_error(where, "a boolean", value)


def _number(value: object, where: str) -> float:
    if type(value) in (int, float) and math.isfinite(value):  # type: ignore[arg-type]
        return float(value)  # type: ignore[arg-type]
    raise conversion_error(where, "a number", value)


_SCALARS = (str, bytes, int, float, bool)


def _get(value: Any, name: str, snake: str) -> Any:
    """Member ``name`` of a result: an attribute ``snake`` (dataclasses), or a key ``name`` or
    ``snake`` (mappings). Scalars have no members."""
    if type(value) is dict:
        found = value.get(name)
        return found if found is not None else value.get(snake)
    found = getattr(value, snake, None)
    if found is None and isinstance(value, Mapping):
        found = value.get(name)
        return found if found is not None else value.get(snake)
    return found


def _compiled(cache: dict[int, Any], shape: Shape, make: Callable[[Shape], Any]) -> Any:
    """``make(shape)``, once per shape. A placeholder goes in first, so that a recursive shape
    finds (and later calls) its own converter while it is being made."""
    found = cache.get(id(shape))
    if found is not None:
        return found
    cell: list[Any] = []
    cache[id(shape)] = lambda *args: cell[0](*args)
    made = make(shape)
    cell.append(made)
    cache[id(shape)] = made
    return made


class ShapeCodec:
    """Converters between one protocol's decoded values and Python values, compiled per shape."""

    def __init__(self, scalars: Scalars) -> None:
        self._scalars = scalars
        self._in: dict[int, Decoder] = {}
        self._out: dict[int, Encoder] = {}
        self._outputs: dict[int, Encoder] = {}

    # -- requests -------------------------------------------------------------------------

    def decoder(self, shape: Shape) -> Decoder:
        """A function ``(wire value, where) -> Python value`` for ``shape``."""
        decode: Decoder = _compiled(self._in, shape, self._make_decoder)
        return decode

    def _make_decoder(self, shape: Shape) -> Decoder:
        kind = shape.type_name
        s = self._scalars
        if isinstance(shape, StructureShape):
            members = {name: (xform_name(name), self.decoder(m)) for name, m in shape.members.items()}

            def structure(value: Any, where: str) -> dict[str, Any]:
                if type(value) is not dict:
                    raise conversion_error(where, "a structure", value)
                out: dict[str, Any] = {}
                for name, item in value.items():
                    member = members.get(name)
                    # Unknown members are ignored and JSON nulls mean "absent", as AWS does.
                    if member is not None and item is not None:
                        out[member[0]] = member[1](item, f"{where}.{name}" if where else name)
                return out

            return structure
        if isinstance(shape, ListShape):
            item_decoder = self.decoder(shape.member)

            def listing(value: Any, where: str) -> list[Any]:
                if type(value) is not list:
                    raise conversion_error(where, "a list", value)
                return [item_decoder(v, f"{where}[{i}]") for i, v in enumerate(value)]

            return listing
        if isinstance(shape, MapShape):
            key_decoder = self.decoder(shape.key)
            value_decoder = self.decoder(shape.value)

            def mapping(value: Any, where: str) -> dict[Any, Any]:
                if type(value) is not dict:
                    raise conversion_error(where, "a map", value)
                return {key_decoder(k, where): value_decoder(v, f"{where}.{k}")
                        for k, v in value.items()}

            return mapping
        if kind == "string":
            return _string
        if kind in ("integer", "long"):
            return _integer
        if kind == "boolean":
            return _boolean
        if kind in ("double", "float"):
            return _number
        if kind == "blob":
            return s.blob_in
        if kind == "timestamp":
            return s.timestamp_in
        raise SerializationException(f"The shape {shape.name} ({kind}) cannot be decoded.")

    # -- results --------------------------------------------------------------------------

    def encoder(self, shape: Shape) -> Encoder:
        """A function ``Python value -> wire value`` for ``shape`` (``None`` stays ``None``)."""
        encode: Encoder = _compiled(self._out, shape, self._make_encoder)
        return encode

    def _make_encoder(self, shape: Shape) -> Encoder:
        kind = shape.type_name
        s = self._scalars
        if isinstance(shape, StructureShape):
            members = [(name, xform_name(name), self.encoder(m)) for name, m in shape.members.items()]

            def structure(value: Any) -> Any:
                if value is None:
                    return None
                out = {}
                if type(value) is dict or isinstance(value, Mapping):
                    for name, snake, encode in members:
                        item = value.get(name)
                        if item is None:
                            item = value.get(snake)
                        if item is not None:
                            out[name] = encode(item)
                else:  # a result dataclass: members are its snake_case attributes
                    for name, snake, encode in members:
                        item = getattr(value, snake, None)
                        if item is not None:
                            out[name] = encode(item)
                return out

            return structure
        if isinstance(shape, ListShape):
            item_encoder = self.encoder(shape.member)
            return lambda value: None if value is None else [item_encoder(v) for v in value]
        if isinstance(shape, MapShape):
            value_encoder = self.encoder(shape.value)
            return lambda value: None if value is None else {
                str(k): value_encoder(v) for k, v in value.items()}
        if kind == "blob":
            return lambda value: None if value is None else s.blob_out(value)
        if kind == "timestamp":
            return lambda value: None if value is None else s.timestamp_out(value)
        if kind == "string":
            return lambda value: None if value is None else str(value)
        if kind in ("integer", "long"):
            return lambda value: None if value is None else int(value)
        if kind == "boolean":
            return lambda value: None if value is None else bool(value)
        if kind in ("double", "float"):
            return lambda value: None if value is None else float(value)
        raise SerializationException(f"The shape {shape.name} ({kind}) cannot be encoded.")

    def output(self, shape: StructureShape | None, result: Any) -> dict[str, Any]:
        """A result as the output shape's members (``{}`` for an operation without output).

        An operation whose output has a single member returns that member's value directly
        (``CreateKey`` returns the ``KeyMetadata``, ``CancelKeyDeletion`` the ``KeyId``): when the
        result does not carry the member by name, it is the member.
        """
        if shape is None or result is None:
            return {}
        members = shape.members
        if len(members) == 1:
            (name,) = members
            if isinstance(result, _SCALARS) or _get(result, name, xform_name(name)) is None:
                result = {name: result}
        encoded = self._outputs.get(id(shape))
        if encoded is None:
            encoded = self._outputs[id(shape)] = self.encoder(shape)
        out = encoded(result)
        return out if out is not None else {}
