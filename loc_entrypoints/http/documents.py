"""The route an in-memory document store's links name: a document's bytes, to its owner.

In production a link is a presigned S3 URL and this route is not reached; with the
embedded default (every port in memory) it stands in for S3. The caller must own the
document (its key names them), else 404, exactly as a missing one.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, get
from litestar.params import PathParameter

from loc_core.ports import PDF
from loc_core.services.commands import ReadDocument
from loc_entrypoints.http.deps import Bus, Who
from loc_entrypoints.http.problems import responses

__all__ = ["router"]

DocumentKey = Annotated[str, PathParameter(min_length=1, max_length=512)]
"""A document's key, as `loc_core.ports.documents` makes it (it has slashes)."""


@get(
    "/{key:path}",
    operation_id="readDocument",
    summary="A document's PDF, to its owner (what an in-memory store's links name)",
    responses=responses(404),
    media_type=PDF,
    tags=["documents"],
    sync_to_thread=False,
)
def read_document(*, caller: Who, bus: Bus, key: DocumentKey) -> Response[bytes]:
    """The PDF; 404 when it is not the caller's or nothing is stored under the key."""
    body = bus.handle(ReadDocument(caller.user_id, key.removeprefix("/")))
    return Response(body, media_type=PDF)


router = Router(path="/documents", route_handlers=[read_document])
"""The document route, under ``/documents``."""
