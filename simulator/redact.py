"""The redaction step shared by the audit trail and the trace.

Anything byte-like (plaintext, ciphertext, data keys, key material) and any field whose name says
it is secret is replaced before a record is stored, printed or written to a file. Redaction is by
type as well as by name, so a secret put in an unexpected field is caught all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["SECRET_FIELDS", "redact", "redact_owned"]

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


def _mask(value: object) -> str:
    size = len(value) if isinstance(value, bytes | bytearray | memoryview | str) else None
    return "<redacted>" if size is None else f"<redacted {size}>"


_PLAIN = frozenset({str, int, float, bool, type(None)})


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets replaced by ``"<redacted N>"`` markers."""
    kind = type(value)
    if kind in _PLAIN:  # the common case, checked by exact type for speed (hot path)
        return value
    if kind is dict:
        # Hot path (every audit record and trace event): copied at C speed, then only the
        # values that are not plain are replaced; the first key that is not a plain ``str``
        # or names a secret hands the dict to the general loop (and the copy is dropped).
        out = value.copy()
        for k, v in value.items():
            if type(k) is not str or k in SECRET_FIELDS:
                return _redact_mapping(value)
            if type(v) not in _PLAIN:
                out[k] = redact(v)
        return out
    if isinstance(value, Mapping):
        return _redact_mapping(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return _mask(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    if isinstance(value, str | int | float):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Anything else a caller passed (an object where a string belongs, say) is named by its
    # type only: records must stay JSON-serialisable and must not echo arbitrary objects.
    return f"<{type(value).__name__}>"


def redact_owned(value: dict[str, Any]) -> dict[str, Any]:
    """``redact(value)`` for a dict the caller hands over and never uses again.

    When every key is a plain ``str`` naming no secret (the services' own detail and parameter
    dicts), the non-plain values are replaced in place and ``value`` itself is returned: the
    same result as :func:`redact` without copying the dict. Otherwise a redacted copy.
    """
    if type(value) is not dict:
        return redact(value)  # type: ignore[no-any-return]
    nested: list[str] | None = None
    for k, v in value.items():
        if type(k) is not str or k in SECRET_FIELDS:
            return _redact_mapping(value)  # nothing has been changed yet
        if type(v) not in _PLAIN:
            if nested is None:
                nested = [k]
            else:
                nested.append(k)
    if nested is not None:
        for k in nested:
            value[k] = redact(value[k])
    return value


def _redact_mapping(value: Mapping[Any, Any]) -> dict[Any, Any]:
    out = {}
    for k, v in value.items():
        if type(k) is not str:
            k = redact(k)  # keys too must stay JSON-friendly
        if k in SECRET_FIELDS and v is not None:
            out[k] = _mask(v)
        elif type(v) in _PLAIN:  # inlined fast path: most values are plain strings
            out[k] = v
        else:
            out[k] = redact(v)
    return out
