"""What every use case shares: publishing after commit, and idempotent commands."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable

import attrs

from loc_core.errors import ExternalServiceError, IdempotencyConflict
from loc_core.events import DomainEvent
from loc_core.ports import (
    Alert,
    Alerter,
    Clock,
    IdempotencyStatus,
    IdempotencyStore,
    Notifier,
    Severity,
)

__all__ = ["IDEMPOTENCY_TTL", "fingerprint", "publish", "run_once"]

IDEMPOTENCY_TTL = dt.timedelta(hours=24)
"""How long a command's idempotency key is remembered (policy)."""


def publish(events: Iterable[DomainEvent], *, notifier: Notifier, alerter: Alerter) -> int:
    """Send committed events to the borrower; returns how many were sent.

    Called only after a successful commit. A notifier failure never undoes the money
    movement that was committed: it is reported to operations instead, with the event.
    """
    sent = 0
    for event in events:
        try:
            notifier.notify(event)
        except ExternalServiceError as exc:
            alerter.alert(
                Alert(
                    Severity.WARNING,
                    f"notification {event.type.value} not sent",
                    {
                        "user_id": event.user_id,
                        "subject_id": event.subject_id,
                        "error": str(exc),
                    },
                )
            )
        else:
            sent += 1
    return sent


def fingerprint(command: attrs.AttrsInstance) -> str:
    """A digest of a command's type and fields, to catch a key reused for another request."""
    text = f"{type(command).__qualname__}{attrs.astuple(command, recurse=True)!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def run_once(
    key: str,
    command: attrs.AttrsInstance,
    *,
    store: IdempotencyStore,
    clock: Clock,
    work: Callable[[], str],
    ttl: dt.timedelta = IDEMPOTENCY_TTL,
) -> str:
    """Run `work` once per idempotency `key`; a repeat gets the first result back.

    `work` returns the result as a string (an id, or JSON) that a repeat replays. When
    `work` raises, the claim is dropped so the caller may retry with the same key.

    Raises:
        IdempotencyConflict: when `key` was used for a different command, or the first
            attempt is still running.
    """
    known = store.begin(key, fingerprint=fingerprint(command), now=clock.now(), ttl=ttl)
    if known is not None:
        if known.status is IdempotencyStatus.COMPLETED:
            return known.response
        raise IdempotencyConflict(
            f"the command with idempotency key {key!r} is still running",
            entity="idempotency",
            key=key,
        )
    try:
        result = work()
    except BaseException:
        store.abandon(key)
        raise
    store.complete(key, response=result, now=clock.now())
    return result
