"""Event handlers: what happens after a commit when a domain event is published."""

from __future__ import annotations

from loc_core.errors import ExternalServiceError
from loc_core.events import DomainEvent
from loc_core.ports import Alerter, Notifier, Severity
from loc_core.services.kit import post_alert

__all__ = ["notify_borrower"]


def notify_borrower(event: DomainEvent, *, notifier: Notifier, alerter: Alerter) -> None:
    """Tell the borrower about a committed event (Iterable in production).

    A notifier failure never undoes the money movement that was committed: it is
    reported to operations instead, with the event, and the next event still goes out.
    """
    try:
        notifier.notify(event)
    except ExternalServiceError as exc:
        post_alert(
            alerter,
            f"notification {event.type.value} not sent",
            {"user_id": event.user_id, "subject_id": event.subject_id},
            severity=Severity.WARNING,
            error=exc,
        )
