"""Filing a borrower's documents after commit: render, store, and never block money.

An approved installment offer's agreement is rendered right after the approval commits
(`file_agreement`, from `apply_for_loan`) and its key saved on the application; a
statement's PDF is rendered when its ``loc_statement_ready`` event is published
(`file_statement`, before the notification goes, so a borrower who follows the link
finds the PDF). A renderer or store failure after the commit is caught, alerted
(WARNING) and put on the work queue as a ``render_document`` message, which a worker turns
into `RenderDocument`: that renders the document if it is still missing and raises if it
fails again, so the queue delivers it until it succeeds (if even the queue refuses it,
the alert is CRITICAL). The documents job (`RenderMissingDocuments`) is the scheduled
backstop: it renders what is still missing. Rendering is deterministic and keyed, so
rendering twice stores the same bytes under the same key. With no renderer
(`DocumentFiler.renderer` None) nothing is rendered.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Callable
from typing import TypeVar

import attrs

from loc_core.creditline import CreditLine, CreditLineProduct
from loc_core.creditline.statement import Statement, statement_document_path
from loc_core.disclosures import loan_disclosure, statement_disclosure
from loc_core.errors import DomainError, ExternalServiceError, InvalidRequest, NotFound
from loc_core.events import DomainEvent, EventType
from loc_core.installment import InstallmentProduct, LoanApplication
from loc_core.ports import (
    DOCUMENT_LINK_LIFETIME,
    PDF,
    Alerter,
    Clock,
    DocumentStore,
    LineRef,
    LoanRef,
    QueueMessage,
    RefPage,
    Severity,
    UnitOfWork,
    Users,
    WorkQueue,
    agreement_key,
    statement_key,
)
from loc_core.ports.documents import DocumentRenderer
from loc_core.services.kit import post_alert
from loc_core.services.messagebus import Command
from loc_core.services.scheduled import ScheduledJob
from loc_core.validation import Day, Id, validated

__all__ = [
    "DOCUMENTS_LOOK_BACK_DAYS",
    "RENDER_DOCUMENT",
    "DocumentFiler",
    "DocumentKind",
    "DocumentsReport",
    "RenderDocument",
    "RenderMissingDocuments",
    "file_agreement",
    "file_statement",
    "render_document",
    "render_missing_documents",
    "statement_document_path",
]

DOCUMENTS_LOOK_BACK_DAYS = 35
"""How far back the documents job looks for statements without a PDF (policy): a cycle
and the billing job's catch-up week."""


@attrs.frozen
class DocumentFiler:
    """What renders and stores documents; `renderer` None when the deployment renders none."""

    documents: DocumentStore
    users: Users
    alerter: Alerter
    queue: WorkQueue
    """Where a document that failed after its commit waits for a retry."""
    renderer: DocumentRenderer | None = None


RENDER_DOCUMENT = "render_document"
"""The `QueueMessage.kind` of a document kept for a retry."""


class DocumentKind(enum.Enum):
    """Which borrower document a `RenderDocument` renders."""

    AGREEMENT = "agreement"
    STATEMENT = "statement"


@attrs.frozen(field_transformer=validated)
class RenderDocument(Command[bool]):
    """Render a document a failure after its commit left missing (a ``render_document`` body).

    The queue delivers it until it succeeds; a document stored already is left alone.
    """

    document: DocumentKind
    user_id: Id
    subject_id: Id
    """The application (an agreement) or the line (a statement)."""
    statement_date: Day | None = None
    """A statement's date; None for an agreement."""

    def __attrs_post_init__(self) -> None:
        """A statement names its date and an agreement none.

        Raises:
            InvalidRequest: the date does not fit the document.
        """
        if (self.statement_date is None) is (self.document is DocumentKind.STATEMENT):
            raise InvalidRequest(
                f"a {self.document.value} with statement_date {self.statement_date}",
                key="statement_date",
            )

    @property
    def key(self) -> str:
        """Where the document is stored (`agreement_key` or `statement_key`)."""
        if self.statement_date is None:
            return agreement_key(self.user_id, self.subject_id)
        return statement_key(self.user_id, self.subject_id, self.statement_date)

    def message(self) -> QueueMessage:
        """The queue message that keeps this document for a retry (deduplicated by key)."""
        day = self.statement_date
        return QueueMessage(
            kind=RENDER_DOCUMENT,
            body={
                "document": self.document.value,
                "user_id": self.user_id,
                "subject_id": self.subject_id,
                "statement_date": None if day is None else day.isoformat(),
            },
            deduplication_id=self.key,
        )

    @classmethod
    def from_message(cls, message: QueueMessage) -> RenderDocument:
        """Read a queue message.

        Raises:
            DomainError: for a message of another kind or with a malformed body.
        """
        if message.kind != RENDER_DOCUMENT:
            raise DomainError(f"not a {RENDER_DOCUMENT} message: {message.kind!r}")
        body = message.body
        day = body.get("statement_date")
        try:
            return cls(
                document=DocumentKind(body.get("document")),
                user_id=str(body.get("user_id", "")),
                subject_id=str(body.get("subject_id", "")),
                statement_date=None if day is None else dt.date.fromisoformat(str(day)),
            )
        except ValueError as exc:
            raise DomainError(f"malformed {RENDER_DOCUMENT} message: {exc}") from exc


