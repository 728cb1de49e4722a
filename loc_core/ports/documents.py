"""The document store port: agreements and statements as PDF files, and their keys."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from loc_core.errors import InvalidRequest

__all__ = ["PDF", "DocumentStore", "agreement_key", "statement_key"]

PDF = "application/pdf"
"""The content type of every agreement and statement."""


class DocumentStore(Protocol):
    """Where borrower documents are kept (S3 in production), by key."""

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store `body` under `key`, replacing what was there."""
        ...

    def get(self, key: str) -> bytes:
        """The body stored under `key`. Raises `NotFound`."""
        ...


def _part(name: str, value: str) -> str:
    if not value or "/" in value:
        raise InvalidRequest(f"{name} must be non-empty and free of '/', got {value!r}", key=name)
    return value


def agreement_key(user_id: str, subject_id: str) -> str:
    """``agreements/<user>/<loan or line>.pdf``: the signed agreement of a loan or line."""
    return f"agreements/{_part('user_id', user_id)}/{_part('subject_id', subject_id)}.pdf"


def statement_key(user_id: str, line_id: str, statement_date: dt.date) -> str:
    """``statements/<user>/<line>/<yyyy-mm-dd>.pdf``: one billing statement of a line."""
    user, line = _part("user_id", user_id), _part("line_id", line_id)
    return f"statements/{user}/{line}/{statement_date.isoformat()}.pdf"
