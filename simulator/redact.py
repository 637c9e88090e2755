"""The redaction step shared by the audit trail and the trace.

Anything byte-like (plaintext, ciphertext, data keys, key material) and any field whose name says
it is secret is replaced before a record is stored, printed or written to a file. Redaction is by
type as well as by name, so a secret put in an unexpected field is caught all the same.

:func:`redact` always returns a copy: nothing a caller keeps a reference to is ever changed,
and nothing in a record is shared with the caller. Nesting deeper than :data:`MAX_DEPTH` is
replaced by a marker, so any input a caller can build is redacted (and recorded) without
exhausting the interpreter's stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["MAX_DEPTH", "SECRET_FIELDS", "redact"]

#: Field names whose values are never recorded, whatever their type (camelCase and snake_case).
SECRET_FIELDS = frozenset(
    {
        "plaintext",
        "ciphertextBlob",
        "ciphertext_blob",
        "plaintext_data_key",
        "plaintextDataKey",
        "encrypted_data_key",
        "encryptedDataKey",
        "grantToken",
        "grant_token",
        "grantTokens",
        "grant_tokens",
        "key_material",
        "keyMaterial",
        "data_key",
        "dataKey",
    }
)

#: Containers nested deeper than this are replaced by ``"<nested too deep>"``. AWS requests
#: are a few levels deep; anything far deeper is a mistake or an attack, never worth a record.
MAX_DEPTH = 32
_TOO_DEEP = "<nested too deep>"

#: Exact types copied as they are (checked before the isinstance rules: most values are these).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` with secrets replaced by ``"<redacted N>"`` markers.

    ``depth`` is how deep ``value`` already sits in what is being redacted (for the nesting
    bound); callers leave it at 0.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict or isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            return _TOO_DEEP
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                k = redact(k, depth + 1)  # keys too must stay JSON-friendly
            if k in SECRET_FIELDS and v is not None:
                out[k] = _mask(v)
            elif type(v) in _PLAIN:
                out[k] = v
            else:
                out[k] = redact(v, depth + 1)
        return out
    if kind is list or isinstance(value, list | tuple | set | frozenset):
        if depth >= MAX_DEPTH:
            return _TOO_DEEP
        return [v if type(v) in _PLAIN else redact(v, depth + 1) for v in value]
    if isinstance(value, str | int | float):  # subclasses (str enums, IntFlag...)
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return _mask(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Anything else a caller passed (an object where a string belongs, say) is named by its
    # type only: records must stay JSON-serialisable and must not echo arbitrary objects.
    return f"<{type(value).__name__}>"


def _mask(value: object) -> str:
    size = len(value) if isinstance(value, bytes | bytearray | memoryview | str) else None
    return "<redacted>" if size is None else f"<redacted {size}>"


