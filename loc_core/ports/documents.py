"""The document store port: agreements, statements and notices as PDF files, their keys and links.

A borrower reads a document through a short-lived link (`DocumentStore.link`): a
presigned S3 URL in production, a route of the HTTP API in memory. A link lives
`DOCUMENT_LINK_LIFETIME`, never more than `MAX_DOCUMENT_LINK_LIFETIME`.

The audit archive is a second store of the same shape (`AuditArchive`): committed audit
records kept for their retention, one JSON-lines object per record.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from loc_core.errors import InvalidRequest

if TYPE_CHECKING:
    from loc_core.applications import AdverseActionNotice
    from loc_core.disclosures import LineDisclosure, LoanDisclosure, StatementDisclosure

__all__ = [
    "AUDIT_ARCHIVE_RETENTION_DAYS",
    "DOCUMENT_LINK_LIFETIME",
    "JSON_LINES",
    "MAX_DOCUMENT_LINK_LIFETIME",
    "PDF",
    "AuditArchive",
    "DocumentRenderer",
    "DocumentStore",
    "adverse_action_notice_key",
    "agreement_key",
    "audit_archive_key",
    "check_link_lifetime",
    "document_owner",
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

    def link(self, key: str, *, expires: dt.timedelta) -> str | None:
        """A URL that reads the document under `key` for `expires`; None when there is none.

        Raises `InvalidRequest` for a lifetime `check_link_lifetime` refuses.
        """
        ...


class DocumentRenderer(Protocol):
    """Lays out a borrower's documents as PDF bytes (fpdf2 in ``loc_adapters.documents``).

    The same figures and name render to the same bytes, so a document rendered again
    after a failure is the document the borrower would have had.
    """

    def agreement(self, disclosure: LoanDisclosure, *, borrower_name: str) -> bytes:
        """The loan agreement of an offer: the disclosure box and the payment schedule."""
        ...

    def statement(self, disclosure: StatementDisclosure, *, borrower_name: str) -> bytes:
        """A line of credit's periodic statement."""
        ...

    def line_agreement(self, disclosure: LineDisclosure, *, borrower_name: str) -> bytes:
        """A line offer's account-opening disclosure (12 CFR 1026.6(b))."""
        ...

    def adverse_action_notice(self, notice: AdverseActionNotice, *, borrower_name: str) -> bytes:
        """A rejected application's adverse action notice (12 CFR 1002.9, FCRA 615(a))."""
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


DOCUMENT_LINK_LIFETIME = dt.timedelta(minutes=10)
"""How long a borrower's link to a document lives: long enough to open it, short enough
that a forwarded or logged link soon stops working."""

MAX_DOCUMENT_LINK_LIFETIME = dt.timedelta(minutes=15)
"""The longest lifetime a document store grants a link."""


def check_link_lifetime(expires: dt.timedelta) -> dt.timedelta:
    """`expires` when it is positive and at most `MAX_DOCUMENT_LINK_LIFETIME`.

    Raises:
        InvalidRequest: a lifetime of zero or less, or longer than the maximum.
    """
    if not dt.timedelta(0) < expires <= MAX_DOCUMENT_LINK_LIFETIME:
        raise InvalidRequest(
            f"a document link lives more than 0s and at most {MAX_DOCUMENT_LINK_LIFETIME},"
            f" got {expires}",
            key="expires",
        )
    return expires


def audit_archive_key(recorded_on: dt.date, record_id: str) -> str:
    """``audit/date=<yyyy-mm-dd>/<record_id>.jsonl``: one object per record, by its date.

    Keyed by the record's id, so a record archived twice is the same object.
    """
    return f"audit/date={recorded_on.isoformat()}/{_part('record_id', record_id)}.jsonl"


def _part(name: str, value: str) -> str:
    if not value or "/" in value:
        raise InvalidRequest(f"{name} must be non-empty and free of '/', got {value!r}", key=name)
    return value


def agreement_key(
    user_id: str, subject_id: str, *, disclosed_again_on: dt.date | None = None
) -> str:
    """``agreements/<user>/<application or line>.pdf``: the agreement of a loan or line.

    A loan's agreement is rendered on approval, before the loan exists: its subject is the
    application. An offer disclosed again (12 CFR 1026.17(f)) files its new agreement
    beside the first, ``agreements/<user>/<application>/disclosed-<yyyy-mm-dd>.pdf``, so
    the agreement a borrower was shown before is never overwritten (1026.25 keeps it).
    """
    base = f"agreements/{_part('user_id', user_id)}/{_part('subject_id', subject_id)}"
    if disclosed_again_on is None:
        return f"{base}.pdf"
    return f"{base}/disclosed-{disclosed_again_on.isoformat()}.pdf"


def statement_key(user_id: str, line_id: str, statement_date: dt.date) -> str:
    """``statements/<user>/<line>/<yyyy-mm-dd>.pdf``: one billing statement of a line."""
    user, line = _part("user_id", user_id), _part("line_id", line_id)
    return f"statements/{user}/{line}/{statement_date.isoformat()}.pdf"


def adverse_action_notice_key(user_id: str, application_id: str) -> str:
    """``notices/<user>/<application>.pdf``: a rejected application's adverse action notice.

    One per application (loan's or line's: application ids never repeat across products).
    """
    user, application = _part("user_id", user_id), _part("application_id", application_id)
    return f"notices/{user}/{application}.pdf"


_BORROWER_DOCUMENTS = frozenset({"agreements", "statements", "notices"})
"""The key prefixes of borrower documents; their second part is the borrower."""


def document_owner(key: str) -> str | None:
    """The borrower a document key belongs to (an agreement's, statement's or notice's user).

    None for any other key, which no borrower may read.
    """
    kind, _, rest = key.partition("/")
    user, _, name = rest.partition("/")
    if kind not in _BORROWER_DOCUMENTS or not user or not name:
        return None
    return user
