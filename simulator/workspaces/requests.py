"""Request shapes: what the WorkSpaces API model itself rejects before the service looks.

Shape errors (a wrong type, an unknown field, a malformed id, a value outside an enum or a
length limit) fail the whole call with ``ValidationException``, as AWS's request validation
does; a batch of the wrong size fails with ``InvalidParameterValuesException``. Everything that
needs the service's state (unknown directory, user or bundle, a key KMS refuses, a WorkSpace in
the wrong state) is a per-item failure, decided by the service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidParameterValuesException, ValidationException
from .bundles import COMPUTE_TYPES
from .models import Tag

__all__ = [
    "ENCRYPTION_FIELDS",
    "MAX_BATCH",
    "PROPERTY_FIELDS",
    "RUNNING_MODES",
    "WORKSPACE_ID",
    "CreateRequest",
    "check_batch",
    "check_workspace_id",
    "parse_change_ids",
    "parse_create_requests",
    "parse_properties",
    "parse_tags",
]

WORKSPACE_ID = re.compile(r"^ws-[0-9a-z]{8,63}$")
_DIRECTORY_ID = re.compile(r"^(d-[0-9a-f]{8,63}$)|(wsd-[0-9a-z]{8,63}$)")
_BUNDLE_ID = re.compile(r"^wsb-[0-9a-z]{8,63}$")
RUNNING_MODES = frozenset({"ALWAYS_ON", "AUTO_STOP", "MANUAL"})
PROPERTY_FIELDS = frozenset({
    "running_mode", "running_mode_auto_stop_timeout_in_minutes", "root_volume_size_gib",
    "user_volume_size_gib", "compute_type_name",
})
#: Fields ModifyWorkspaceProperties is asked to change but refuses (encryption is launch-only).
ENCRYPTION_FIELDS = frozenset({
    "root_volume_encryption_enabled", "user_volume_encryption_enabled", "volume_encryption_key",
})
_REQUEST_FIELDS = frozenset({
    "directory_id", "user_name", "bundle_id", "volume_encryption_key",
    "root_volume_encryption_enabled", "user_volume_encryption_enabled", "workspace_properties",
    "tags",
})
MAX_BATCH = 25


@dataclass(frozen=True)
class CreateRequest:
    """One CreateWorkspaces item after shape validation."""

    directory_id: str
    user_name: str
    bundle_id: str
    volume_encryption_key: str | None
    root_volume_encryption_enabled: bool
    user_volume_encryption_enabled: bool
    properties: Mapping[str, Any]
    tags: tuple[Tag, ...]


def _type_name(value: object) -> str:
    return type(value).__name__


def _str(value: object, where: str, *, min_len: int = 1, max_len: int | None = None,
         pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str):
        raise ValidationException(f"{where} must be a string, not {_type_name(value)}.")
    if len(value) < min_len:
        raise ValidationException(f"{where} must be at least {min_len} character(s) long.")
    if max_len is not None and len(value) > max_len:
        raise ValidationException(f"{where} must be at most {max_len} characters long.")
    if pattern is not None and not pattern.match(value):
        raise ValidationException(
            f"Value '{value}' at '{where}' failed to satisfy constraint: Member must satisfy "
            f"regular expression pattern: {pattern.pattern}")
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationException(f"{where} must be a boolean, not {_type_name(value)}.")
    return value


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationException(f"{where} must be an integer, not {_type_name(value)}.")
    return value


def check_batch(value: object, where: str, max_items: int = MAX_BATCH) -> list[Any]:
    """A list parameter of 1 to ``max_items`` items (the items are the caller's to check)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValidationException(f"{where} must be a list, not {_type_name(value)}.")
    items = list(value)
    if not 1 <= len(items) <= max_items:
        raise InvalidParameterValuesException(
            f"{where} must hold between 1 and {max_items} item(s); {len(items)} were given.")
    return items


def _unknown_fields(given: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in given if k not in allowed)
    if unknown:
        raise ValidationException(
            f"Unknown parameter(s) in {where}: {', '.join(unknown)}; must be one of: "
            f"{', '.join(sorted(allowed))}.")


def parse_properties(value: object, where: str, *, allow_encryption: bool = False
                     ) -> dict[str, Any]:
    """Shape-check a ``workspace_properties`` mapping; returns the fields given."""
    if not isinstance(value, Mapping):
        raise ValidationException(f"{where} must be a mapping, not {_type_name(value)}.")
    allowed = PROPERTY_FIELDS | ENCRYPTION_FIELDS if allow_encryption else PROPERTY_FIELDS
    _unknown_fields(value, allowed, where)
    out: dict[str, Any] = {}
    for name, raw in value.items():
        here = f"{where}.{name}"
        if name == "running_mode":
            mode = _str(raw, here)
            if mode not in RUNNING_MODES:
                raise ValidationException(
                    f"Value '{mode}' at '{here}' failed to satisfy constraint: Member must "
                    f"satisfy enum value set: [{', '.join(sorted(RUNNING_MODES))}]")
            out[name] = mode
        elif name == "compute_type_name":
            compute = _str(raw, here)
            if compute not in COMPUTE_TYPES:
                raise ValidationException(
                    f"Value '{compute}' at '{here}' failed to satisfy constraint: Member must "
                    f"satisfy enum value set: [{', '.join(sorted(COMPUTE_TYPES))}]")
            out[name] = compute
        elif name in ("root_volume_encryption_enabled", "user_volume_encryption_enabled"):
            out[name] = _bool(raw, here)
        elif name == "volume_encryption_key":
            out[name] = _str(raw, here, max_len=2048)
        else:  # the three integer fields
            out[name] = _int(raw, here)
    return out


def parse_tags(value: object, where: str) -> tuple[Tag, ...]:
    """Tags as ``[{"key": ..., "value": ...}]`` (AWS shape) or a plain ``{key: value}`` map."""
    pairs: list[tuple[object, object]]
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        pairs = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise ValidationException(
                    f"{where}[{i}] must be a mapping with 'key' and 'value'.")
            _unknown_fields(item, frozenset({"key", "value"}), f"{where}[{i}]")
            if "key" not in item:
                raise ValidationException(f"{where}[{i}] is missing 'key'.")
            pairs.append((item["key"], item.get("value", "")))
    else:
        raise ValidationException(f"{where} must be a list of tags, not {_type_name(value)}.")
    if len(pairs) > 50:
        raise ValidationException(f"{where} holds {len(pairs)} tags; at most 50 are allowed.")
    tags: list[Tag] = []
    seen: set[str] = set()
    for i, (key, val) in enumerate(pairs):
        k = _str(key, f"{where}[{i}].key", max_len=127)
        v = _str(val, f"{where}[{i}].value", min_len=0, max_len=255)
        if k.lower().startswith("aws:"):
            raise ValidationException(f"Tag keys starting with 'aws:' are reserved: '{k}'.")
        if k in seen:
            raise ValidationException(f"Duplicate tag key '{k}' in {where}.")
        seen.add(k)
        tags.append(Tag(k, v))
    return tuple(tags)


def parse_create_requests(workspaces: object) -> list[tuple[dict[str, Any], CreateRequest]]:
    """Shape-check CreateWorkspaces' ``workspaces``; each item with a copy of what was given."""
    items = check_batch(workspaces, "workspaces")
    parsed: list[tuple[dict[str, Any], CreateRequest]] = []
    for i, item in enumerate(items):
        where = f"workspaces[{i}]"
        if not isinstance(item, Mapping):
            raise ValidationException(f"{where} must be a mapping, not {_type_name(item)}.")
        _unknown_fields(item, _REQUEST_FIELDS, where)
        for required in ("directory_id", "user_name", "bundle_id"):
            if required not in item:
                raise ValidationException(f"Missing required parameter in {where}: '{required}'.")
        key = item.get("volume_encryption_key")
        request = CreateRequest(
            directory_id=_str(item["directory_id"], f"{where}.directory_id", min_len=10,
                              max_len=65, pattern=_DIRECTORY_ID),
            user_name=_str(item["user_name"], f"{where}.user_name", max_len=63),
            bundle_id=_str(item["bundle_id"], f"{where}.bundle_id", pattern=_BUNDLE_ID),
            volume_encryption_key=(None if key is None else
                                   _str(key, f"{where}.volume_encryption_key", min_len=0,
                                        max_len=2048) or None),
            root_volume_encryption_enabled=_bool(
                item.get("root_volume_encryption_enabled", False),
                f"{where}.root_volume_encryption_enabled"),
            user_volume_encryption_enabled=_bool(
                item.get("user_volume_encryption_enabled", False),
                f"{where}.user_volume_encryption_enabled"),
            properties=parse_properties(item.get("workspace_properties", {}),
                                        f"{where}.workspace_properties"),
            tags=parse_tags(item.get("tags", ()), f"{where}.tags"),
        )
        parsed.append((_echo(item), request))
    return parsed


def _echo(item: Mapping[str, Any]) -> dict[str, Any]:
    """A detached copy of a request item (FailedRequests echo it back)."""
    out: dict[str, Any] = {}
    for k, v in item.items():
        if isinstance(v, Mapping):
            out[k] = dict(v)
        elif isinstance(v, list | tuple):
            out[k] = [dict(x) if isinstance(x, Mapping) else x for x in v]
        else:
            out[k] = v
    return out


def check_workspace_id(value: object, where: str) -> str:
    return _str(value, where, pattern=WORKSPACE_ID)


def parse_change_ids(
    operation: str, requests: object, request_param: str, workspace_ids: object,
    *, max_items: int = MAX_BATCH,
) -> list[str]:
    """The WorkSpace ids of a Reboot/Rebuild/Stop/Start/Terminate call.

    Either the AWS shape (``reboot_workspace_requests=[{"workspace_id": ...}]``) or the
    shorthand ``workspace_ids=[...]``, not both.
    """
    if requests is not None and workspace_ids is not None:
        raise ValidationException(
            f"{operation}: give either {request_param} or workspace_ids, not both.")
    if requests is None and workspace_ids is None:
        raise ValidationException(f"{operation}: missing required parameter {request_param}.")
    if requests is not None:
        ids: list[str] = []
        for i, item in enumerate(check_batch(requests, request_param, max_items)):
            where = f"{request_param}[{i}]"
            if not isinstance(item, Mapping):
                raise ValidationException(
                    f"{where} must be a mapping like {{'workspace_id': 'ws-...'}}, "
                    f"not {_type_name(item)}.")
            _unknown_fields(item, frozenset({"workspace_id"}), where)
            if "workspace_id" not in item:
                raise ValidationException(f"Missing required parameter in {where}: 'workspace_id'.")
            ids.append(check_workspace_id(item["workspace_id"], f"{where}.workspace_id"))
        return ids
    return [check_workspace_id(w, f"workspace_ids[{i}]")
            for i, w in enumerate(check_batch(workspace_ids, "workspace_ids", max_items))]
