"""Iterable's event-tracking API as this library speaks it: the whole wire contract.

``POST /api/events/track`` with the ``Api-Key`` header and a JSON body of ``userId``,
``eventName`` (the `EventType` value), ``dataFields`` (the event's data plus
``subject_id`` and ``occurred_on``, the business date as ``YYYY-MM-DD``), ``createdAt``
(unix seconds of the event's day at 12:00 UTC: domain events carry a date, not an
instant, and noon UTC falls on that date in every US time zone, where midnight UTC was
the evening before) and ``id`` (`DomainEvent.event_id`: Iterable
updates an event whose id it already has, so a resend makes no second event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from loc_core.applications import OFFERED
from loc_core.events import DomainEvent, EventType

__all__ = [
    "DATA_FIELDS",
    "DEFAULT_BASE_URL",
    "HEADER_API_KEY",
    "KEPT_BACK",
    "TRACK_PATH",
    "created_at",
    "error_code",
    "track_body",
]

DEFAULT_BASE_URL = "https://api.iterable.com"
TRACK_PATH = "/api/events/track"
HEADER_API_KEY = "Api-Key"


_LINE_OWED_NOW = (
    "line_id",
    "line_status",
    "balance",
    "past_due_amount",
    "minimum_outstanding",
    "next_due_date",
)
"""What a line notice about money owed adds (`loc_core.creditline` ``owed_now``)."""

_NOTICE = frozenset(
    {
        "product",
        "application_id",
        "decided_on",
        "requested_amount",
        "reasons_given",
        "document",
        *(f"reason_{n}_{part}" for n in range(1, 5) for part in ("code", "text")),
    }
)
"""What an adverse action notice's event says besides its consumer report (`KEPT_BACK`)."""

DATA_FIELDS: Mapping[EventType, frozenset[str]] = {
    EventType.LOC_PAYMENT_SUCCEEDED: frozenset({"amount", "paid_on", *_LINE_OWED_NOW}),
    EventType.LOC_PAYMENT_FAILED: frozenset({"amount", "outcome", *_LINE_OWED_NOW}),
    EventType.LOC_PAST_DUE: frozenset(
        {"past_due_since", "late_fee", "statement_date", *_LINE_OWED_NOW}
    ),
    EventType.LOC_CHARGED_OFF: frozenset(
        {
            "line_id",
            "charged_off",
            "principal",
            "interest",
            "fees",
            "charged_off_on",
            "past_due_since",
        }
    ),
    EventType.LOC_DRAW_FAILED: frozenset({"line_id", "amount", "balance", "available_credit"}),
    EventType.LOC_DRAW_RETURNED: frozenset(
        {"amount", "sent_on", "available_credit", *_LINE_OWED_NOW}
    ),
    EventType.LOAN_CANCELLED: frozenset(
        {
            "loan_id",
            "loan_status",
            "amount_disbursed",
            "disbursement_date",
            "outstanding_balance",
            "refund_due",
        }
    ),
    EventType.AUTOPAY_DECLINED: frozenset(
        {"loan_id", "installment_number", "amount", "due_date", "pay_by", "attempt"}
    ),
    EventType.LATE_FEE_WAIVED: frozenset(
        {
            "loan_id",
            "installment_number",
            "due_date",
            "amount",
            "loan_status",
            "outstanding_balance",
        }
    ),
    EventType.REFUND_PAID: frozenset({"loan_id", "line_id", "amount", "paid_on", "reference"}),
    EventType.AUTOPAY_STOPPED: frozenset(
        {"loan_id", "line_id", "payment_id", "return_code", "reason"}
    ),
    EventType.LOAN_DEFAULTED: frozenset(
        {
            "loan_id",
            "outstanding_balance",
            "charged_off",
            "principal",
            "interest",
            "fees",
            "charged_off_on",
            "past_due_since",
        }
    ),
    EventType.LOC_CLOSED: frozenset(
        {"line_id", "payment_id", "closed_on", "closed_from", "corrected", "refund_due"}
    ),
    EventType.LOC_PAYMENT_UPCOMING: frozenset({"amount", "due_date", "autopay", "autopay_amount"}),
    EventType.LOC_BILLING_DISPUTE_ACKNOWLEDGED: frozenset(
        {
            "line_id",
            "dispute_id",
            "statement_date",
            "charge",
            "charge_date",
            "amount",
            "received_on",
            "resolve_by",
        }
    ),
    EventType.LOC_BILLING_DISPUTE_RESOLVED: frozenset(
        {
            "dispute_id",
            "statement_date",
            "charge",
            "amount",
            "error_found",
            "explanation",
            "credited",
            "finance_charge_credited",
            "refunds_due",
            "disputed_amount_due",
            "disputed_amount_due_date",
            *_LINE_OWED_NOW,
        }
    ),
    EventType.LOC_LATE_FEE_WAIVED: frozenset(
        {"statement_date", "due_date", "amount", "assessed_on", "refunds_due", *_LINE_OWED_NOW}
    ),
    EventType.APPLICATION_DECLINED: _NOTICE,
    EventType.APPLICATION_COUNTERED: _NOTICE | set(OFFERED),
}
"""The ``dataFields`` (besides ``subject_id``) Iterable templates may use, by ``eventName``.

Listed for the events whose templates read what is owed (docs/credit-lines.md, *Borrower
notices*; docs/services-loans.md for ``autopay_declined``); every one always carries all
of its fields, a date or amount not known as null.
"""


_NOON = dt.time(12)
"""When on its day an event is said to happen: the same calendar day from UTC-10 to UTC+11."""


def created_at(day: dt.date) -> int:
    """Unix seconds of `day` at 12:00 UTC (`_NOON`)."""
    return int(dt.datetime.combine(day, _NOON, tzinfo=dt.UTC).timestamp())


KEPT_BACK = "report_"
"""The prefix of data fields never sent to Iterable: an ``application_declined`` or
``application_countered`` event's consumer report (the agency, the credit score and its
key factors). The notice PDF, behind the borrower's own route, states them; the message
only links to it."""


def track_body(event: DomainEvent) -> dict[str, Any]:
    """The JSON body that tracks `event` for its borrower (`KEPT_BACK` fields left out)."""
    data = {name: value for name, value in event.data.items() if not name.startswith(KEPT_BACK)}
    return {
        "id": event.event_id,
        "userId": event.user_id,
        "eventName": event.type.value,
        "createdAt": created_at(event.occurred_on),
        "dataFields": {
            **data,
            "subject_id": event.subject_id,
            "occurred_on": event.occurred_on.isoformat(),
        },
    }


def error_code(body: object) -> str | None:
    """Iterable's error ``code`` from an answer's JSON, if it has one."""
    if isinstance(body, dict):
        code = body.get("code")
        return code if isinstance(code, str) else None
    return None
