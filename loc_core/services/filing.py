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
backstop: it renders what is still missing. A rejected application's adverse action
notice is rendered when its ``application_declined`` event is published
(`file_adverse_action_notice`, before the borrower is told), and an installment
counteroffer's combined counteroffer and adverse action notice when its
``application_countered`` event is, from the application as stored (its reasons, the
consumer report its decision used, its date, the amount requested, the terms offered),
never from the event's copy: the event names the application and gives what an
application written before it kept them lacks (the amount requested; an abandoned
counteroffer's lapsed expiry), so its retry message carries the event, and the documents
job does not sweep notices. Rendering is deterministic and keyed, so
rendering twice stores the same bytes under the same key. With no renderer
(`DocumentFiler.renderer` None) nothing is rendered.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
from collections.abc import Callable

import attrs

from loc_core.applications import (
    NOTICE_EVENTS,
    NOTICE_REASONS,
    AdverseActionNotice,
    ApplicationStatus,
)
from loc_core.bookkeeping import Product
from loc_core.creditline import CreditLine, CreditLineApplication, CreditLineProduct
from loc_core.creditline.statement import Statement, statement_document_path
from loc_core.disclosures import (
    line_disclosure,
    loan_disclosure,
    statement_disclosure,
)
from loc_core.errors import DomainError, ExternalServiceError, InvalidRequest, NotFound
from loc_core.events import DomainEvent, EventType, event_fields, event_from_fields
from loc_core.installment import InstallmentProduct, LoanApplication
from loc_core.ports import (
    DOCUMENT_LINK_LIFETIME,
    PDF,
    Alerter,
    Clock,
    DocumentStore,
    LoanRef,
    QueueMessage,
    Severity,
    UnitOfWork,
    Users,
    WorkQueue,
    agreement_key,
    statement_key,
)
from loc_core.ports.documents import DocumentRenderer, adverse_action_notice_key
from loc_core.services.kit import post_alert
from loc_core.services.messagebus import Command
from loc_core.services.scheduled import PageableJob
from loc_core.validation import Day, Id, validated

__all__ = [
    "DOCUMENTS_LOOK_BACK_DAYS",
    "RENDER_DOCUMENT",
    "DocumentFiler",
    "DocumentKind",
    "DocumentsReport",
    "RenderDocument",
    "RenderMissingDocuments",
    "file_adverse_action_notice",
    "file_agreement",
    "file_line_agreement",
    "file_statement",
    "line_agreement_key",
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


_NOTICE_EVENTS = frozenset(NOTICE_EVENTS.values())
"""The events that announce an adverse action notice: a rejection's, a counteroffer's."""

RENDER_DOCUMENT = "render_document"
"""The `QueueMessage.kind` of a document kept for a retry."""


class DocumentKind(enum.Enum):
    """Which borrower document a `RenderDocument` renders."""

    AGREEMENT = "agreement"
    STATEMENT = "statement"
    LINE_AGREEMENT = "line_agreement"
    """A line offer's account-opening disclosure (12 CFR 1026.6(b)); its subject is the
    line application."""
    ADVERSE_ACTION_NOTICE = "adverse_action_notice"
    """A rejected application's adverse action notice (12 CFR 1002.9), or a loan
    counteroffer's combined notice; its subject is the application (loan's or line's), and
    its retry carries the ``application_declined`` (``application_countered``) event,
    which names the application the notice is rendered from."""


@attrs.frozen(field_transformer=validated)
class RenderDocument(Command[bool]):
    """Render a document a failure after its commit left missing (a ``render_document`` body).

    The queue delivers it until it succeeds; a document stored already is left alone.
    """

    document: DocumentKind
    user_id: Id
    subject_id: Id
    """The application (a loan's or a line's agreement) or the line (a statement)."""
    statement_date: Day | None = None
    """A statement's date; None for an agreement."""
    event: DomainEvent | None = None
    """An adverse action notice's ``application_declined`` or ``application_countered``
    event; None for the others."""

    def __attrs_post_init__(self) -> None:
        """A statement names its date and nothing else does; a notice carries its event.

        Raises:
            InvalidRequest: the date or the event does not fit the document.
        """
        if (self.statement_date is None) is (self.document is DocumentKind.STATEMENT):
            raise InvalidRequest(
                f"a {self.document.value} with statement_date {self.statement_date}",
                key="statement_date",
            )
        notice = self.document is DocumentKind.ADVERSE_ACTION_NOTICE
        event = self.event
        if (event is not None) is not notice or (
            event is not None
            and (
                event.type not in _NOTICE_EVENTS
                or (event.user_id, event.subject_id) != (self.user_id, self.subject_id)
            )
        ):
            raise InvalidRequest(
                f"a {self.document.value} carries the application_declined or "
                "application_countered event of its application, and no other document an "
                "event",
                key="event",
            )

    @property
    def key(self) -> str:
        """Where the document is stored (`agreement_key`, `statement_key` or a notice's).

        A line's account-opening disclosure is `agreement_key` of its application too
        (`line_agreement_key`): application ids never repeat, loan's or line's.
        """
        if self.document is DocumentKind.ADVERSE_ACTION_NOTICE:
            return adverse_action_notice_key(self.user_id, self.subject_id)
        if self.statement_date is None:
            return agreement_key(self.user_id, self.subject_id)
        return statement_key(self.user_id, self.subject_id, self.statement_date)

    def message(self) -> QueueMessage:
        """The queue message that keeps this document for a retry (deduplicated by key)."""
        day = self.statement_date
        body: dict[str, str | None] = {
            "document": self.document.value,
            "user_id": self.user_id,
            "subject_id": self.subject_id,
            "statement_date": None if day is None else day.isoformat(),
        }
        if self.event is not None:
            body["event"] = json.dumps(event_fields(self.event), sort_keys=True)
        return QueueMessage(kind=RENDER_DOCUMENT, body=body, deduplication_id=self.key)

    @classmethod
    def from_message(cls, message: QueueMessage) -> RenderDocument:
        """Read a queue message.

        Raises:
            DomainError: for a message of another kind or with a malformed body.
        """
        if message.kind != RENDER_DOCUMENT:
            raise DomainError(f"not a {RENDER_DOCUMENT} message: {message.kind!r}")
        body = message.body
        day, event = body.get("statement_date"), body.get("event")
        try:
            return cls(
                document=DocumentKind(body.get("document")),
                user_id=str(body.get("user_id", "")),
                subject_id=str(body.get("subject_id", "")),
                statement_date=None if day is None else dt.date.fromisoformat(str(day)),
                event=None if event is None else event_from_fields(json.loads(str(event))),
            )
        except (ValueError, AttributeError) as exc:
            raise DomainError(f"malformed {RENDER_DOCUMENT} message: {exc}") from exc


def offer_agreement_key(application: LoanApplication) -> str:
    """Where the agreement of the offer's current terms is stored.

    `agreement_key` of the application; for an offer disclosed again, the key of that
    edition, so each agreement a borrower was given stays stored under its own key.
    """
    return agreement_key(
        application.user_id,
        application.application_id,
        disclosed_again_on=application.redisclosed_on,
    )


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

    def store() -> bool:
        _store_agreement(application, filer=filer, uow=uow, clock=clock, product=product)
        return True

    retry = RenderDocument(DocumentKind.AGREEMENT, application.user_id, application.application_id)
    return _file_or_retry(filer, retry, store)


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
    key = offer_agreement_key(application)
    name = filer.users.get(user_id).borrower_name
    body = renderer.agreement(loan_disclosure(application, product), borrower_name=name)
    filer.documents.put(key, body, content_type=PDF)
    with uow:
        stored = uow.loan_applications.get(user_id, application_id)
        # Disclosed again since it was read: what was rendered is the earlier edition,
        # kept under its own key; the new edition is filed by its own render.
        if stored.agreement_key is None and stored.redisclosed_on == application.redisclosed_on:
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


def file_adverse_action_notice(
    event: DomainEvent, *, filer: DocumentFiler, uow: UnitOfWork
) -> None:
    """Render and store the notice an ``application_declined`` event announces.

    An ``application_countered`` event's too: the combined counteroffer and adverse action
    notice. The notice is the stored application's (`_stored_notice`). Any other event is
    ignored,
    and so is a notice stored already: a repeated publish (the recovery job's, after a
    process died between its commit and its publish) files it once. Never raises: a
    failure is alerted and queued for a retry with the event.
    """
    renderer = filer.renderer
    if renderer is None or event.type not in _NOTICE_EVENTS:
        return
    retry = RenderDocument(
        DocumentKind.ADVERSE_ACTION_NOTICE, event.user_id, event.subject_id, event=event
    )

    def store() -> bool:
        return _store_notice_if_missing(_stored_notice(event, uow), renderer, filer=filer)

    _file_or_retry(filer, retry, store)


def _store_notice_if_missing(
    notice: AdverseActionNotice, renderer: DocumentRenderer, *, filer: DocumentFiler
) -> bool:
    """Render `notice` and store it, unless stored already; True when this call did."""
    key = adverse_action_notice_key(notice.user_id, notice.application_id)
    if filer.documents.link(key, expires=DOCUMENT_LINK_LIFETIME) is not None:
        return False
    name = filer.users.get(notice.user_id).borrower_name
    body = renderer.adverse_action_notice(notice, borrower_name=name)
    filer.documents.put(key, body, content_type=PDF)
    return True


def line_agreement_key(application: CreditLineApplication) -> str:
    """Where a line offer's account-opening disclosure is stored.

    ``agreements/<user>/<application>.pdf`` (`agreement_key`): the offer's terms never
    change once approved, so there is one edition, rendered again to the same bytes.
    """
    return agreement_key(application.user_id, application.application_id)


def file_line_agreement(
    application: CreditLineApplication, *, filer: DocumentFiler, product: CreditLineProduct
) -> bool:
    """Render and store an approved line offer's account-opening disclosure; False if not done.

    Nothing for a rejected application, without a renderer, or when it is stored already
    (a repeated application request renders only what is missing).
    Never raises for a rendering or storage failure: it is alerted and queued for a retry
    (`RenderDocument` of `DocumentKind.LINE_AGREEMENT`).
    """
    renderer = filer.renderer
    if renderer is None or application.status is not ApplicationStatus.APPROVED:
        return False
    retry = RenderDocument(
        DocumentKind.LINE_AGREEMENT, application.user_id, application.application_id
    )
    store = functools.partial(
        _store_line_agreement_if_missing, application, renderer, filer=filer, product=product
    )
    return _file_or_retry(filer, retry, store)


def _file_or_retry(filer: DocumentFiler, retry: RenderDocument, store: Callable[[], bool]) -> bool:
    """`store()` (True: it stored the document); a failure is alerted and queued as `retry`."""
    try:
        return store()
    except Exception as exc:  # noqa: BLE001 - a document never blocks money or credit: alert, retry later
        _keep_for_retry(filer, retry, exc)
        return False


def _store_line_agreement(
    application: CreditLineApplication,
    renderer: DocumentRenderer,
    *,
    filer: DocumentFiler,
    product: CreditLineProduct,
) -> None:
    """Render the offer's disclosure and store it under `line_agreement_key`."""
    name = filer.users.get(application.user_id).borrower_name
    body = renderer.line_agreement(line_disclosure(application, product), borrower_name=name)
    filer.documents.put(line_agreement_key(application), body, content_type=PDF)


def _store_line_agreement_if_missing(
    application: CreditLineApplication,
    renderer: DocumentRenderer,
    *,
    filer: DocumentFiler,
    product: CreditLineProduct,
) -> bool:
    """`_store_line_agreement` unless it is stored already; True when this call stored it."""
    key = line_agreement_key(application)
    if filer.documents.link(key, expires=DOCUMENT_LINK_LIFETIME) is not None:
        return False
    _store_line_agreement(application, renderer, filer=filer, product=product)
    return True


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
    renderer = filer.renderer
    if renderer is None:
        return False
    if command.document is DocumentKind.LINE_AGREEMENT:
        return _render_line_agreement(command, filer=filer, uow=uow, product=creditline)
    if command.event is not None:  # an adverse action notice: its application is its source
        notice = _stored_notice(command.event, uow)
        return _store_notice_if_missing(notice, renderer, filer=filer)
    if command.statement_date is None:
        with uow:
            application = uow.loan_applications.get(command.user_id, command.subject_id)
        missing = application.agreement_key is None
        if missing:
            _store_agreement(application, filer=filer, uow=uow, clock=clock, product=installment)
        return missing
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


def _stored_notice(event: DomainEvent, uow: UnitOfWork) -> AdverseActionNotice:
    """The notice of the application `event` names, from the application as stored.

    The application is read and must be REJECTED (an ``application_declined`` event) or an
    installment counteroffer (an ``application_countered`` one); the notice states its
    reasons, the consumer report its decision used, its date, the amount requested and the
    terms offered, never the event's copies, which must agree with it: an event (a queue
    message's) with other reasons, another date, another report, another amount or other
    terms is refused before anything is filed, so a forged, mangled or stale message never
    files a notice the decision did not make. What an application written before it kept
    them lacks comes from the event: the report (an event without one takes the stored
    one), the amount requested, and a counteroffer's expiry once abandoning cleared it.

    Raises:
        NotFound: no such application.
        InvalidRequest: the application is neither REJECTED nor a counteroffer, or the
            event disagrees with it.
    """
    announced = AdverseActionNotice.from_event(event)
    with uow:
        if announced.product is Product.INSTALLMENT:
            stored: LoanApplication | CreditLineApplication = uow.loan_applications.get(
                event.user_id, event.subject_id
            )
        else:
            stored = uow.line_applications.get(event.user_id, event.subject_id)
    requested, terms = announced.requested_amount, None
    if isinstance(stored, LoanApplication):
        requested = stored.requested_amount or requested
        terms = stored.counteroffer
        if terms is not None and terms.accept_by is None and announced.counteroffer is not None:
            terms = attrs.evolve(terms, accept_by=announced.counteroffer.accept_by)
    actions = tuple(stored.adverse_actions)
    notice = attrs.evolve(
        announced,
        decided_on=stored.created_at.date(),
        requested_amount=requested,
        reasons=actions[:NOTICE_REASONS],
        reasons_given=len(actions),
        consumer_report=stored.consumer_report,
        counteroffer=terms,
    )
    if announced.consumer_report is None:  # queued before applications kept their report
        announced = attrs.evolve(announced, consumer_report=notice.consumer_report)
    if (stored.status is not ApplicationStatus.REJECTED and terms is None) or announced != notice:
        raise InvalidRequest(
            f"the adverse action notice announced for application {event.subject_id} does not "
            "match the application as stored: nothing filed",
            key="event",
        )
    return notice


def _render_line_agreement(
    command: RenderDocument, *, filer: DocumentFiler, uow: UnitOfWork, product: CreditLineProduct
) -> bool:
    """Render a queued line disclosure if it is still missing; True when this call stored it.

    Raises:
        NotFound: no such line application.
        Exception: the renderer's or the store's failure, so the queue delivers it again.
    """
    renderer = filer.renderer
    if renderer is None:
        return False
    with uow:
        application = uow.line_applications.get(command.user_id, command.subject_id)
    return _store_line_agreement_if_missing(application, renderer, filer=filer, product=product)


@attrs.frozen
class DocumentsReport:
    """What one run (or one page) of the documents job did."""

    rendered: tuple[str, ...]
    """The keys stored by this run."""
    failed: tuple[str, ...]
    """The keys still missing (each alerted); the next run tries again."""
    present: int
    """Documents found already stored."""
    cursor: str | None = None
    """Where the next page starts (``loans:…`` or ``lines:…``); None when every loan and
    line has been looked at."""


@attrs.frozen
class RenderMissingDocuments(PageableJob[DocumentsReport]):
    """Run the documents job (``loc_documents``): render what a failure left missing.

    Agreements of approved applications that became loans and have no stored key, and
    statements of the last `DOCUMENTS_LOOK_BACK_DAYS` whose PDF is not stored.

    Paged by the loan listing, then the line listing: a page looks at up to `page_size`
    loans (their agreements) or lines (their recent statements), and its report's cursor
    names the listing and the place in it where the next page starts (``loans:<place>``,
    ``lines:<place>``). Without a page size, one run looks at every loan and line.
    """


_PAGE = 100
"""Loans or lines read per unit of work when the command sets no page size."""
_LOANS = "loans:"
_LINES = "lines:"


def render_missing_documents(
    command: RenderMissingDocuments,
    *,
    filer: DocumentFiler,
    uow: UnitOfWork,
    clock: Clock,
    installment: InstallmentProduct,
    creditline: CreditLineProduct,
) -> DocumentsReport:
    """Render the missing agreements and recent statement PDFs of one page (or of all).

    Running it again changes nothing: what is stored is found present.

    Raises:
        InvalidRequest: a cursor this job did not give.
    """
    today = command.business_date(clock)
    listing, place = _place(command.cursor)
    if filer.renderer is None:
        return DocumentsReport((), (), 0)
    since = today - dt.timedelta(days=DOCUMENTS_LOOK_BACK_DAYS)
    rendered: list[str] = []
    failed: list[str] = []
    present = 0
    size = command.page_size or _PAGE
    after: tuple[str, str | None] | None
    while True:
        if listing == _LOANS:
            with uow:
                page = uow.loans.page(place, size)
                applications = [found for ref in page.refs for found in _application(uow, ref)]
            work = [_agreement_step(a, filer, uow, clock, installment) for a in applications]
            after = (_LOANS, page.cursor) if page.cursor is not None else (_LINES, None)
        else:
            with uow:
                lines = uow.lines.page(place, size)
                opened = [uow.lines.get(ref.user_id, ref.line_id) for ref in lines.refs]
                statements = [found for line in opened for found in _statements(uow, line, since)]
                offers = [found for line in opened for found in _line_offer(uow, line, since)]
            work = [_line_agreement_step(a, filer, creditline) for a in offers]
            work += [_statement_step(s, line, filer, creditline) for s, line in statements]
            after = (_LINES, lines.cursor) if lines.cursor is not None else None
        for key, user_id, store in work:
            if store is None:
                present += 1
            else:
                (rendered if _sweep(filer, key, user_id, store) else failed).append(key)
        if after is None:
            return DocumentsReport(tuple(rendered), tuple(failed), present)
        listing, place = after
        if command.page_size is not None:
            cursor = listing + (place or "")
            return DocumentsReport(tuple(rendered), tuple(failed), present, cursor)


def _place(cursor: str | None) -> tuple[str, str | None]:
    """The listing and the place in it a cursor names (the loans' start when None).

    Raises:
        InvalidRequest: a cursor this job did not give.
    """
    if cursor is None:
        return _LOANS, None
    for listing in (_LOANS, _LINES):
        if cursor.startswith(listing):
            return listing, cursor[len(listing) :] or None
    raise InvalidRequest(
        f"cursor {cursor!r} is not one the documents job gives "
        f"(it starts with {_LOANS!r} or {_LINES!r})",
        key="cursor",
    )


_Step = tuple[str, str, Callable[[], None] | None]
"""A document's key, its borrower, and how to store it (None: already stored)."""


def _agreement_step(
    application: LoanApplication,
    filer: DocumentFiler,
    uow: UnitOfWork,
    clock: Clock,
    product: InstallmentProduct,
) -> _Step:
    key = offer_agreement_key(application)
    if application.agreement_key is not None:
        return key, application.user_id, None
    store = functools.partial(
        _store_agreement, application, filer=filer, uow=uow, clock=clock, product=product
    )
    return key, application.user_id, store


def _statement_step(
    statement: Statement, line: CreditLine, filer: DocumentFiler, product: CreditLineProduct
) -> _Step:
    key = statement_key(statement.user_id, statement.line_id, statement.statement_date)
    if filer.documents.link(key, expires=DOCUMENT_LINK_LIFETIME) is not None:
        return key, statement.user_id, None
    return (
        key,
        statement.user_id,
        functools.partial(_render_statement, filer, statement, line, product=product),
    )


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


def _application(uow: UnitOfWork, ref: LoanRef) -> list[LoanApplication]:
    """The application a loan came from (none for a loan migrated without it)."""
    loan = uow.loans.get(ref.user_id, ref.loan_id)
    try:
        return [uow.loan_applications.get(ref.user_id, loan.application_id)]
    except NotFound:
        return []  # a loan migrated without its application has no agreement here


def _statements(
    uow: UnitOfWork, line: CreditLine, since: dt.date
) -> list[tuple[Statement, CreditLine]]:
    """A line's statements dated `since` or later, with the line."""
    return [
        (statement, line)
        for statement in uow.statements.for_line(line.user_id, line.line_id)
        if statement.statement_date >= since
    ]


def _line_offer(uow: UnitOfWork, line: CreditLine, since: dt.date) -> list[CreditLineApplication]:
    """The offer a line opened `since` or later came from (none if migrated without it)."""
    if line.opened_on < since:
        return []
    try:
        return [uow.line_applications.get(line.user_id, line.application_id)]
    except NotFound:
        return []


def _line_agreement_step(
    application: CreditLineApplication, filer: DocumentFiler, product: CreditLineProduct
) -> _Step:
    key = line_agreement_key(application)
    renderer = filer.renderer
    if renderer is None or filer.documents.link(key, expires=DOCUMENT_LINK_LIFETIME) is not None:
        return key, application.user_id, None
    store = functools.partial(
        _store_line_agreement, application, renderer, filer=filer, product=product
    )
    return key, application.user_id, store
