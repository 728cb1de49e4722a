"""Filing a borrower's documents after commit: render, store, and never block money.

An approved installment offer's agreement is rendered right after the approval commits
(`file_agreement`, from `apply_for_loan`) and its key saved on the application; a
statement's PDF is rendered when its ``loc_statement_ready`` event is published
(`file_statement`, before the notification goes, so a borrower who follows the link
finds the PDF). A renderer or store failure is caught, logged as a WARNING alert and
left to the documents job (`RenderMissingDocuments`), which renders what is missing.
Rendering is deterministic and keyed, so rendering twice stores the same bytes under
the same key. With no renderer (`DocumentFiler.renderer` None) nothing is rendered.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLineProduct
from loc_core.creditline.statement import Statement, statement_document_path
from loc_core.disclosures import loan_disclosure, statement_disclosure
from loc_core.errors import NotFound
from loc_core.events import DomainEvent, EventType
from loc_core.installment import InstallmentProduct, LoanApplication
from loc_core.ports import (
    DOCUMENT_LINK_LIFETIME,
    PDF,
    Alerter,
    Clock,
    DocumentStore,
    Severity,
    UnitOfWork,
    Users,
    agreement_key,
    statement_key,
)
from loc_core.ports.documents import DocumentRenderer
from loc_core.services.kit import post_alert
from loc_core.services.scheduled import ScheduledJob

__all__ = [
    "DOCUMENTS_LOOK_BACK_DAYS",
    "DocumentFiler",
    "DocumentsReport",
    "RenderMissingDocuments",
    "file_agreement",
    "file_statement",
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
    renderer: DocumentRenderer | None = None


def file_agreement(
    application: LoanApplication,
    *,
    filer: DocumentFiler,
    uow: UnitOfWork,
    clock: Clock,
    product: InstallmentProduct,
) -> bool:
    """Render and store an approved offer's agreement and save its key; False if not done.

    Never raises for a rendering or storage failure: it is alerted and left to the job.
    """
    renderer = filer.renderer
    if renderer is None or application.agreement_key is not None or application.loan_number is None:
        return False
    user_id, application_id = application.user_id, application.application_id
    key = agreement_key(user_id, application_id)
    try:
        name = filer.users.get(user_id).borrower_name
        body = renderer.agreement(loan_disclosure(application, product), borrower_name=name)
        filer.documents.put(key, body, content_type=PDF)
        with uow:
            stored = uow.loan_applications.get(user_id, application_id)
            if stored.agreement_key is None:
                stored.file_agreement(key, now=clock.now())
                uow.loan_applications.save(stored)
                uow.commit(actor="documents", request_id=f"agreement:{application_id}")
    except Exception as exc:  # noqa: BLE001 - a document never blocks money: alert, retry later
        _failed(filer, "agreement", key, user_id, exc)
        return False
    return True


def file_statement(
    event: DomainEvent, *, filer: DocumentFiler, uow: UnitOfWork, product: CreditLineProduct
) -> None:
    """Render and store the PDF of the statement a ``loc_statement_ready`` event announces.

    Any other event is ignored. Never raises: a failure is alerted and left to the job.
    """
    if filer.renderer is None or event.type is not EventType.LOC_STATEMENT_READY:
        return
    statement_date = dt.date.fromisoformat(str(event.data["statement_date"]))
    with uow:
        credit_limit = uow.lines.get(event.user_id, event.subject_id).credit_limit
        statement = uow.statements.get(event.user_id, event.subject_id, statement_date)
    _render_statement(filer, statement, credit_limit=credit_limit, product=product)


def _render_statement(
    filer: DocumentFiler, statement: Statement, *, credit_limit: int, product: CreditLineProduct
) -> bool:
    """Render and store one statement's PDF; False (alerted) when that failed."""
    user_id = statement.user_id
    key = statement_key(user_id, statement.line_id, statement.statement_date)
    renderer = filer.renderer
    if renderer is None:
        return False
    try:
        name = filer.users.get(user_id).borrower_name
        disclosure = statement_disclosure(statement, credit_limit=credit_limit, product=product)
        filer.documents.put(
            key, renderer.statement(disclosure, borrower_name=name), content_type=PDF
        )
    except Exception as exc:  # noqa: BLE001 - a document never blocks money: alert, retry later
        _failed(filer, "statement", key, user_id, exc)
        return False
    return True


def _failed(filer: DocumentFiler, kind: str, key: str, user_id: str, exc: Exception) -> None:
    post_alert(
        filer.alerter,
        f"{kind} document not rendered; the documents job retries it",
        {"user_id": user_id, "key": key},
        severity=Severity.WARNING,
        error=exc,
    )


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
        elif file_agreement(application, filer=filer, uow=uow, clock=clock, product=installment):
            rendered.append(key)
        else:
            failed.append(key)
    since = today - dt.timedelta(days=DOCUMENTS_LOOK_BACK_DAYS)
    for statement, credit_limit in _recent_statements(uow, since):
        key = statement_key(statement.user_id, statement.line_id, statement.statement_date)
        if filer.documents.link(key, expires=DOCUMENT_LINK_LIFETIME) is not None:
            present += 1
        elif _render_statement(filer, statement, credit_limit=credit_limit, product=creditline):
            rendered.append(key)
        else:
            failed.append(key)
    return DocumentsReport(tuple(rendered), tuple(failed), present)


def _loan_applications(uow: UnitOfWork) -> list[LoanApplication]:
    """The applications every loan came from, page by page through the loan listing."""
    found: list[LoanApplication] = []
    cursor: str | None = None
    while True:
        with uow:
            page = uow.loans.page(cursor, _PAGE)
            for ref in page.refs:
                loan = uow.loans.get(ref.user_id, ref.loan_id)
                try:
                    found.append(uow.loan_applications.get(ref.user_id, loan.application_id))
                except NotFound:
                    continue  # a loan migrated without its application has no agreement here
        cursor = page.cursor
        if cursor is None:
            return found


def _recent_statements(uow: UnitOfWork, since: dt.date) -> list[tuple[Statement, int]]:
    """Statements dated `since` or later, with their line's credit limit."""
    found: list[tuple[Statement, int]] = []
    cursor: str | None = None
    while True:
        with uow:
            page = uow.lines.page(cursor, _PAGE)
            for ref in page.refs:
                line = uow.lines.get(ref.user_id, ref.line_id)
                found.extend(
                    (statement, line.credit_limit)
                    for statement in uow.statements.for_line(ref.user_id, ref.line_id)
                    if statement.statement_date >= since
                )
        cursor = page.cursor
        if cursor is None:
            return found
