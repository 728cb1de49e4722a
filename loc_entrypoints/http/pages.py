"""Pagination: an opaque cursor and a bounded limit over a list read newest first.

A cursor names the last item of the page it came with, by the list's order key (a day or
an instant, then the item's id), not by its position: an item added or removed between two
page requests neither repeats an item on the next page nor skips one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Annotated, TypeVar

from litestar.params import QueryParameter

from loc_core.errors import InvalidRequest

__all__ = ["MAX_LIMIT", "Cursor", "Limit", "OrderKey", "newest_first"]

MAX_LIMIT = 100
"""The most items one page holds."""
CURSOR_LENGTH = 160
"""The longest cursor a list hands out (an instant and an id, encoded)."""

Limit = Annotated[
    int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")
]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=CURSOR_LENGTH, description="The `next_cursor` of the previous page."),
]

T = TypeVar("T")
OrderKey = tuple[dt.date | str, ...]
"""Where an item sits in its list: days or instants (UTC), then ids; unique in the list."""
_VERSION = "k1"
_PARTS = 4
_PART_LENGTH = 64


def newest_first(
    items: Iterable[T], key: Callable[[T], OrderKey], *, cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """The page of `items` (largest `key` first) after `cursor`, and the next page's cursor.

    The next cursor is None on the last page.

    Raises:
        InvalidRequest: naming ``cursor``, for a cursor this API did not hand out.
    """
    after = None if cursor is None else _decode(cursor)
    ordered = sorted(((_text(key(item)), item) for item in items), reverse=True, key=_first)
    if after is not None:
        ordered = [pair for pair in ordered if pair[0] < after]
    page = ordered[:limit]
    following = _encode(page[-1][0]) if len(ordered) > limit else None
    return [item for _, item in page], following


def _first(pair: tuple[tuple[str, ...], object]) -> tuple[str, ...]:
    return pair[0]


def _text(key: OrderKey) -> tuple[str, ...]:
    """`key` as text that sorts as the key does (instants in UTC, to the microsecond)."""
    return tuple(
        part.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        if isinstance(part, dt.datetime)
        else part.isoformat()
        if isinstance(part, dt.date)
        else part
        for part in key
    )


def _encode(key: tuple[str, ...]) -> str:
    text = json.dumps([_VERSION, *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode("ascii")


def _decode(cursor: str) -> tuple[str, ...]:
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8"))
    except (binascii.Error, UnicodeError, ValueError):
        parts = None
    if (
        not isinstance(parts, list)
        or not 2 <= len(parts) <= _PARTS + 1  # noqa: PLR2004 - the version and one part at least
        or parts[0] != _VERSION
        or not all(isinstance(part, str) and len(part) <= _PART_LENGTH for part in parts)
    ):
        raise InvalidRequest("cursor is not one this API handed out", key="cursor")
    return tuple(parts[1:])
