"""A borrower's documents: short-lived links to a statement's PDF or a loan's agreement.

The record a document belongs to is read first, as the borrower, so another user's
statement or loan is `NotFound` exactly like a missing one; then the document store
gives a link that lives `DOCUMENT_LINK_LIFETIME`, or none when the PDF was never stored.

A rejected application's adverse action notice (`GetAdverseActionNotice`, either
product), or an installment counteroffer's combined counteroffer and adverse action
notice, is read the same way: the application first, as the borrower, and one that was
neither rejected nor a counteroffer is `NotFound` like a missing one.

An installment loan's agreement is rendered on approval, before any loan exists, so it
is keyed by its application (`agreement_key(user, application_id)`); a loan's agreement
is its application's. An offer disclosed again has its current terms' agreement under
its own key (`offer_agreement_key`), and the earlier one stays where it was.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.applications import ApplicationStatus
from loc_core.bookkeeping import Product
from loc_core.errors import NotFound
from loc_core.installment import LoanApplication
from loc_core.ports import (
    DOCUMENT_LINK_LIFETIME,
    Clock,
    DocumentStore,
    UnitOfWork,
    agreement_key,
    document_owner,
    statement_key,
)
from loc_core.ports.documents import adverse_action_notice_key
from loc_core.services.filing import line_agreement_key, offer_agreement_key
from loc_core.services.messagebus import Command
from loc_core.validation import Day, Id, Text, validated

__all__ = [
    "DocumentLink",
    "GetAdverseActionNotice",
    "GetApplicationAgreement",
    "GetLineApplicationAgreement",
    "GetLoanAgreement",
    "GetStatementDocument",
    "ReadDocument",
    "get_adverse_action_notice",
    "get_application_agreement",
    "get_line_application_agreement",
    "get_loan_agreement",
    "get_statement_document",
    "read_document",
]


@attrs.frozen
class DocumentLink:
    """Where a borrower reads a document, and until when the link works."""

    url: str
    expires_at: dt.datetime


@attrs.frozen(field_transformer=validated)
class GetStatementDocument(Command[DocumentLink]):
    """A borrower asks for a link to the PDF of their statement of one date."""

    user_id: Id
    line_id: Id
    statement_date: Day


@attrs.frozen(field_transformer=validated)
class GetApplicationAgreement(Command[DocumentLink]):
    """A borrower asks for a link to the agreement of their loan application."""

    user_id: Id
    application_id: Id


@attrs.frozen(field_transformer=validated)
class GetLineApplicationAgreement(Command[DocumentLink]):
    """A borrower asks for a link to the account-opening disclosure of their line offer."""

    user_id: Id
    application_id: Id


@attrs.frozen(field_transformer=validated)
class GetAdverseActionNotice(Command[DocumentLink]):
    """A borrower asks for a link to the adverse action notice of their rejected application.

    Or to the combined counteroffer and adverse action notice of a loan counteroffer.
    """

    user_id: Id
    application_id: Id
    product: Product
    """Whose application it is: a loan's or a line's."""


@attrs.frozen(field_transformer=validated)
class GetLoanAgreement(Command[DocumentLink]):
    """A borrower asks for a link to the agreement of their loan (its application's)."""

    user_id: Id
    loan_id: Id


@attrs.frozen(field_transformer=validated)
class ReadDocument(Command[bytes]):
    """A borrower reads a document by its key (what an in-memory store's link names)."""

    user_id: Id
    key: Text


def _link(documents: DocumentStore, clock: Clock, key: str, user_id: str) -> DocumentLink:
    """A link to `key` that lives `DOCUMENT_LINK_LIFETIME`; `NotFound` when none is stored."""
    expires_at = clock.now() + DOCUMENT_LINK_LIFETIME
    url = documents.link(key, expires=DOCUMENT_LINK_LIFETIME)
    if url is None:
        raise NotFound(f"no document {key}", entity="document", entity_id=key, user_id=user_id)
    return DocumentLink(url, expires_at)


def get_statement_document(
    query: GetStatementDocument, *, uow: UnitOfWork, documents: DocumentStore, clock: Clock
) -> DocumentLink:
    """A link to the statement's PDF.

    Raises:
        NotFound: no such line or statement for the user, or no PDF of it stored.
    """
    with uow:
        uow.lines.get(query.user_id, query.line_id)
        statement = uow.statements.get(query.user_id, query.line_id, query.statement_date)
    key = statement_key(query.user_id, statement.line_id, statement.statement_date)
    return _link(documents, clock, key, query.user_id)


def get_application_agreement(
    query: GetApplicationAgreement, *, uow: UnitOfWork, documents: DocumentStore, clock: Clock
) -> DocumentLink:
    """A link to the application's agreement.

    Raises:
        NotFound: no such application for the user, or no agreement stored for it.
    """
    with uow:
        application = uow.loan_applications.get(query.user_id, query.application_id)
    return _link(documents, clock, _agreement_of(application), query.user_id)


def get_line_application_agreement(
    query: GetLineApplicationAgreement,
    *,
    uow: UnitOfWork,
    documents: DocumentStore,
    clock: Clock,
) -> DocumentLink:
    """A link to the line offer's account-opening disclosure (filed when it was approved).

    The application is read first, as the borrower, so another user's application is
    `NotFound` exactly like a missing one.

    Raises:
        NotFound: no such line application for the user, or no disclosure stored for it
            (rejected, or not rendered yet).
    """
    with uow:
        application = uow.line_applications.get(query.user_id, query.application_id)
    return _link(documents, clock, line_agreement_key(application), query.user_id)


def get_adverse_action_notice(
    query: GetAdverseActionNotice, *, uow: UnitOfWork, documents: DocumentStore, clock: Clock
) -> DocumentLink:
    """A link to the notice filed when the application was rejected or counteroffered.

    Raises:
        NotFound: no such application of the product for the user, an application that
            was neither rejected nor a counteroffer (a loan offered for less than
            requested, accepted or not), or no notice stored for it (not rendered yet).
    """
    user_id, application_id = query.user_id, query.application_id
    with uow:
        if query.product is Product.INSTALLMENT:
            loan_application = uow.loan_applications.get(user_id, application_id)
            status, countered = loan_application.status, loan_application.is_counteroffer
        else:
            status, countered = uow.line_applications.get(user_id, application_id).status, False
    if status is not ApplicationStatus.REJECTED and not countered:
        raise NotFound(
            f"application {application_id} is {status.value} and no counteroffer: it has no "
            "adverse action notice",
            entity="adverse_action_notice",
            entity_id=application_id,
            user_id=user_id,
        )
    return _link(documents, clock, adverse_action_notice_key(user_id, application_id), user_id)


def get_loan_agreement(
    query: GetLoanAgreement, *, uow: UnitOfWork, documents: DocumentStore, clock: Clock
) -> DocumentLink:
    """A link to the agreement of the application the loan came from.

    Raises:
        NotFound: no such loan for the user, or no agreement stored for it.
    """
    with uow:
        loan = uow.loans.get(query.user_id, query.loan_id)
        try:
            key = _agreement_of(uow.loan_applications.get(query.user_id, loan.application_id))
        except NotFound:  # an adopted loan whose application the table no longer holds
            key = agreement_key(query.user_id, loan.application_id)
    return _link(documents, clock, key, query.user_id)


def _agreement_of(application: LoanApplication) -> str:
    """The key of the agreement of the application's current terms.

    The one filed on the application when it names one of the borrower's documents (an
    agreement the Go service filed among them included), else where the current terms'
    agreement is stored (`offer_agreement_key`).
    """
    filed = application.agreement_key
    if filed is not None and document_owner(filed) == application.user_id:
        return filed
    return offer_agreement_key(application)


def read_document(query: ReadDocument, *, documents: DocumentStore) -> bytes:
    """The document's body, for its owner only.

    Raises:
        NotFound: the key is not one of the user's documents, or nothing is stored under it.
    """
    if document_owner(query.key) != query.user_id:
        raise NotFound(
            f"no document {query.key}",
            entity="document",
            entity_id=query.key,
            user_id=query.user_id,
        )
    return documents.get(query.key)
