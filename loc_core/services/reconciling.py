"""The reconciliation job (06:00 UTC): every loan and line reconciled, one queue message each.

The job pages through every loan, then every line (`LoanRepository.page`,
`CreditLineRepository.page`) and fans out a ``reconcile_loan`` or ``reconcile_line``
message per entity, 10 to a `WorkQueue.send`; workers reconcile them
(`ReconcileLoan`, `ReconcileLine`). Each run of `EnqueueReconciliations` does one page
and answers the cursor of the next, so whoever drives it (the Lambda while it has time,
``loc reconcile --all``) resumes exactly where the page ended: no entity is skipped or
listed twice. With `EnqueueReconciliations.hand_on`, the page also sends a
``reconcile_page`` message holding the next cursor, so a worker carries on with it when the
driver runs out of time. Messages are deduplicated per entity and business date.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import attrs

from loc_core.errors import InvalidRequest
from loc_core.ports import (
    Clock,
    LineRef,
    LoanRef,
    Metrics,
    QueueMessage,
    UnitOfWork,
    WorkQueue,
)
from loc_core.services.kit import read_message
from loc_core.services.lines.reconciliation import ReconcileLine
from loc_core.services.loans.collections_job import SEND_BATCH
from loc_core.services.loans.reconciliation import ReconcileLoan
from loc_core.services.messagebus import Command
from loc_core.services.scheduled import ScheduledJob
from loc_core.validation import Id, instance_of, valid_count, valid_flag, validated

__all__ = [
    "RECONCILE_PAGE",
    "RECONCILIATION_PAGE_SIZE",
    "BookPage",
    "EnqueueReconciliations",
    "ListBook",
    "ReconciliationPage",
    "enqueue_reconciliations",
    "list_book",
]

RECONCILE_PAGE = "reconcile_page"
"""The `QueueMessage.kind` handing the rest of a reconciliation run to a worker."""
RECONCILIATION_PAGE_SIZE = 100
"""Entities listed per page (policy): 10 `SendMessageBatch` calls, a few seconds."""
_LOANS, _LINES = "loans", "lines"


@attrs.frozen
class BookPage:
    """One page of the book: loans and lines, and where the next page starts."""

    loans: tuple[LoanRef, ...] = ()
    lines: tuple[LineRef, ...] = ()
    cursor: str | None = None
    """Pass it to the next `ListBook`; None when every entity was listed."""


@attrs.frozen(field_transformer=validated)
class ListBook(Command[BookPage]):
    """One page of every loan, then every line; or, with `user_id`, one borrower's all."""

    cursor: str | None = attrs.field(default=None, validator=instance_of(str, optional=True))
    """Where the page starts (a `BookPage.cursor`); None: the first loans."""
    page_size: int = attrs.field(
        default=RECONCILIATION_PAGE_SIZE, validator=valid_count(minimum=1, maximum=1_000)
    )
    user_id: Id | None = None
    """Only this borrower's loans and lines, in one page (`cursor` is ignored)."""


def list_book(query: ListBook, *, uow: UnitOfWork) -> BookPage:
    """One page of the book (see `ListBook`).

    Raises:
        InvalidRequest: a cursor no listing gave.
    """
    with uow:
        if query.user_id is not None:
            user = query.user_id
            return BookPage(
                tuple(LoanRef(user, loan.loan_id) for loan in uow.loans.for_user(user)),
                tuple(LineRef(user, line.line_id) for line in uow.lines.for_user(user)),
            )
        listing, inner = _split(query.cursor)
        if listing == _LOANS:
            loans = uow.loans.page(inner, query.page_size)
            following = f"{_LOANS}:{loans.cursor}" if loans.cursor else f"{_LINES}:"
            return BookPage(loans=loans.refs, cursor=following)
        lines = uow.lines.page(inner, query.page_size)
        return BookPage(
            lines=lines.refs, cursor=f"{_LINES}:{lines.cursor}" if lines.cursor else None
        )