def file_agreement(
    application: LoanApplication,
    *,
    filer: DocumentFiler,
    uow: UnitOfWork,
    clock: Clock,
    product: InstallmentProduct,
) -> bool:
    """Render and store an approved offer's agreement and save its key; False if not done.

    Never raises for a rendering or storage failure: it is alerted and queued for a retry.
    """
    if filer.renderer is None or application.agreement_key is not None:
        return False
    if application.loan_number is None:
        return False
    try:
        _store_agreement(application, filer=filer, uow=uow, clock=clock, product=product)
    except Exception as exc:  # noqa: BLE001 - a document never blocks money: alert, retry later
        retry = RenderDocument(
            DocumentKind.AGREEMENT, application.user_id, application.application_id
        )
        _keep_for_retry(filer, retry, exc)
        return False
    return True


def _store_agreement(
    application: LoanApplication,
    *,
    filer: DocumentFiler,
    uow: UnitOfWork,
    clock: Clock,
    product: InstallmentProduct,
) -> None:
    """Render and store the agreement, then save its key on the application (once)."""
    renderer = filer.renderer
    if renderer is None:
        return
    user_id, application_id = application.user_id, application.application_id
    key = agreement_key(user_id, application_id)
    name = filer.users.get(user_id).borrower_name
    body = renderer.agreement(loan_disclosure(application, product), borrower_name=name)
    filer.documents.put(key, body, content_type=PDF)
    with uow:
        stored = uow.loan_applications.get(user_id, application_id)
        if stored.agreement_key is None:
            stored.file_agreement(key, now=clock.now())
            uow.loan_applications.save(stored)
            uow.commit(actor="documents", request_id=f"agreement:{application_id}")


def file_statement(
    event: DomainEvent, *, filer: DocumentFiler, uow: UnitOfWork, product: CreditLineProduct
) -> None:
    """Render and store the PDF of the statement a ``loc_statement_ready`` event announces.

    Any other event is ignored. Never raises: a failure is alerted and queued for a retry.
    """
    if filer.renderer is None or event.type is not EventType.LOC_STATEMENT_READY:
        return
    statement_date = dt.date.fromisoformat(str(event.data["statement_date"]))
    try:
        _store_statement(
            filer, uow, event.user_id, event.subject_id, statement_date, product=product
        )
    except Exception as exc:  # noqa: BLE001 - a document never blocks money: alert, retry later
        retry = RenderDocument(
            DocumentKind.STATEMENT, event.user_id, event.subject_id, statement_date
        )
        _keep_for_retry(filer, retry, exc)


def _store_statement(
    filer: DocumentFiler,
    uow: UnitOfWork,
    user_id: str,
    line_id: str,
    statement_date: dt.date,
    *,
    product: CreditLineProduct,
) -> None:
    """Read one statement and its line's limit, then render and store the statement's PDF."""
    with uow:
        line = uow.lines.get(user_id, line_id)
        statement = uow.statements.get(user_id, line_id, statement_date)
    _render_statement(filer, statement, line, product=product)


def _render_statement(
    filer: DocumentFiler, statement: Statement, line: CreditLine, *, product: CreditLineProduct
) -> None:
    """Render and store one statement's PDF (nothing without a renderer).

    The line gives the credit limit and the minimum-payment percent the warning's
    estimate uses.
    """
    renderer = filer.renderer
    if renderer is None:
        return
    key = statement_key(statement.user_id, statement.line_id, statement.statement_date)
    name = filer.users.get(statement.user_id).borrower_name
    disclosure = statement_disclosure(
        statement,
        credit_limit=line.credit_limit,
        product=product,
        minimum_payment_percent=line.minimum_payment_percent,
    )
    filer.documents.put(key, renderer.statement(disclosure, borrower_name=name), content_type=PDF)


def _keep_for_retry(filer: DocumentFiler, retry: RenderDocument, exc: Exception) -> None:
    """Queue a failed document for the worker and alert: WARNING, CRITICAL if not queued."""
    kind, details = retry.document.value, {"user_id": retry.user_id, "key": retry.key}
    try:
        filer.queue.send([retry.message()])
    except ExternalServiceError as lost:
        post_alert(
            filer.alerter,
            f"{kind} document not rendered and not queued for a retry",
            {**details, "queue_error": str(lost)},
            error=exc,
        )
        return
    post_alert(
        filer.alerter,
        f"{kind} document not rendered; queued for a retry",
        details,
        severity=Severity.WARNING,
        error=exc,
    )


