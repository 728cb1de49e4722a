"""Persistence ports: repositories, the unit of work, the journal and the audit log.

Repositories hand out aggregates and take them back; a unit of work commits what was
added and saved, with the journal entries and audit changes in each aggregate's outbox,
atomically. Versions belong to the unit of work: a command never changes `version`; a
save is conditional on the stored version still being the entity's, and a commit bumps
it. Queries over indexes return references (eventually consistent in DynamoDB): load
the aggregate with `get` (a consistent read) before acting on it.

Reads belong to their owner: every read of a borrower's records takes the user id and
finds only that user's. Another user's id, or an id nothing can be stored under (one
holding the key separator ``#``), finds nothing: `NotFound`, an empty list or None, never
`InvariantViolation`, which says that a record stored for that owner contradicts itself.
The journal and the audit log are keyed by loan, line or entity id: a query reads them
only for an aggregate it has just read by its owner (the audit log's pages by user and by
process are for operations, never a borrower).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Generic, Protocol, Self, TypeVar

import attrs

from loc_core.bookkeeping import Product
from loc_core.creditline import CreditLine, CreditLineApplication, Statement
from loc_core.creditline.cycles import open_cycle_close, reminder_pending
from loc_core.events import AuditRecord, DomainEvent, event_from_fields
from loc_core.installment import (
    InstallmentStatus,
    Loan,
    LoanApplication,
    LoanStatus,
)
from loc_core.intents import TransferIntent
from loc_core.ledger import JournalEntry
from loc_core.ports.infrastructure import Lease

__all__ = [
    "AUDIT_PAGE_LIMIT",
    "ITEM_SIZE_LIMIT",
    "TRANSACTION_LIMIT",
    "Application",
    "AuditLog",
    "AuditRecordPage",
    "CreditLineApplicationRepository",
    "CreditLineRepository",
    "EventOutbox",
    "InstallmentRef",
    "IntentRef",
    "IntentRepository",
    "JournalRepository",
    "KeptEvent",
    "KeptEvents",
    "LineRef",
    "LoanApplicationRepository",
    "LoanRef",
    "LoanRepository",
    "PaymentOwner",
    "RefPage",
    "StatementRepository",
    "StoredItem",
    "UnitOfWork",
    "UnreadableEvent",
    "items_written",
    "read_kept_event",
]

TRANSACTION_LIMIT = 100
"""Most items one commit may write: DynamoDB's `TransactWriteItems` takes 100 actions."""
ITEM_SIZE_LIMIT = 400 * 1024
"""Most bytes one stored item may hold, names and values: DynamoDB's 400 KB."""


def items_written(aggregate: object, *, new: bool) -> int:
    """The items a commit surely writes for one added (`new`) or saved aggregate.

    The counting rule every unit of work and the start-up checks share: one item for
    the aggregate's root, one per journal entry, audit change and domain event in its
    outbox (the events are kept until published, `EventOutbox`), and,
    when it is added, one per child record (a loan's installments and payments, a
    line's draws, payments, disputes and late fee waivers). A saved aggregate also
    rewrites the children that changed, which only a store that compares with what it
    read can count.
    """
    outbox = getattr(aggregate, "outbox", None)
    records = (
        len(outbox.entries) + len(outbox.changes) + len(outbox.events) if outbox is not None else 0
    )
    children = 0
    if new and isinstance(aggregate, Loan):
        children = len(aggregate.installments) + len(aggregate.payments)
    elif new and isinstance(aggregate, CreditLine):
        children = len(aggregate.draws) + len(aggregate.payments)
        children += len(aggregate.disputes) + len(aggregate.late_fee_waivers)
    return 1 + children + records


@attrs.frozen
class InstallmentRef:
    """An installment found through the status/due-date index."""

    user_id: str
    loan_id: str
    installment_id: str
    due_date: dt.date


