"""IAM's ``Marker``/``MaxItems`` paging, shared by every List* operation.

IAM returns at most ``MaxItems`` (1-1000, default 100) entries and, when more remain,
``IsTruncated=true`` with a ``Marker`` to pass back for the next page (IAM API Reference,
"Using the Marker and MaxItems parameters"). The marker is opaque to the caller: here it encodes
the key of the first entry of the next page, so a page boundary survives entries being added
before it; a marker whose entry has since been deleted is refused (InvalidInput).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import IamInvalidInputException, IamValidationError

__all__ = ["DEFAULT_MAX_ITEMS", "Page", "page"]

DEFAULT_MAX_ITEMS = 100
_T = TypeVar("_T")


@dataclass(frozen=True)
class Page(Generic[_T]):
    items: list[_T]
    is_truncated: bool
    marker: str | None


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def _decode(marker: str) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise IamInvalidInputException("Invalid Marker.") from None


def page(items: Sequence[_T], key: Callable[[_T], str], *, marker: object,
         max_items: object) -> Page[_T]:
    """The page of ``items`` starting at ``marker`` (None: the first), at most ``max_items``."""
    if max_items is None:
        limit = DEFAULT_MAX_ITEMS
    elif isinstance(max_items, bool) or not isinstance(max_items, int) or not (
            1 <= max_items <= 1000):
        raise IamValidationError(
            f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy "
            "constraint: Member must have value between 1 and 1000")
    else:
        limit = max_items
    start = 0
    if marker is not None:
        if not isinstance(marker, str) or not 1 <= len(marker) <= 320:
            raise IamValidationError(
                "1 validation error detected: Value at 'marker' failed to satisfy constraint: "
                "Member must have length between 1 and 320")
        wanted = _decode(marker)
        for i, item in enumerate(items):
            if key(item) == wanted:
                start = i
                break
        else:
            raise IamInvalidInputException("Invalid Marker.")
    chunk = list(items[start:start + limit])
    rest = start + limit
    if rest < len(items):
        return Page(chunk, True, _encode(key(items[rest])))
    return Page(chunk, False, None)
