"""Pagination: an opaque cursor and a bounded limit over a list read in order."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, TypeVar

from litestar.params import QueryParameter

from loc_core.errors import InvalidRequest

__all__ = ["MAX_LIMIT", "Cursor", "Limit", "newest_first", "paginate"]

MAX_LIMIT = 100
"""The most items one page holds."""

Limit = Annotated[
    int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")
]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=64, description="The `next_cursor` of the previous page."),
]

T = TypeVar("T")
_PREFIX = "after:"


def paginate(items: Sequence[T], *, cursor: str | None, limit: int) -> tuple[list[T], str | None]:
    """The page of `items` after `cursor`, and the cursor of the next page (None: last).

    Raises:
        InvalidRequest: naming ``cursor``, for a cursor this API did not hand out.
    """
    start = 0 if cursor is None else _position(cursor)
    page = list(items[start : start + limit])
    end = start + len(page)
    more = end < len(items)
    following = base64.urlsafe_b64encode(f"{_PREFIX}{end}".encode()).decode() if more else None
    return page, following


def newest_first(
    items: Iterable[T], key: Callable[[T], Any], *, cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """`paginate` over `items` sorted by `key`, the largest (newest) first."""
    return paginate(sorted(items, key=key, reverse=True), cursor=cursor, limit=limit)


def _position(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    number = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not number.isdigit() or len(number) > 9:  # noqa: PLR2004 - no list is that long
        raise InvalidRequest("cursor is not one this API handed out", key="cursor")
    return int(number)