@attrs.frozen
class LineRef:
    """A credit line found through an index, with what the index entry says of its cycle.

    A ref names a line by `user_id` and `line_id` alone: two refs to the same line are
    equal whatever their hints. The hints let a job pass over a line with nothing to do
    without reading it; a hint at its default (`next_close` None, `reminder_pending`
    True) means the index did not say, and the job reads the line. An index is
    eventually consistent, so a hint may be a little behind the line: each job that uses
    one looks again on a later day (billing's catch-up window, upcoming's notice window),
    and acts only on a consistent read.
    """

    user_id: str
    line_id: str
    next_close: dt.date | None = attrs.field(default=None, eq=False, kw_only=True)
    """When the line's open cycle closes (`CreditLine.next_close_date`): billing has
    nothing to do for the line before that day."""
    reminder_pending: bool = attrs.field(default=True, eq=False, kw_only=True)
    """False when the upcoming job has nothing to do for the line: the notice of its
    latest cycle is out, or its minimum payment is met (`CreditLine.reminder_pending`)."""

    @classmethod
    def of(cls, line: CreditLine) -> LineRef:
        """The ref an index keeps for `line`, with its hints."""
        return cls(
            line.user_id,
            line.line_id,
            next_close=line.next_close_date,
            reminder_pending=line.reminder_pending,
        )

    @classmethod
    def hinted(
        cls,
        user_id: str,
        line_id: str,
        *,
        opened_on: dt.date,
        cycle_day: int,
        last_billing_cycle_date: dt.date | None,
        upcoming_notice_cycle: dt.date | None,
        next_minimum_payment_due: int,
        paid_since_statement: int,
    ) -> LineRef:
        """The ref of a line from the fields an index entry holds (as `of` gives it)."""
        return cls(
            user_id,
            line_id,
            next_close=open_cycle_close(
                opened_on=opened_on,
                cycle_day=cycle_day,
                last_billing_cycle_date=last_billing_cycle_date,
            ),
            reminder_pending=reminder_pending(
                upcoming_notice_cycle=upcoming_notice_cycle,
                last_billing_cycle_date=last_billing_cycle_date,
                next_minimum_payment_due=next_minimum_payment_due,
                paid_since_statement=paid_since_statement,
            ),
        )


@attrs.frozen
class LoanRef:
    """A loan found by a listing."""

    user_id: str
    loan_id: str


RefT = TypeVar("RefT", LoanRef, LineRef)


@attrs.frozen
class RefPage(Generic[RefT]):
    """One page of a listing of every loan or line, and where the next page starts."""

    refs: tuple[RefT, ...]
    cursor: str | None
    """Opaque: pass it back for the next page; None when this page was the last."""


AUDIT_PAGE_LIMIT = 100
"""Most audit records one page holds."""


@attrs.frozen
class AuditRecordPage:
    """One page of an audit trail, and where the next page starts."""

    records: tuple[AuditRecord, ...]
    cursor: str | None
    """Opaque: pass it back for the next page; None when this page was the last."""


@attrs.frozen
class IntentRef:
    """A transfer intent found through the open-intents index."""

    user_id: str
    intent_id: str
    created_at: dt.datetime


@attrs.frozen
class PaymentOwner:
    """Where a payment was applied: which product, borrower and loan or line."""

    product: Product
    """Which product the payment was applied to: an installment loan or a credit line."""
    user_id: str
    owner_id: str
    """The loan id or line id."""


class Application(Protocol):
    """What a repository needs of either product's application: whose, which and when."""

    @property
    def user_id(self) -> str:
        """The applicant."""
        ...

    @property
    def application_id(self) -> str:
        """The application's id, unique within its product."""
        ...

    @property
    def created_at(self) -> dt.datetime:
        """When it was filed: a borrower's applications are listed oldest first."""
        ...


@attrs.frozen
class StoredItem:
    """An item exactly as the storage held it: opaque to the core, handed back to storage.

    A time-to-live removal leaves an application only in the stream's last image. The
    expiry reader hands that image to the command that writes the application back, so
    the repository writes back every attribute it held, those a newer release wrote and
    this one does not read included (`restore`), not only what this release decoded.
    """

    attributes: Mapping[str, object] = attrs.field(eq=False, repr=False)


