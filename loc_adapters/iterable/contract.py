"""Iterable's event-tracking API as this library speaks it: the whole wire contract.

``POST /api/events/track`` with the ``Api-Key`` header and a JSON body of ``userId``,
``eventName`` (the `EventType` value), ``dataFields`` (the event's data plus
``subject_id``), ``createdAt`` (unix seconds of the event's day at 00:00 UTC: domain
events carry a date, not an instant) and ``id`` (`DomainEvent.event_id`: Iterable
updates an event whose id it already has, so a resend makes no second event).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from loc_core.events import DomainEvent

__all__ = [
    "DEFAULT_BASE_URL",
    "HEADER_API_KEY",
    "TRACK_PATH",
    "created_at",
    "error_code",
    "track_body",
]

DEFAULT_BASE_URL = "https://api.iterable.com"
TRACK_PATH = "/api/events/track"
HEADER_API_KEY = "Api-Key"


def created_at(day: dt.date) -> int:
    """Unix seconds of `day` at 00:00 UTC."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def track_body(event: DomainEvent) -> dict[str, Any]:
    """The JSON body that tracks `event` for its borrower."""
    return {
        "id": event.event_id,
        "userId": event.user_id,
        "eventName": event.type.value,
        "createdAt": created_at(event.occurred_on),
        "dataFields": {**event.data, "subject_id": event.subject_id},
    }


def error_code(body: object) -> str | None:
    """Iterable's error ``code`` from an answer's JSON, if it has one."""
    if isinstance(body, dict):
        code = body.get("code")
        return code if isinstance(code, str) else None
    return None
