"""Ports: what the services need from the world, as `typing.Protocol`s.

Adapters implement these without inheriting from them; a typed assignment in a test
(``lock: Lock = InMemoryLock(...)``) makes mypy check that an adapter conforms. Every
method documents the semantics every adapter must share; the contract tests under
``tests/contracts`` hold each adapter to them.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol, Self

import attrs

from loc_core.applications import AdverseAction
from loc_core.creditline import CreditLine, CreditLineApplication, Statement
from loc_core.events import AuditRecord, AuditValue, DomainEvent
from loc_core.installment import (
    InstallmentStatus,
    Loan,
    LoanApplication,
    LoanStatus,
    OriginationFee,
)
from loc_core.ledger import JournalEntry
from loc_core.payments import Direction, Rail, SettlementOutcome

__all__ = [
    "Alert",
    "Alerter",
    "AuditLog",
    "Clock",
    "CreditLineApplicationRepository",
    "CreditLineRepository",
    "FeatureFlags",
    "IdGenerator",
    "IdempotencyRecord",
    "IdempotencyStatus",
    "IdempotencyStore",
    "InstallmentRef",
    "JournalRepository",
    "Lease",
    "LineDecision",
    "LineRef",
    "LoanApplicationRepository",
    "LoanDecision",
    "LoanRepository",
    "Lock",
    "Metrics",
    "Notifier",
    "PaymentOwner",
    "PaymentRails",
    "QueueMessage",
    "ReceivedMessage",
    "SettlementEvent",
    "Severity",
    "StatementRepository",
    "TransferRequest",
    "TransferResult",
    "Underwriting",
    "UnitOfWork",
    "User",
    "Users",
    "WorkQueue",
    "lock_key",
]


class Clock(Protocol):
    """Where services read the time; the core itself never does."""

    def now(self) -> dt.datetime:
        """The current instant as an aware UTC datetime."""
        ...


class IdGenerator(Protocol):
    """Makes identifiers: unique ids and human-readable loan numbers."""

    def new_id(self) -> str:
        """A new identifier, unique across the table (a UUID in production)."""
        ...

    def next_loan_number(self) -> str:
        """The next loan number (``FM-000001``) from an atomic counter: never reused."""
        ...


# --- lease lock ---------------------------------------------------------------------


def lock_key(process: str, *, user_id: str, item_id: str) -> str:
    """The lock key format of the original service: ``loc-{process}:user_id:{u}:item_id:{i}``."""
    return f"loc-{process}:user_id:{user_id}:item_id:{item_id}"


@attrs.frozen
class Lease:
    """Proof of holding a lock until `expires_at`.

    `fencing_token` grows with every acquisition and heartbeat of the key, whoever the
    owner; a write guarded by a lease may carry the token so storage can refuse a writer
    whose lease was taken over.
    """

    key: str
    owner: str
    fencing_token: int
    expires_at: dt.datetime


class Lock(Protocol):
    """A lease lock for per-user processes, expiring by the injected clock."""

    def acquire(self, key: str, *, owner: str, ttl: dt.timedelta) -> Lease:
        """Take the lease on `key` for `ttl`, or take over one that has expired.

        Raises:
            LockNotAcquired: when another owner holds an unexpired lease.
        """
        ...

    def heartbeat(self, lease: Lease, *, ttl: dt.timedelta) -> Lease:
        """Extend a lease still held, returning it with a new expiry and a higher token.

        Raises:
            LockNotAcquired: when the lease expired and another owner took the key, or
                the lease was released.
        """
        ...

    def release(self, lease: Lease) -> bool:
        """Give the lease up if it is still this one; False when it was already lost."""
        ...


# --- idempotency --------------------------------------------------------------------


class IdempotencyStatus(enum.Enum):
    """Where the command behind an idempotency key stands."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@attrs.frozen
class IdempotencyRecord:
    """What is known about one command from outside, by its idempotency key."""

    key: str
    fingerprint: str
    """A digest of the request, so a key reused for another request is caught."""
    status: IdempotencyStatus
    expires_at: dt.datetime
    response: str = ""
    """The serialized result, replayed to a caller that repeats a completed command."""