class LoanApplicationRepository(Protocol):
    """Loan applications (``LOANAPP#``)."""

    def get(self, user_id: str, application_id: str) -> LoanApplication:
        """The application, read consistently. Raises `NotFound`."""
        ...

    def add(self, application: LoanApplication) -> None:
        """Write a new application at commit; fails the commit if its key exists."""
        ...

    def save(self, application: LoanApplication) -> None:
        """Write a changed application at commit, if its stored version is unchanged.

        An ABANDONED application whose TTL already removed the item is written back.
        """
        ...

    def restore(self, application: LoanApplication, stored: StoredItem | None) -> None:
        """Take `application`, the last image of an item its TTL removed, as read here.

        `stored` is that image as the storage held it (None when not known). A later
        `save` writes the item back from it: every attribute it held, those this release
        does not read (a newer release's) included, with the command's changes.

        Raises:
            InvariantViolation: when `stored` is not the item of `application`.
        """
        ...

    def for_user(self, user_id: str) -> list[LoanApplication]:
        """Every application of a user, oldest first."""
        ...


class LoanRepository(Protocol):
    """Loans (``LOAN#``) with their installments and payments, as one aggregate."""

    def get(self, user_id: str, loan_id: str) -> Loan:
        """The loan, read consistently and verified. Raises `NotFound`."""
        ...

    def add(self, loan: Loan) -> None:
        """Write a new loan at commit; fails the commit if its key exists."""
        ...

    def save(self, loan: Loan) -> None:
        """Write a changed loan at commit, if its stored version is unchanged."""
        ...

    def for_user(self, user_id: str, *, status: LoanStatus | None = None) -> list[Loan]:
        """A user's loans, oldest first, optionally only those in `status`."""
        ...

    def by_application(self, user_id: str, application_id: str) -> Loan | None:
        """The loan made from an application, if any."""
        ...

    def installments(
        self, status: InstallmentStatus, *, due_through: dt.date | None = None
    ) -> list[InstallmentRef]:
        """Installments in `status` due on or before `due_through` (all: None), by due date."""
        ...

    def page(self, cursor: str | None, limit: int) -> RefPage[LoanRef]:
        """One page of every loan, at most `limit`, from `cursor` (None: the first page).

        Paging to the end lists every loan stored when the listing began exactly once
        (in no promised order); a page may hold fewer than `limit`, even none, and still
        have a next one.
        """
        ...

    def find_payment(self, payment_id: str) -> PaymentOwner | None:
        """Which loan a payment was applied to."""
        ...


class CreditLineApplicationRepository(Protocol):
    """Credit-line applications (``LOCAPP#``)."""

    def get(self, user_id: str, application_id: str) -> CreditLineApplication:
        """The application, read consistently. Raises `NotFound`."""
        ...

    def add(self, application: CreditLineApplication) -> None:
        """Write a new application at commit; fails the commit if its key exists."""
        ...

    def save(self, application: CreditLineApplication) -> None:
        """Write a changed application at commit, if its stored version is unchanged."""
        ...

    def restore(self, application: CreditLineApplication, stored: StoredItem | None) -> None:
        """Take `application`, the last image of an item its TTL removed, as read here.

        `stored` is that image as the storage held it (None when not known). A later
        `save` writes the item back from it: every attribute it held, those this release
        does not read (a newer release's) included, with the command's changes.

        Raises:
            InvariantViolation: when `stored` is not the item of `application`.
        """
        ...

    def for_user(self, user_id: str) -> list[CreditLineApplication]:
        """Every credit-line application of a user, oldest first."""
        ...


