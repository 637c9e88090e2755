"""DescribeVolumes / DescribeSnapshots: ``Filters`` and ``MaxResults``/``NextToken`` paging.

Filters (EC2 API Reference, "DescribeVolumes" and "DescribeSnapshots"; "Filter"): a resource is
listed when it matches **every** filter, and it matches a filter when one of the filter's values
matches one of the resource's values for that name. Values are case-sensitive and may use ``*``
(any run of characters) and ``?`` (one character). ``tag:<key>`` matches the value of the tag
``<key>``; ``tag-key`` matches any tag key. An unknown filter name is InvalidParameterValue, as
in EC2.

Paging: ``MaxResults`` (5-500 for volumes, 5-1000 for snapshots) returns at most that many and a
``NextToken`` for the rest; it cannot be combined with explicit ids
(InvalidParameterCombination). The token is opaque: it encodes the id of the next resource, and
one this simulation did not issue, or whose resource has since gone, is InvalidPaginationToken.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ..errors import InvalidPaginationToken, InvalidParameterCombination, InvalidParameterValue
from .models import SnapshotRecord, VolumeRecord

__all__ = [
    "SNAPSHOT_FILTERS",
    "VOLUME_FILTERS",
    "Page",
    "apply_filters",
    "paginate",
]

_R = TypeVar("_R", VolumeRecord, SnapshotRecord)


def _bool(flag: bool) -> tuple[str, ...]:
    return ("true" if flag else "false",)


def _opt(value: object) -> tuple[str, ...]:
    return () if value is None else (str(value),)


def _time(value: datetime | None) -> tuple[str, ...]:
    return () if value is None else (value.strftime("%Y-%m-%dT%H:%M:%S.000Z"),)


def _attachment(rec: VolumeRecord, field: str) -> tuple[str, ...]:
    a = rec.attachment
    if a is None:
        return ()
    if field == "instance-id":
        return (a.instance_id,)
    if field == "device":
        return (a.device,)
    if field == "status":
        return ("attached",)
    if field == "attach-time":
        return _time(a.attach_time)
    return ("false",)  # delete-on-termination: EBS attachments here never set it


VOLUME_FILTERS: dict[str, Callable[[VolumeRecord], tuple[str, ...]]] = {
    "volume-id": lambda r: (r.volume_id,),
    "status": lambda r: (r.state,),
    "encrypted": lambda r: _bool(r.encrypted),
    "size": lambda r: (str(r.size),),
    "availability-zone": lambda r: (r.availability_zone,),
    "kms-key-id": lambda r: _opt(r.kms_key_arn),
    "snapshot-id": lambda r: _opt(r.snapshot_id),
    "create-time": lambda r: _time(r.create_time),
    "volume-type": lambda r: ("gp3",),
    "multi-attach-enabled": lambda r: ("false",),
    "attachment.instance-id": lambda r: _attachment(r, "instance-id"),
    "attachment.device": lambda r: _attachment(r, "device"),
    "attachment.status": lambda r: _attachment(r, "status"),
    "attachment.attach-time": lambda r: _attachment(r, "attach-time"),
    "attachment.delete-on-termination": lambda r: _attachment(r, "delete-on-termination"),
    "tag-key": lambda r: tuple(r.tags),
}

SNAPSHOT_FILTERS: dict[str, Callable[[SnapshotRecord], tuple[str, ...]]] = {
    "snapshot-id": lambda r: (r.snapshot_id,),
    "volume-id": lambda r: (r.volume_id,),
    "status": lambda r: (r.state,),
    "encrypted": lambda r: _bool(r.encrypted),
    "kms-key-id": lambda r: _opt(r.kms_key_arn),
    "volume-size": lambda r: (str(r.volume_size),),
    "description": lambda r: (r.description,),
    "progress": lambda r: ("100%" if r.state == "completed" else "0%",),
    "start-time": lambda r: _time(r.start_time),
    "storage-tier": lambda r: ("standard",),
    "tag-key": lambda r: tuple(r.tags),
}


def _pattern(value: str) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in value)
    return re.compile("".join(parts), re.DOTALL)


def _compiled(filters: object, table: Mapping[str, Callable[[_R], tuple[str, ...]]],
              extra: Mapping[str, Callable[[_R], tuple[str, ...]]]
              ) -> list[tuple[Callable[[_R], tuple[str, ...]], list[re.Pattern[str]]]]:
    if isinstance(filters, str | bytes | Mapping) or not isinstance(filters, Sequence):
        raise InvalidParameterValue("Filters must be a list of {'name': ..., 'values': [...]}.")
    out = []
    for f in filters:
        if not isinstance(f, Mapping) or not set(f) <= {"name", "values"}:
            raise InvalidParameterValue(
                "Each filter must be {'name': ..., 'values': [...]}.")
        name, values = f.get("name"), f.get("values")
        if not isinstance(name, str):
            raise InvalidParameterValue("A filter needs a name.")
        getter = table.get(name) or extra.get(name)
        if getter is None and name.startswith("tag:") and len(name) > 4:
            key = name[4:]
            getter = _tag_getter(key)
        if getter is None:
            raise InvalidParameterValue(f"The filter '{name[:128]}' is invalid")
        if (isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence)
                or not values or not all(isinstance(v, str) for v in values)):
            raise InvalidParameterValue(
                f"The filter '{name[:128]}' needs a non-empty list of string values.")
        if len(values) > 200 or any(len(v) > 1024 for v in values):
            raise InvalidParameterValue(f"The filter '{name[:128]}' has too many or too long "
                                        "values (at most 200 of 1024 characters).")
        out.append((getter, [_pattern(v) for v in values]))
    return out


def _tag_getter(key: str) -> Callable[[_R], tuple[str, ...]]:
    def values(rec: _R) -> tuple[str, ...]:
        found = rec.tags.get(key)
        return () if found is None else (found,)
    return values


def apply_filters(records: list[_R], filters: object,
                  table: Mapping[str, Callable[[_R], tuple[str, ...]]],
                  extra: Mapping[str, Callable[[_R], tuple[str, ...]]] | None = None) -> list[_R]:
    """The records matching every filter (``filters`` None: all of them)."""
    if filters is None:
        return records
    compiled = _compiled(filters, table, extra or {})
    return [r for r in records
            if all(any(p.fullmatch(v) for v in getter(r) for p in patterns)
                   for getter, patterns in compiled)]


@dataclass(frozen=True)
class Page(Generic[_R]):
    items: list[_R]
    next_token: str | None


def paginate(records: list[_R], key: Callable[[_R], str], *, max_results: object,
             next_token: object, limits: tuple[int, int], ids_given: bool) -> Page[_R]:
    """One page of ``records`` (see the module docstring)."""
    if max_results is None:
        if next_token is None:
            return Page(records, None)
        limit = limits[1]
    else:
        if ids_given:
            raise InvalidParameterCombination(
                "The parameter MaxResults cannot be used with the parameter "
                "VolumeIds or SnapshotIds.")
        if isinstance(max_results, bool) or not isinstance(max_results, int) or not (
                limits[0] <= max_results <= limits[1]):
            raise InvalidParameterValue(
                f"Value ({max_results!r}) for parameter maxResults is invalid. Expecting a "
                f"value between {limits[0]} and {limits[1]}.")
        limit = max_results
    start = 0
    if next_token is not None:
        if not isinstance(next_token, str) or not 1 <= len(next_token) <= 1024:
            raise InvalidPaginationToken("The pagination token is not valid.")
        try:
            wanted = base64.urlsafe_b64decode(next_token.encode("ascii")).decode("ascii")
        except (binascii.Error, UnicodeError, ValueError):
            raise InvalidPaginationToken(
                f"Invalid pagination token: {next_token[:64]}") from None
        for i, rec in enumerate(records):
            if key(rec) == wanted:
                start = i
                break
        else:
            raise InvalidPaginationToken(
                f"Invalid pagination token (expired or not issued here): {next_token[:64]}")
    chunk = records[start:start + limit]
    rest = start + limit
    token = (base64.urlsafe_b64encode(key(records[rest]).encode("ascii")).decode("ascii")
             if rest < len(records) else None)
    return Page(chunk, token)
