"""Documents in memory, for tests and the simulation."""

from __future__ import annotations

import attrs

from loc_core.errors import NotFound

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

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store `body` under `key`, replacing what was there."""
        self.documents[key] = StoredDocument(bytes(body), content_type)

    def get(self, key: str) -> bytes:
        """The body under `key`, or `NotFound`."""
        try:
            return self.documents[key].body
        except KeyError:
            raise NotFound(f"no document {key}", entity="document", entity_id=key) from None