class IdempotencyStore(Protocol):
    """Remembers commands from outside so that a repeat has the effect of one."""

    def begin(
        self, key: str, *, fingerprint: str, now: dt.datetime, ttl: dt.timedelta
    ) -> IdempotencyRecord | None:
        """Claim `key` for a new command, or return what is known about it.

        Returns None when the key was new (or its record had expired) and is now claimed
        IN_PROGRESS; otherwise the existing record, IN_PROGRESS or COMPLETED.

        Raises:
            IdempotencyConflict: when the key is known with a different fingerprint.
        """
        ...

    def complete(self, key: str, *, response: str, now: dt.datetime) -> None:
        """Record the command's result; later `begin` calls return it.

        Raises:
            NotFound: when `key` was never begun or its record expired.
        """
        ...

    def abandon(self, key: str) -> None:
        """Forget an IN_PROGRESS claim after a failure, so a retry can begin again."""
        ...


# --- queue --------------------------------------------------------------------------


@attrs.frozen
class QueueMessage:
    """A unit of work for a worker, versioned so old and new workers can share a queue."""

    kind: str
    """What to do: ``collect_installment``, ``reconcile_loan``, ..."""
    body: Mapping[str, AuditValue]
    deduplication_id: str
    """Stable for the same piece of work, so a repeated send is recognisable."""
    version: int = 1


@attrs.frozen
class ReceivedMessage:
    """A message handed to a consumer, invisible to others until acked or timed out."""

    message: QueueMessage
    receipt: str
    receive_count: int


class WorkQueue(Protocol):
    """At-least-once delivery of work between a job and its workers."""

    def send(self, messages: Sequence[QueueMessage]) -> None:
        """Enqueue every message; raises `ExternalServiceError` if any could not be sent."""
        ...

    def receive(self, *, max_messages: int, visibility: dt.timedelta) -> list[ReceivedMessage]:
        """Take up to `max_messages`, hiding them from other consumers for `visibility`.

        A message not acked before its visibility ends is delivered again.
        """
        ...

    def ack(self, received: ReceivedMessage) -> None:
        """Delete a message that was processed; acking twice is harmless."""
        ...


# --- notifications, alerts, flags, metrics ----------------------------------------


class Notifier(Protocol):
    """Tells a borrower about an event (Iterable in production)."""

    def notify(self, event: DomainEvent) -> None:
        """Send the event; raises `ExternalServiceError` when the service refused it."""
        ...


class Severity(enum.Enum):
    """How loudly operations should hear about an alert."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@attrs.frozen
class Alert:
    """Something operations must look at: a reconciliation mismatch, a failed job."""

    severity: Severity
    title: str
    details: Mapping[str, AuditValue] = attrs.field(factory=dict)


class Alerter(Protocol):
    """Tells operations (Slack in production)."""

    def alert(self, alert: Alert) -> None:
        """Post the alert; never raises, since an alert must not fail the work it reports."""
        ...


class FeatureFlags(Protocol):
    """Switches that change behaviour without a deploy (GrowthBook in production)."""

    def is_enabled(self, flag: str, *, default: bool, user_id: str | None = None) -> bool:
        """Whether `flag` is on, for `user_id` when given; `default` when unknown."""
        ...


class Metrics(Protocol):
    """Counters and gauges for dashboards (DataDog in production)."""

    def increment(self, name: str, value: int = 1, *, tags: Sequence[str] = ()) -> None:
        """Add `value` to a counter."""
        ...

    def gauge(self, name: str, value: int, *, tags: Sequence[str] = ()) -> None:
        """Set a gauge to `value`."""
        ...


# --- payment rails ------------------------------------------------------------------


@attrs.frozen
class TransferRequest:
    """Ask a rail to move money between the lender and a borrower."""

    idempotency_key: str
    """The same key always means the same transfer: a retry never moves money twice."""
    rail: Rail
    direction: Direction
    user_id: str
    amount: int
    reference: str
    """The loan, line, payment or draw the transfer is for."""


@attrs.frozen
class TransferResult:
    """The rail's answer at submission; settlement is reported later as an event."""

    accepted: bool
    confirmation_id: str = ""
    decline_reason: str = ""


@attrs.frozen
class SettlementEvent:
    """What a rail reports later about a transfer it accepted (a webhook in production).

    Events arrive at least once and in any order; `event_id` identifies a delivery's
    content, so a repeat is recognisable.
    """

    event_id: str
    idempotency_key: str
    """The key of the transfer the event is about."""
    confirmation_id: str
    rail: Rail
    outcome: SettlementOutcome
    occurred_at: dt.datetime
    return_code: str = ""
    """The ACH return reason (``R01`` insufficient funds, ``R10`` unauthorized, ...)."""


