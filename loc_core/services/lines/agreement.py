"""The link to a line offer's account-opening disclosure, filed when the offer is approved.

`apply_for_line` files the disclosure after the approval commits
(`loc_core.services.filing.file_line_agreement`); this query gives the borrower a
short-lived link to it. The application is read first, as the borrower, so another
user's application is `NotFound` exactly like a missing one.
"""

from __future__ import annotations

import attrs

from loc_core.errors import NotFound
from loc_core.ports import DOCUMENT_LINK_LIFETIME, Clock, DocumentStore, UnitOfWork
from loc_core.services.documents import DocumentLink
from loc_core.services.filing import line_agreement_key
from loc_core.services.messagebus import Command
from loc_core.validation import Id, validated

__all__ = ["GetLineApplicationAgreement", "get_line_application_agreement"]


@attrs.frozen(field_transformer=validated)
class GetLineApplicationAgreement(Command[DocumentLink]):
    """A borrower asks for a link to the account-opening disclosure of their line offer."""

    user_id: Id
    application_id: Id


def get_line_application_agreement(
    query: GetLineApplicationAgreement,
    *,
    uow: UnitOfWork,
    documents: DocumentStore,
    clock: Clock,
) -> DocumentLink:
    """A link that lives `DOCUMENT_LINK_LIFETIME` to the offer's disclosure.

    Raises:
        NotFound: no such line application for the user (another user's is the same), or
            no disclosure stored for it (rejected, or not rendered yet).
    """
    with uow:
        application = uow.line_applications.get(query.user_id, query.application_id)
    key = line_agreement_key(application)
    expires_at = clock.now() + DOCUMENT_LINK_LIFETIME
    url = documents.link(key, expires=DOCUMENT_LINK_LIFETIME)
    if url is None:
        raise NotFound(
            f"no document {key}", entity="document", entity_id=key, user_id=query.user_id
        )
    return DocumentLink(url, expires_at)