@attrs.frozen
class ReconciliationPage:
    """What one page of the reconciliation job sent, and where the next page starts."""

    enqueued: int
    cursor: str | None
    """Pass it to the next `EnqueueReconciliations`; None when every entity was listed."""


@attrs.frozen
class EnqueueReconciliations(ScheduledJob[ReconciliationPage]):
    """Send one page of ``reconcile_loan`` / ``reconcile_line`` messages (the 06:00 job)."""

    cursor: str | None = attrs.field(default=None, validator=instance_of(str, optional=True))
    """Where the page starts (a `ReconciliationPage.cursor`); None: the first loans."""
    page_size: int = attrs.field(
        default=RECONCILIATION_PAGE_SIZE, validator=valid_count(minimum=1, maximum=1_000)
    )
    hand_on: bool = attrs.field(default=False, validator=valid_flag)
    """Also queue a ``reconcile_page`` message with the next cursor (a worker goes on)."""

    @classmethod
    def from_message(cls, message: QueueMessage) -> EnqueueReconciliations:
        """Read a ``reconcile_page`` message: the next page, handed on again.

        Raises:
            DomainError: a message of another kind, or with a field missing or malformed.
        """
        page = read_message(_PageMessage, message, RECONCILE_PAGE)
        return cls(
            cursor=page.cursor,
            page_size=page.page_size,
            hand_on=True,
            as_of=dt.date.fromisoformat(page.as_of),
        )

    def message(self, day: dt.date) -> QueueMessage:
        """The ``reconcile_page`` message that runs this page for `day` on a worker."""
        cursor = self.cursor or ""
        digest = hashlib.sha256(f"{day.isoformat()}|{cursor}".encode()).hexdigest()[:40]
        return QueueMessage(
            kind=RECONCILE_PAGE,
            body={"cursor": cursor, "page_size": self.page_size, "as_of": day.isoformat()},
            deduplication_id=f"{RECONCILE_PAGE}:{digest}",
        )


@attrs.frozen
class _PageMessage:
    """The body of a ``reconcile_page`` message, as read."""

    cursor: str = attrs.field(validator=instance_of(str))
    page_size: int = attrs.field(validator=valid_count(minimum=1, maximum=1_000))
    as_of: str = attrs.field(validator=instance_of(str))


def _split(cursor: str | None) -> tuple[str, str | None]:
    """(which listing, its own cursor) of a job cursor ``loans:<c>`` / ``lines:<c>``."""
    if not cursor:
        return _LOANS, None
    listing, _, inner = cursor.partition(":")
    if listing not in {_LOANS, _LINES}:
        raise InvalidRequest(f"not a reconciliation cursor: {cursor!r}", key="cursor")
    return listing, inner or None


def enqueue_reconciliations(
    command: EnqueueReconciliations,
    *,
    uow: UnitOfWork,
    queue: WorkQueue,
    clock: Clock,
    metrics: Metrics,
) -> ReconciliationPage:
    """List one page from `command.cursor` and queue a reconcile message per entity.

    Raises:
        InvalidRequest: a cursor this job did not give, or `as_of` after today.
        ExternalServiceError: the queue refused a batch; a rerun of the same page sends
            the same messages (same deduplication ids), so nothing is lost.
    """
    day = command.business_date(clock)
    page = list_book(ListBook(command.cursor, command.page_size), uow=uow)
    messages = [
        *(ReconcileLoan(ref.user_id, ref.loan_id).message(day) for ref in page.loans),
        *(ReconcileLine(ref.user_id, ref.line_id).message(day) for ref in page.lines),
    ]
    for start in range(0, len(messages), SEND_BATCH):
        queue.send(messages[start : start + SEND_BATCH])
    if command.hand_on and page.cursor is not None:
        queue.send([attrs.evolve(command, cursor=page.cursor).message(day)])
    metrics.increment("loc.reconciliation.enqueued", len(messages))
    return ReconciliationPage(len(messages), page.cursor)
