"""Documents in memory, for tests and the simulation."""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.errors import NotFound
from loc_core.ports import check_link_lifetime

__all__ = ["InMemoryDocumentStore"]


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