def render_document(
    command: RenderDocument,
    *,
    filer: DocumentFiler,
    uow: UnitOfWork,
    clock: Clock,
    installment: InstallmentProduct,
    creditline: CreditLineProduct,
) -> bool:
    """Render a queued document if it is still missing; True when this call stored it.

    Raises:
        NotFound: no such application, line or statement.
        Exception: the renderer's or the store's failure, so the queue delivers it again.
    """
    if filer.renderer is None:
        return False
    if command.statement_date is None:
        with uow:
            application = uow.loan_applications.get(command.user_id, command.subject_id)
        if application.agreement_key is not None:
            return False
        _store_agreement(application, filer=filer, uow=uow, clock=clock, product=installment)
        return True
    if filer.documents.link(command.key, expires=DOCUMENT_LINK_LIFETIME) is not None:
        return False
    _store_statement(
        filer,
        uow,
        command.user_id,
        command.subject_id,
        command.statement_date,
        product=creditline,
    )
    return True


@attrs.frozen
class DocumentsReport:
    """What one run of the documents job did."""

    rendered: tuple[str, ...]
    """The keys stored by this run."""
    failed: tuple[str, ...]
    """The keys still missing (each alerted); the next run tries again."""
    present: int
    """Documents found already stored."""


@attrs.frozen
class RenderMissingDocuments(ScheduledJob[DocumentsReport]):
    """Run the documents job (``loc_documents``): render what a failure left missing.

    Agreements of approved applications that became loans and have no stored key, and
    statements of the last `DOCUMENTS_LOOK_BACK_DAYS` whose PDF is not stored.
    """


_PAGE = 100

_Ref = TypeVar("_Ref", LoanRef, LineRef)
_Found = TypeVar("_Found")


def render_missing_documents(
    command: RenderMissingDocuments,
    *,
    filer: DocumentFiler,
    uow: UnitOfWork,
    clock: Clock,
    installment: InstallmentProduct,
    creditline: CreditLineProduct,
) -> DocumentsReport:
    """Render every missing agreement and recent statement PDF; running it again changes nothing."""
    today = command.business_date(clock)
    rendered: list[str] = []
    failed: list[str] = []
    present = 0
    if filer.renderer is None:
        return DocumentsReport((), (), 0)
    for application in _loan_applications(uow):
        key = agreement_key(application.user_id, application.application_id)
        if application.agreement_key is not None:
            present += 1
            continue
        store = functools.partial(
            _store_agreement, application, filer=filer, uow=uow, clock=clock, product=installment
        )
        (rendered if _sweep(filer, key, application.user_id, store) else failed).append(key)
    since = today - dt.timedelta(days=DOCUMENTS_LOOK_BACK_DAYS)
    for statement, line in _recent_statements(uow, since):
        key = statement_key(statement.user_id, statement.line_id, statement.statement_date)
        if filer.documents.link(key, expires=DOCUMENT_LINK_LIFETIME) is not None:
            present += 1
            continue
        store = functools.partial(_render_statement, filer, statement, line, product=creditline)
        (rendered if _sweep(filer, key, statement.user_id, store) else failed).append(key)
    return DocumentsReport(tuple(rendered), tuple(failed), present)


def _sweep(filer: DocumentFiler, key: str, user_id: str, store: Callable[[], None]) -> bool:
    """Run one store step of the job; False (alerted) when it failed: the next run retries."""
    try:
        store()
    except Exception as exc:  # noqa: BLE001 - one document's failure never stops the job
        post_alert(
            filer.alerter,
            "document not rendered; the documents job retries it",
            {"user_id": user_id, "key": key},
            severity=Severity.WARNING,
            error=exc,
        )
        return False
    return True


def _loan_applications(uow: UnitOfWork) -> list[LoanApplication]:
    """The applications every loan came from, page by page through the loan listing."""

    def application(uow: UnitOfWork, ref: LoanRef) -> list[LoanApplication]:
        loan = uow.loans.get(ref.user_id, ref.loan_id)
        try:
            return [uow.loan_applications.get(ref.user_id, loan.application_id)]
        except NotFound:
            return []  # a loan migrated without its application has no agreement here

    return _every(uow, lambda uow, cursor: uow.loans.page(cursor, _PAGE), application)


def _recent_statements(uow: UnitOfWork, since: dt.date) -> list[tuple[Statement, CreditLine]]:
    """Statements dated `since` or later, with their line."""

    def statements(uow: UnitOfWork, ref: LineRef) -> list[tuple[Statement, CreditLine]]:
        line = uow.lines.get(ref.user_id, ref.line_id)
        return [
            (statement, line)
            for statement in uow.statements.for_line(ref.user_id, ref.line_id)
            if statement.statement_date >= since
        ]

    return _every(uow, lambda uow, cursor: uow.lines.page(cursor, _PAGE), statements)


def _every(
    uow: UnitOfWork,
    page_of: Callable[[UnitOfWork, str | None], RefPage[_Ref]],
    read: Callable[[UnitOfWork, _Ref], list[_Found]],
) -> list[_Found]:
    """What `read` finds for every ref of a listing, a page per unit of work."""
    found: list[_Found] = []
    cursor: str | None = None
    while True:
        with uow:
            page = page_of(uow, cursor)
            for ref in page.refs:
                found.extend(read(uow, ref))
        cursor = page.cursor
        if cursor is None:
            return found
