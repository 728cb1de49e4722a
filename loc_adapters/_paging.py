"""Audit-trail cursors both stores hand out: URL-safe base64 over a position only they read.

A cursor is opaque to callers; each store decides what position it holds (a list index
in memory, a sort key in DynamoDB) and checks that a cursor handed back is one it could
have made, so a forged or mangled one is refused as the caller's error, naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import re

from loc_core.errors import InvalidRequest
from loc_core.ports import AUDIT_PAGE_LIMIT

__all__ = ["checked_limit", "decode_cursor", "encode_cursor"]


def checked_limit(limit: int) -> int:
    """`limit` when it is an int from 1 to `AUDIT_PAGE_LIMIT`; else `InvalidRequest` naming it."""
    if type(limit) is not int or not 1 <= limit <= AUDIT_PAGE_LIMIT:
        raise InvalidRequest(
            f"limit must be an int from 1 to {AUDIT_PAGE_LIMIT}, got {limit!r}", key="limit"
        )
    return limit


def encode_cursor(position: str) -> str:
    """The opaque cursor of a position."""
    return base64.urlsafe_b64encode(position.encode()).decode("ascii")


def decode_cursor(cursor: str, *, pattern: re.Pattern[str]) -> str:
    """The position a cursor holds, when it matches `pattern` whole; else `InvalidRequest`."""
    try:
        position = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        position = ""
    if not pattern.fullmatch(position):
        raise InvalidRequest("cursor is not one this audit log handed out", key="cursor")
    return position