class CreditLineRepository(Protocol):
    """Lines of credit (``LOC#``) with their draws and payments, as one aggregate."""

    def get(self, user_id: str, line_id: str) -> CreditLine:
        """The line, read consistently. Raises `NotFound`."""
        ...

    def add(self, line: CreditLine) -> None:
        """Write a new line at commit; fails the commit if its key exists."""
        ...

    def save(self, line: CreditLine) -> None:
        """Write a changed line at commit, if its stored version is unchanged."""
        ...

    def for_user(self, user_id: str) -> list[CreditLine]:
        """A user's lines, oldest first."""
        ...

    def by_cycle_day(self, cycle_day: int) -> list[LineRef]:
        """Lines that are not CLOSED whose billing cycle closes on `cycle_day`."""
        ...

    def due_between(self, first: dt.date, last: dt.date) -> list[LineRef]:
        """Lines whose next due date is within ``[first, last]``, in due-date order."""
        ...

    def overdue_candidates(self, on: dt.date) -> list[LineRef]:
        """Lines the overdue job may have to act on by `on`, in index order.

        A line is listed from its `overdue_watch_from` day on: SUSPENDED lines, and
        ACTIVE lines owing a minimum that can be late. Every line the job would change is
        listed; a listed line may still need nothing (the job decides on a consistent
        read).
        """
        ...

    def page(self, cursor: str | None, limit: int) -> RefPage[LineRef]:
        """One page of every line, like `LoanRepository.page`."""
        ...

    def find_payment(self, payment_id: str) -> PaymentOwner | None:
        """Which line a payment was applied to."""
        ...


class StatementRepository(Protocol):
    """Immutable credit-line statements (``LOC#<line>#STATEMENT#<date>``)."""

    def add(self, statement: Statement) -> None:
        """Write a new statement at commit; a statement is never overwritten."""
        ...

    def get(self, user_id: str, line_id: str, statement_date: dt.date) -> Statement:
        """One statement. Raises `NotFound`."""
        ...

    def for_line(self, user_id: str, line_id: str) -> list[Statement]:
        """A line's statements, oldest first."""
        ...


class JournalRepository(Protocol):
    """The ledger's journal entries, written only through a unit of work's commit."""

    def entries_for(self, reference: str) -> list[JournalEntry]:
        """Every entry posted for a loan or line, in posting order."""
        ...


class IntentRepository(Protocol):
    """Transfer intents (`loc_core.intents`): what was about to move money, kept first.

    An intent is keyed by its id alone (the stem of its transfer keys), so a settlement
    event that names a transfer key finds it; reads by a caller that knows the borrower
    pass the user id and find only that user's intent.
    """

    def get(self, user_id: str, intent_id: str) -> TransferIntent:
        """The intent, read consistently.

        Raises:
            NotFound: when there is none for that user.
        """
        ...

    def find(self, intent_id: str) -> TransferIntent | None:
        """The intent with this id, whoever owns it (for settlement events), or None."""
        ...

    def add(self, intent: TransferIntent) -> None:
        """Store a new intent at commit; the commit fails if the id is taken."""
        ...

    def save(self, intent: TransferIntent) -> None:
        """Store a changed intent at commit, if nobody changed it since it was read."""
        ...

    def open_before(self, before: dt.datetime) -> list[IntentRef]:
        """Index query: open intents made before `before`, oldest first.

        Open: PENDING, or BOOKED with events still to publish (`TransferIntent.is_open`).
        Eventually consistent: `get` each before acting on it.
        """
        ...

    def open_for(self, user_id: str, account_id: str) -> list[TransferIntent]:
        """The user's open intents on one loan, line or application, oldest first.

        Open (`TransferIntent.is_open`): PENDING (recorded, a rail may have moved the
        money, and nothing is booked yet: a process died, or a rail failed with its
        outcome unknown), or finished with work left (a booking whose process died before
        it published its events or applied the settlement events held on it). An index
        finds them (eventually consistent); each is read again, consistently, before it
        is returned, so one finished since is left out.
        """
        ...