class PaymentRails(Protocol):
    """The payments service (PayEngine in production): ACH, pinless debit, RTP."""

    def submit(self, request: TransferRequest) -> TransferResult:
        """Submit a transfer. A repeated idempotency key returns the first answer.

        A declined transfer returns ``accepted=False`` with a reason; another rail may
        still accept it.

        Raises:
            RailUnavailable: when the request never reached the rail: nothing moved, and
                another rail may be tried.
            ExternalServiceError: for any other failure, such as a timeout after the
                request was sent: the outcome is unknown, so the caller must not offer
                the money to another rail; retrying this rail with the same key is safe.
        """
        ...


# --- users and underwriting ---------------------------------------------------------


@attrs.frozen
class User:
    """What servicing needs to know about a borrower."""

    user_id: str
    active: bool
    """False for a closed, suspended or deceased account: no new credit."""
    account_last_four: str = ""
    """The last four digits of the bank account money is sent to and collected from."""


class Users(Protocol):
    """The user service."""

    def get(self, user_id: str) -> User:
        """The user. Raises `NotFound`."""
        ...


@attrs.frozen
class LoanDecision:
    """Underwriting's answer to a request for an installment loan."""

    approved: bool
    loan_amount: int = 0
    fee: OriginationFee | None = None
    installment_count: int | None = None
    """None: the product's default count."""
    adverse_actions: tuple[AdverseAction, ...] = ()
    """Why a rejected request was rejected (at least one when not approved)."""


@attrs.frozen
class LineDecision:
    """Underwriting's answer to a request for a line of credit."""

    approved: bool
    credit_limit: int = 0
    apr: Decimal | None = None
    minimum_payment_percent: Decimal | None = None
    adverse_actions: tuple[AdverseAction, ...] = ()


class Underwriting(Protocol):
    """The underwriting service: decides, never books anything."""

    def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
        """Approve (possibly a smaller amount) or reject a loan request."""
        ...

    def decide_line(self, user_id: str) -> LineDecision:
        """Approve or reject a request for a line of credit."""
        ...


# --- persistence --------------------------------------------------------------------
#
# Repositories hand out aggregates and take them back; a unit of work commits what was
# added and saved, with the journal entries and audit changes in each aggregate's outbox,
# atomically. Versions belong to the unit of work: a command never changes `version`; a
# save is conditional on the stored version still being the entity's, and a commit bumps
# it. Queries over indexes return references (eventually consistent in DynamoDB): load
# the aggregate with `get` (a consistent read) before acting on it.


@attrs.frozen
class InstallmentRef:
    """An installment found through the status/due-date index."""

    user_id: str
    loan_id: str
    installment_id: str
    due_date: dt.date


@attrs.frozen
class LineRef:
    """A credit line found through an index."""

    user_id: str
    line_id: str


@attrs.frozen
class PaymentOwner:
    """Where a payment was applied: which product, borrower and loan or line."""

    product: str
    """``installment`` or ``creditline``."""
    user_id: str
    owner_id: str
    """The loan id or line id."""


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
        self,
        status: InstallmentStatus,
        *,
        due_on: dt.date | None = None,
        due_before: dt.date | None = None,
    ) -> list[InstallmentRef]:
        """Installments in `status` due on a day or before it, in due-date order."""
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


class AuditLog(Protocol):
    """Audit records, written only through a unit of work's commit, never changed."""

    def records_for(self, entity: str, entity_id: str) -> list[AuditRecord]:
        """Every record of one entity, oldest first."""
        ...


class UnitOfWork(Protocol):
    """The writes of one use case, committed atomically or not at all.

    Use it as a context manager: leaving the block without `commit` rolls back. A unit
    of work can be entered again for the next attempt, starting clean.
    """

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
    def journal(self) -> JournalRepository:
        """The committed journal entries."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The committed audit records."""
        ...

    def __enter__(self) -> Self:
        """Start a clean unit of work."""
        ...

    def __exit__(self, *exc_info: object) -> None:
        """Roll back whatever was not committed."""
        ...

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        """Write every added and saved aggregate with its outbox, atomically.

        Each aggregate's journal entries are posted and its changes stored as audit
        records (with `actor`, `request_id` and the clock's time); versions are bumped.
        Returns the domain events, to be published only now that the commit succeeded.

        Raises:
            ConcurrencyConflict: when any saved aggregate changed since it was read, or
                an added one already exists; nothing was written.
            InvariantViolation: when an aggregate changed (its outbox is not empty) but
                was never saved: its changes would be lost.
        """
        ...

    def rollback(self) -> None:
        """Forget everything added and saved since the unit of work began."""
        ...
