"""Messaging ports: the work queue, borrower notifications and operations alerts."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

from loc_core.events import AuditValue, DomainEvent

__all__ = [
    "QUEUE_MESSAGE_VERSION",
    "Alert",
    "Alerter",
    "Notifier",
    "QueueMessage",
    "ReceivedMessage",
    "Severity",
    "WorkQueue",
]


# --- queue --------------------------------------------------------------------------

QUEUE_MESSAGE_VERSION = 1
"""The layout of a message's body this library writes and reads (every kind)."""


@attrs.frozen
class QueueMessage:
    """A unit of work for a worker, versioned so old and new workers can share a queue."""

    kind: str
    """What to do: ``collect_installment``, ``reconcile_loan``, ..."""
    body: Mapping[str, AuditValue]
    deduplication_id: str
    """Stable for the same piece of work, so a repeated send is recognisable."""
    version: int = QUEUE_MESSAGE_VERSION
    """The layout of `body`. A producer that changes a kind's body (a field added,
    removed or read differently) writes a new version; a worker refuses a version it
    does not know (`MalformedMessage`), so the message waits in the dead-letter queue
    for a worker that reads it instead of being misread."""


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


class MessageVisibility(Protocol):
    """Hides a message a function was handed for a while (SQS ``ChangeMessageVisibility``).

    Lambda receives a queue's messages itself; a function that failed one for a reason
    gone in moments asks for it again sooner than the queue's visibility timeout.
    """

    def change_visibility(
        self, queue_arn: str, receipt_handle: str, visibility: dt.timedelta
    ) -> None:
        """Deliver the message again `visibility` from now; raises when that failed."""
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
