"""Operation parameters as JSON, and back: what a journal row's body holds.

JSON with tagged values for what JSON lacks (bytes, tuples, datetimes, dataclasses such as a
``Caller``). Decoding makes only the simulator's own dataclasses (never imports anything
else), so a crafted file cannot make the loader run code.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import sys
from collections.abc import Mapping, Sequence, Set
from datetime import datetime, timedelta
from typing import Any

from ..errors import ValidationException

__all__ = ["Unsaveable", "decode", "encode", "prepare", "restore"]


class Unsaveable(ValidationException):
    """A parameter value the state file cannot hold (so the call is refused before it runs)."""


def encode(value: Any) -> bytes:
    """``value`` (operation parameters) as JSON bytes."""
    return json.dumps(_enc(value), separators=(",", ":"), ensure_ascii=False).encode()


def prepare(value: Any) -> Any:
    """``value`` as plain JSON data (what :func:`encode` dumps); :func:`decode` reverses both."""
    return _enc(value)


def decode(body: bytes) -> Any:
    """The value :func:`encode` was given (mappings as dicts, sequences as lists)."""
    return restore(json.loads(body))


def restore(data: Any) -> Any:
    """The value :func:`prepare` was given."""
    return _dec(data)


_PLAIN = frozenset({str, int, bool, type(None)})


def _enc(v: Any) -> Any:
    t = type(v)
    if t in _PLAIN:
        return v
    if t is dict and all(type(k) is str for k in v):
        return {"$d": {k: x if type(x) in _PLAIN else _enc(x) for k, x in v.items()}}
    if t is bytes:
        return {"$b": base64.b64encode(v).decode()}
    if isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$f": repr(v)}
    if isinstance(v, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, timedelta):
        return {"$td": [v.days, v.seconds, v.microseconds]}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        cls = type(v)
        if not cls.__module__.startswith("simulator."):
            raise Unsaveable(f"a {cls.__name__} cannot be saved in the state file")
        return {"$c": f"{cls.__module__}:{cls.__qualname__}",
                "f": {f.name: _enc(getattr(v, f.name)) for f in dataclasses.fields(v) if f.init}}
    if isinstance(v, Mapping):
        if all(isinstance(k, str) for k in v):
            return {"$d": {k: _enc(x) for k, x in v.items()}}
        return {"$m": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if isinstance(v, tuple):
        return {"$t": [_enc(x) for x in v]}
    if isinstance(v, Set):
        return {"$s": [_enc(x) for x in v]}
    if isinstance(v, Sequence):
        return [_enc(x) for x in v]
    raise Unsaveable(f"a {type(v).__name__} cannot be saved in the state file")


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if not isinstance(v, dict):
        return v
    (tag, x), = list(v.items())[:1] or [("", None)]
    if tag == "$d":
        return {k: _dec(y) for k, y in x.items()}
    if tag == "$b":
        return base64.b64decode(x)
    if tag == "$t":
        return tuple(_dec(y) for y in x)
    if tag == "$m":
        return {_dec(k): _dec(y) for k, y in x}
    if tag == "$s":
        return frozenset(_dec(y) for y in x)
    if tag == "$dt":
        return datetime.fromisoformat(x)
    if tag == "$td":
        return timedelta(days=x[0], seconds=x[1], microseconds=x[2])
    if tag == "$f":
        return float(x)
    if tag == "$c":
        module, _, name = x.partition(":")
        if not module.startswith("simulator."):
            raise ValueError(f"not a simulator class: {x}")
        # Only a module already loaded: decoding never imports (never runs) anything.
        found: object = sys.modules.get(module)
        for part in name.split("."):
            found = getattr(found, part, None)
        if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
            raise ValueError(f"not a dataclass: {x}")
        return found(**{k: _dec(y) for k, y in v["f"].items()})
    raise ValueError(f"unknown tag {tag!r}")