@attrs.frozen
class KeptEvent:
    """A committed domain event not yet published, as the event outbox keeps it."""

    event: DomainEvent
    committed_at: dt.datetime


@attrs.frozen
class UnreadableEvent:
    """A kept item this release cannot read as a domain event.

    A newer release kept it (a type, or data, this one does not know: a rolling deploy,
    then a rollback), or it is damaged. It stays kept: a release that reads it, or an
    operator, delivers it; this one never publishes nor deletes it.
    """

    event_id: str
    """The id its key holds."""
    type: str
    """Its event type as stored (the repr of what is there when that is not text)."""
    problem: str
    """Why it cannot be read."""
    reported: bool = False
    """Whether operations were told of it already (`EventOutbox.reported`)."""

    @classmethod
    def of(
        cls, event_id: str, fields: Mapping[str, object], problem: str, *, reported: bool
    ) -> UnreadableEvent:
        """The unreadable item kept under `event_id` with the stored `fields`."""
        stored = fields.get("type")
        kind = stored if isinstance(stored, str) else repr(stored)
        return cls(event_id, kind, problem, reported=reported)


@attrs.frozen
class KeptEvents:
    """One read of the outbox (`EventOutbox.undelivered`), told apart.

    The events this release can publish, and the kept items it cannot read: one never
    holds back the other.
    """

    events: list[KeptEvent] = attrs.field(factory=list)
    unreadable: list[UnreadableEvent] = attrs.field(factory=list)

    @classmethod
    def of(cls, read: Iterable[KeptEvent | UnreadableEvent]) -> KeptEvents:
        """`read` (`read_kept_event`'s answers, oldest first) told apart, in its order."""
        found = cls()
        for kept in read:
            if isinstance(kept, KeptEvent):
                found.events.append(kept)
            else:
                found.unreadable.append(kept)
        return found


def read_kept_event(
    event_id: str, fields: Mapping[str, object], committed_at: dt.datetime, *, reported: bool
) -> KeptEvent | UnreadableEvent:
    """The kept event `event_fields` stored under `event_id`, or why this release cannot read it.

    Unreadable: a field `event_from_fields` refuses (an event type this release does not
    know, data it cannot read), or fields that are another event than the id says.
    """
    try:
        event = event_from_fields(fields)
    except ValueError as exc:
        problem = str(exc)
    else:
        if event.event_id == event_id:
            return KeptEvent(event, committed_at)
        problem = f"its fields are another event ({event.event_id})"
    return UnreadableEvent.of(event_id, fields, problem, reported=reported)


class EventOutbox(Protocol):
    """The domain events committed and not yet published: the transactional outbox.

    A commit keeps every event it returns here, in the same atomic write as the records
    that made it; the bus clears them once their handlers ran (`delivered`). A process
    that dies between its commit and its publish leaves them kept, and the recovery job
    publishes what is older than `RECOVERY_AFTER` (`undelivered`). An event may so be
    published twice, never not at all: its handlers drop a repeat by `event_id`.
    """

    def undelivered(self, *, committed_before: dt.datetime, limit: int) -> KeptEvents:
        """Up to `limit` items kept since before `committed_before`, oldest first.

        Read apart: the events this release reads, and the items it cannot
        (`UnreadableEvent`, left kept), so neither holds back the other.
        """
        ...

    def delivered(self, events: Sequence[DomainEvent]) -> None:
        """Stop keeping `events` (their handlers ran); an event not kept is ignored."""
        ...

    def reported(self, unreadable: Sequence[UnreadableEvent], *, at: dt.datetime) -> None:
        """Note that operations were told, `at`, of these unreadable items; they stay kept.

        `undelivered` lists them `reported` from then on. An item no longer kept (a release
        that reads it delivered it) is ignored.
        """
        ...


