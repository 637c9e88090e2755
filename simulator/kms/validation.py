"""Request validation for KMS: AWS's "1 validation error detected" texts, in one place.

Every check raises :class:`~simulator.errors.ValidationException` (or the AWS-named error) before
any state changes, so a failed call changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import MESSAGES, ValidationException

__all__ = [
    "check_blob",
    "check_bool",
    "check_context",
    "check_enum",
    "check_int",
    "check_limit",
    "check_plaintext",
    "check_policy",
    "check_str",
    "check_tokens",
    "check_unicode",
]


def check_unicode(value: str, field: str) -> str:
    """``value`` if it is Unicode text. A string with a lone surrogate is not: AWS cannot even
    receive it (the SDKs send UTF-8). The message names the position only: the text may be a
    secret."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ValidationException(
                f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
                f"Member must be valid Unicode text (a lone surrogate at position {err.start})"
            ) from None
    return value


def _type_error(field: str, expected: str, value: object) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        f"Member must be {expected} (got {type(value).__name__})"
    )


def check_str(
    value: object, field: str, *, min_len: int = 1, max_len: int = 2048,
    pattern: re.Pattern[str] | None = None,
) -> str:
    """A string within length bounds (and matching ``pattern`` if given)."""
    if not isinstance(value, str):
        raise _type_error(field, "a string", value)
    check_unicode(value, field)
    if len(value) < min_len:
        raise ValidationException(MESSAGES["too_short"].format(field=field, limit=min_len))
    if len(value) > max_len:
        raise ValidationException(MESSAGES["too_long"].format(field=field, limit=max_len))
    if pattern is not None and not pattern.fullmatch(value):
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {pattern.pattern}"
        )
    return value


def check_policy(value: object, field: str = "policy") -> str:
    """A key policy document: a string of 1-131072 characters. Which characters it may hold
    is the policy parser's rule (MalformedPolicyDocumentException names the first outside
    the allowed set, a lone surrogate included), so none is refused here."""
    if not isinstance(value, str):
        raise _type_error(field, "a string", value)
    if not value:
        raise ValidationException(MESSAGES["too_short"].format(field=field, limit=1))
    if len(value) > 131072:
        raise ValidationException(MESSAGES["too_long"].format(field=field, limit=131072))
    return value


def check_int(value: object, field: str, low: int, high: int) -> int:
    """An int (not a bool) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(field, "an integer", value)
    if value > high:
        raise ValidationException(MESSAGES["value_too_large"].format(value=value, field=field, limit=high))
    if value < low:
        raise ValidationException(MESSAGES["value_too_small"].format(value=value, field=field, limit=low))
    return value


def check_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise _type_error(field, "a boolean", value)
    return value


def check_enum(value: object, field: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str):  # its type only: bytes given by mistake may be a secret
        raise _type_error(field, "a string", value)
    check_unicode(value, field)
    if value not in allowed:
        raise ValidationException(
            MESSAGES["enum"].format(value=value, field=field, allowed=", ".join(allowed))
        )
    return value


def check_limit(value: object, field: str = "limit", high: int = 1000) -> int | None:
    return None if value is None else check_int(value, field, 1, high)


def check_context(value: object, field: str = "encryptionContext", *,
                  copy: bool = True) -> dict[str, str] | None:
    """A string-to-string mapping; ``None`` and ``{}`` both mean "no context".

    Returns a new dict, or with ``copy=False`` the caller's own dict when it is a plain
    ``dict`` of ``str`` (for operations that only read the context during the call and keep
    nothing of it: the crypto operations).
    """
    if value is None:
        return None
    if type(value) is dict:
        # Hot path (every GenerateDataKey and Decrypt): exact types, no ABC isinstance checks;
        # anything else (str subclasses, other mappings, bad types) takes the general checks.
        for k, val in value.items():
            if type(k) is not str or type(val) is not str or not (k.isascii() and val.isascii()):
                break
        else:
            if not value:
                return None
            return value.copy() if copy else value
    if not isinstance(value, Mapping):
        raise _type_error(field, "a map of strings to strings", value)
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValidationException(
                f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
                f"Map keys and values must be strings (got {type(k).__name__} -> "
                f"{type(v).__name__})"
            )
        check_unicode(k, field)
        check_unicode(v, field)
    return dict(value) if value else None


def check_plaintext(value: object, field: str = "plaintext", max_len: int = 4096) -> bytes:
    """Bytes (or a str, encoded as UTF-8 as the AWS SDKs do), 1..max_len long."""
    if isinstance(value, str):
        value = check_unicode(value, field).encode("utf-8")
    if not isinstance(value, bytes | bytearray | memoryview):
        raise _type_error(field, "bytes", value)
    data = bytes(value)
    if len(data) > max_len:
        raise ValidationException(MESSAGES["too_long"].format(field=field, limit=max_len))
    if not data:
        raise ValidationException(MESSAGES["too_short"].format(field=field, limit=1))
    return data


def check_blob(value: object, field: str = "ciphertextBlob") -> bytes:
    if type(value) is bytes and 0 < len(value) <= 6144:  # the hot path, as check_plaintext
        return value
    return check_plaintext(value, field, 6144) if not isinstance(value, str) else _blob_str(field)


def _blob_str(field: str) -> bytes:
    raise ValidationException(
        f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        "Member must be bytes"
    )


def check_tokens(value: object) -> tuple[str, ...]:
    """GrantTokens: a list of 0-10 strings, each 1-8192 characters."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _type_error("grantTokens", "a list of strings", value)
    if len(value) > 10:
        raise ValidationException(MESSAGES["too_long"].format(field="grantTokens", limit=10))
    return tuple(check_str(t, "grantTokens.member", max_len=8192) for t in value)


def as_list(value: Any, field: str) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _type_error(field, "a list", value)
    return list(value)
