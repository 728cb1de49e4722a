"""Documents in memory, for tests and the simulation: a store, and a text renderer."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from loc_core.errors import ExternalServiceError, NotFound
from loc_core.ports import check_link_lifetime

if TYPE_CHECKING:
    from loc_core.applications import AdverseActionNotice
    from loc_core.disclosures import LineDisclosure, LoanDisclosure, StatementDisclosure

__all__ = ["InMemoryDocumentStore", "RenderingFailed", "TextRenderer"]


@attrs.frozen
class StoredDocument:
    """One document as `InMemoryDocumentStore` keeps it."""

    body: bytes
    content_type: str


@attrs.define
class InMemoryDocumentStore:
    """`DocumentStore` on a dict; `documents` shows what was stored and as what type."""

    documents: dict[str, StoredDocument] = attrs.field(factory=dict)
    link_base: str = "/documents/"
    """Where links point: the HTTP API's route that serves a document to its owner."""

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store `body` under `key`, replacing what was there."""
        self.documents[key] = StoredDocument(bytes(body), content_type)

    def get(self, key: str) -> bytes:
        """The body under `key`, or `NotFound`."""
        try:
            return self.documents[key].body
        except KeyError:
            raise NotFound(f"no document {key}", entity="document", entity_id=key) from None

    def link(self, key: str, *, expires: dt.timedelta) -> str | None:
        """``<link_base><key>``, or None when nothing is stored under `key`.

        The link carries no signature: the API route it names serves the document only
        to the caller whose token names its owner (`loc_core.ports.document_owner`).
        """
        check_link_lifetime(expires)
        return f"{self.link_base}{key}" if key in self.documents else None


@attrs.define
class TextRenderer:
    """`DocumentRenderer` that writes a plain-text rendering: tests and the PDF-less default.

    The body is ``loc text rendering`` and a line naming the document, then the canonical
    JSON (sorted keys) of the borrower's name and every disclosed figure: deterministic,
    and plainly not a PDF. `fail_next` makes that many calls raise `RenderingFailed` first
    (to test the retry); `rendered` counts the calls that answered.
    """

    fail_next: int = 0
    rendered: int = 0

    def agreement(self, disclosure: LoanDisclosure, *, borrower_name: str) -> bytes:
        """The agreement's figures as text."""
        return self._render("agreement", disclosure, borrower_name)

    def statement(self, disclosure: StatementDisclosure, *, borrower_name: str) -> bytes:
        """The statement's figures as text."""
        return self._render("statement", disclosure, borrower_name)

    def line_agreement(self, disclosure: LineDisclosure, *, borrower_name: str) -> bytes:
        """The line's account-opening figures as text."""
        return self._render("line_agreement", disclosure, borrower_name)

    def adverse_action_notice(self, notice: AdverseActionNotice, *, borrower_name: str) -> bytes:
        """The notice's content as text."""
        return self._render("adverse_action_notice", notice, borrower_name)

    def _render(
        self,
        kind: str,
        disclosure: LoanDisclosure | StatementDisclosure | LineDisclosure | AdverseActionNotice,
        borrower_name: str,
    ) -> bytes:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RenderingFailed(f"{kind} rendering failed (told to)")
        self.rendered += 1
        figures = attrs.asdict(disclosure, value_serializer=_plain)
        body = json.dumps(
            {"borrower_name": borrower_name, "figures": figures}, sort_keys=True, indent=1
        )
        return f"loc text rendering\n{kind}\n{body}\n".encode()


class RenderingFailed(ExternalServiceError):
    """A `TextRenderer` told to fail did."""


def _plain(_instance: object, _field: object, value: object) -> object:
    """Dates as ISO strings and Decimals as their exact strings, for JSON."""
    if isinstance(value, dt.date | Decimal):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value
