"""Borrower notifications: sent after commit, and kept for a resend when they fail.

`notify_borrower` is the event handler every committed `DomainEvent` goes to. A notifier
failure never undoes the money movement that was committed: operations are alerted
(WARNING) and the event is put on the work queue as a ``resend_notification`` message
(its deduplication id the event's id), which a worker later turns into
`ResendNotification`. That command asks the notifier again and raises if it still fails,
so the queue delivers the message again after its visibility timeout (and, on SQS, to
the dead-letter queue after the redrive policy's count). The event's id goes with every
attempt, so a notification that did reach Iterable before the failure is updated, not
sent twice.
"""

from __future__ import annotations

import attrs

from loc_core.errors import DomainError, ExternalServiceError
from loc_core.events import DomainEvent, EventType, event_fields, event_from_fields
from loc_core.ports import Alerter, Notifier, QueueMessage, Severity, WorkQueue
from loc_core.services.kit import post_alert
from loc_core.services.messagebus import Command
from loc_core.validation import validated

__all__ = [
    "RESEND_NOTIFICATION",
    "ResendNotification",
    "notify_borrower",
    "resend_notification",
]

RESEND_NOTIFICATION = "resend_notification"
"""The `QueueMessage.kind` of a notification kept for a resend."""


def notify_borrower(
    event: DomainEvent, *, notifier: Notifier, alerter: Alerter, queue: WorkQueue
) -> None:
    """Tell the borrower about a committed event (Iterable in production).

    On a notifier failure: alert operations and queue the event for a resend; if even
    the queue refuses it, the alert is CRITICAL (the notification would be lost). The
    next event still goes out either way. An operations alert (`EventType.OPERATIONS_ALERT`)
    is not for the borrower: it is left to `kit.post_operations_alert`.
    """
    if event.type is EventType.OPERATIONS_ALERT:
        return
    try:
        notifier.notify(event)
    except ExternalServiceError as exc:
        details = {"user_id": event.user_id, "subject_id": event.subject_id}
        try:
            queue.send([ResendNotification(event).message()])
        except ExternalServiceError as lost:
            post_alert(
                alerter,
                f"notification {event.type.value} not sent and not queued for a resend",
                {**details, "event_id": event.event_id, "queue_error": str(lost)},
                error=exc,
            )
            return
        post_alert(
            alerter,
            f"notification {event.type.value} not sent; queued for a resend",
            details,
            severity=Severity.WARNING,
            error=exc,
        )


@attrs.frozen(field_transformer=validated)
class ResendNotification(Command[None]):
    """Send a notification that failed after its commit (a ``resend_notification`` body)."""

    event: DomainEvent

    @property
    def user_id(self) -> str:
        """The borrower the notification is for (logged with the command)."""
        return self.event.user_id

    def message(self) -> QueueMessage:
        """The queue message that keeps this event for a resend."""
        event = self.event
        return QueueMessage(
            kind=RESEND_NOTIFICATION,
            body=dict(event_fields(event)),
            deduplication_id=event.event_id,
        )

    @classmethod
    def from_message(cls, message: QueueMessage) -> ResendNotification:
        """Read a queue message.

        Raises:
            DomainError: for a message of another kind or with a malformed body.
        """
        if message.kind != RESEND_NOTIFICATION:
            raise DomainError(f"not a {RESEND_NOTIFICATION} message: {message.kind!r}")
        try:
            event = event_from_fields(message.body)
        except ValueError as exc:
            raise DomainError(f"malformed {RESEND_NOTIFICATION} message: {exc}") from exc
        if event.event_id != message.deduplication_id:
            raise DomainError(f"{RESEND_NOTIFICATION} message does not match its event id")
        return cls(event)


def resend_notification(command: ResendNotification, *, notifier: Notifier) -> None:
    """Ask the notifier again; an `ExternalServiceError` leaves the message for later."""
    notifier.notify(command.event)