class AuditLog(Protocol):
    """Audit records, written only through a unit of work's commit, never changed."""

    def records_for(self, entity: str, entity_id: str) -> list[AuditRecord]:
        """Every record of one entity, oldest first."""
        ...

    def entity_page(
        self, entity: str, entity_id: str, *, cursor: str | None, limit: int
    ) -> AuditRecordPage:
        """At most `limit` records of one entity, oldest first, from `cursor` (None: the start).

        Raises:
            InvalidRequest: naming ``cursor`` for a cursor this log did not hand out, or
                ``limit`` for one outside 1 to `AUDIT_PAGE_LIMIT`.
        """
        ...

    def user_page(self, user_id: str, *, cursor: str | None, limit: int) -> AuditRecordPage:
        """At most `limit` records of changes to one borrower's entities, newest first.

        Newest by the time recorded; the changes of one commit in reverse order. Raises
        as `entity_page`. Eventually consistent in DynamoDB (an index).
        """
        ...

    def process_page(self, process: str, *, cursor: str | None, limit: int) -> AuditRecordPage:
        """At most `limit` records of changes one process (``AUTOPAY``, ...) made, newest first.

        Ordered and raising as `user_page`; eventually consistent in DynamoDB (an index).
        """
        ...


class UnitOfWork(Protocol):
    """The writes of one use case, committed atomically or not at all.

    Use it as a context manager: leaving the block without `commit` rolls back. A unit
    of work can be entered again for the next attempt, starting clean.
    """

    @property
    def transaction_limit(self) -> int:
        """Most items one commit may write (`TRANSACTION_LIMIT` on DynamoDB).

        Counted by `items_written`; a bigger commit is refused before anything is written.
        """
        ...

    @property
    def loan_applications(self) -> LoanApplicationRepository:
        """Loan applications."""
        ...

    @property
    def loans(self) -> LoanRepository:
        """Loans with their installments and payments."""
        ...

    @property
    def line_applications(self) -> CreditLineApplicationRepository:
        """Credit-line applications."""
        ...

    @property
    def lines(self) -> CreditLineRepository:
        """Credit lines with their draws and payments."""
        ...

    @property
    def statements(self) -> StatementRepository:
        """Credit-line statements."""
        ...

    @property
    def intents(self) -> IntentRepository:
        """Transfer intents: money movements recorded before any rail was asked."""
        ...

    @property
    def journal(self) -> JournalRepository:
        """The committed journal entries."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The committed audit records."""
        ...

    def __enter__(self) -> Self:
        """Start a clean unit of work.

        Raises:
            InvalidConfiguration: it is open already (a block inside another would drop
                the outer block's reads and pending writes).
        """
        ...

    def __exit__(self, *exc_info: object) -> None:
        """Roll back whatever was not committed."""
        ...

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        """Write every added and saved aggregate with its outbox, atomically.

        Each aggregate's journal entries are posted and its changes stored as audit
        records (with `actor`, `request_id` and the clock's time); versions are bumped.
        Its domain events are kept in the `EventOutbox` until published. Returns them,
        to be published only now that the commit succeeded.

        Raises:
            ConcurrencyConflict: when any saved aggregate changed since it was read, or
                an added one already exists; nothing was written.
            InvariantViolation: when an aggregate changed (its outbox is not empty) but
                was never saved: its changes would be lost; or when the commit writes
                more than `transaction_limit` items (``invariant="transaction_limit"``).
            LeaseLost: when a lease given to `fence` is no longer the lock's current one;
                nothing was written.
        """
        ...

    def fence(self, lease: Lease) -> None:
        """Make the next commit conditional on `lease` still being the lock's current one.

        The commit then also checks, atomically with its writes, that the lock of
        `lease.key` still carries `lease.owner` and `lease.fencing_token`; a lease that
        expired and was taken over, was replaced by a heartbeat (a higher token) or was
        released fails the commit with `LeaseLost` and nothing is written. A second
        lease on the same key replaces the first. Like registered writes, a fence lasts
        until the commit or rollback: set it inside the ``with`` block of each attempt.
        """
        ...

    def rollback(self) -> None:
        """Forget everything added and saved since the unit of work began (and any fence)."""
        ...
