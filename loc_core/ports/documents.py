"""The document store port: agreements and statements as PDF files, and their keys.

The audit archive is a second store of the same shape (`AuditArchive`): committed audit
records kept for their retention, one JSON-lines object per record.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from loc_core.errors import InvalidRequest

__all__ = [
    "AUDIT_ARCHIVE_RETENTION_DAYS",
    "JSON_LINES",
    "PDF",
    "AuditArchive",
    "DocumentStore",
    "agreement_key",
    "audit_archive_key",
    "statement_key",
]

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


class AuditArchive(Protocol):
    """Where committed audit records are kept for their retention (an S3 bucket), by key."""

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store `body` under `key`; the same key and body again changes nothing."""
        ...

    def get(self, key: str) -> bytes:
        """The body stored under `key`. Raises `NotFound`."""
        ...


AUDIT_ARCHIVE_RETENTION_DAYS = 2_555
"""How long archived audit records are kept: seven years, the payments design's policy
(the archive bucket's lifecycle rule expires objects after exactly this many days)."""

JSON_LINES = "application/x-ndjson"
"""The content type of an archived audit record."""


def audit_archive_key(recorded_on: dt.date, record_id: str) -> str:
    """``audit/date=<yyyy-mm-dd>/<record_id>.jsonl``: one object per record, by its date.

    Keyed by the record's id, so a record archived twice is the same object.
    """
    return f"audit/date={recorded_on.isoformat()}/{_part('record_id', record_id)}.jsonl"


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
