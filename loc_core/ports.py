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
from typing import Protocol

import attrs

from loc_core.events import AuditValue, DomainEvent
from loc_core.payments import Direction, Rail, SettlementOutcome

__all__ = [
    "Alert",
    "Alerter",
    "Clock",
    "FeatureFlags",
    "IdGenerator",
    "IdempotencyRecord",
    "IdempotencyStatus",
    "IdempotencyStore",
    "Lease",
    "Lock",
    "Metrics",
    "Notifier",
    "PaymentRails",
    "QueueMessage",
    "ReceivedMessage",
    "SettlementEvent",
    "Severity",
    "TransferRequest",
    "TransferResult",
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
            ExternalServiceError: when the rail could not be reached and the outcome is
                unknown; retrying with the same key is safe.
        """
        ...
