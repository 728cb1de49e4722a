"""What an aggregate's commands leave behind besides new state.

A command on an aggregate (a loan, a line) changes its fields and records, in the
aggregate's `Outbox`:

- `DomainEvent`s: facts a borrower may hear about (``loan_disbursed``). They leave only
  after the unit of work commits.
- `Change`s: an audit-ready description of each state change (entity, fields with old and
  new values, process, reason). The service layer adds actor, request id and time.
- `JournalEntry`s: the balanced ledger entries of the money that moved.

The service persists changes and entries in the same commit as the aggregate and sends
the events afterwards.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import json
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from loc_core.ledger import JournalEntry

__all__ = [
    "AuditRecord",
    "AuditValue",
    "Change",
    "DomainEvent",
    "EventType",
    "FieldChange",
    "Outbox",
    "diff",
    "event_fields",
    "event_from_fields",
    "render",
    "renderer_for",
]

AuditValue = str | int | bool | None
"""What an audited field holds once rendered: dates as ISO strings, Decimals as strings."""


class EventType(enum.Enum):
    """Borrower-facing events; the values are the default notification names (policy)."""

    LOAN_DISBURSED = "loan_disbursed"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    INSTALLMENT_OVERDUE = "installment_overdue"
    LOAN_CLOSED = "loan_closed"
    LOAN_DEFAULTED = "loan_defaulted"
    AUTOPAY_DECLINED = "autopay_declined"
    """Every rail declined an installment's autopay: pay before the late fee."""
    LOC_DRAW_DISBURSED = "loc_draw_disbursed"
    LOC_STATEMENT_READY = "loc_statement_ready"
    LOC_PAYMENT_UPCOMING = "loc_payment_upcoming"
    LOC_PAYMENT_FAILED = "loc_payment_failed"
    LOC_PAST_DUE = "loc_past_due"
    LOC_PAYMENT_SUCCEEDED = "loc_payment_succeeded"
    """A line payment the rail completed, with what the line owes after it."""
    LOC_CHARGED_OFF = "loc_charged_off"
    """A line DEFAULTED: what was charged off, by bucket, and the day."""
    LOC_DRAW_FAILED = "loc_draw_failed"
    """No rail sent a draw: no money was sent and its amount is not owed."""
    LOC_DRAW_RETURNED = "loc_draw_returned"
    """A draw's money came back from the borrower's bank: it is not owed (nor its interest)."""
    REFUND_DUE = "refund_due"
    """A payment took money nothing was owed for: the borrower is owed it back."""
    LOAN_CANCELLED = "loan_cancelled"
    """A loan's disbursement came back from the borrower's bank: the loan is cancelled as
    of its disbursement date, nothing is owed, and what was paid on it is a refund due."""
    LATE_FEE_WAIVED = "late_fee_waived"
    """An operator waived an installment's late fee: it is no longer owed (a refund due if
    it was paid on a loan since paid off)."""
    REFUND_PAID = "refund_paid"
    """The lender sent a refund due back to the borrower (amount and the payout's reference)."""
    AUTOPAY_STOPPED = "autopay_stopped"
    """A returned debit forbids presenting it again (unauthorized, revoked, an account that
    cannot be debited, an unknown reason): automatic debits of the loan or line stopped."""
    LOC_CLOSED = "loc_closed"
    """A charged-off (DEFAULTED) line was paid in full and closed by itself, as a
    DEFAULTED loan paid in full is (`loan_closed`)."""
    LOC_BILLING_DISPUTE_ACKNOWLEDGED = "loc_billing_dispute_acknowledged"
    """A line's billing-error notice was received: what was disputed, the date it must be
    resolved by, and that the amount is not collected meanwhile (Reg Z 1026.13(c)(1))."""
    LOC_BILLING_DISPUTE_RESOLVED = "loc_billing_dispute_resolved"
    """A billing-error dispute was resolved: the credit for an error found, or the
    explanation and the amount owed again with its due date (Reg Z 1026.13(e)-(g))."""
    LOC_LATE_FEE_WAIVED = "loc_late_fee_waived"
    """An operator waived a line's late fee for a missed cycle: it is no longer owed (what
    paid it pays what it would have, or is a refund due on a line that owes nothing)."""
    APPLICATION_DECLINED = "application_declined"
    """Underwriting rejected an application (either product): the adverse action notice,
    its reasons and the route of its PDF (12 CFR 1002.9; `loc_core.applications`)."""
    APPLICATION_COUNTERED = "application_countered"
    """Underwriting approved an installment loan for less than requested: the combined
    counteroffer and adverse action notice (12 CFR 1002.9(a)(1)(iv), comment 9(a)(1)-6,
    model form C-4), its reasons, the terms offered and the route of its PDF."""
    OPERATIONS_ALERT = "operations_alert"
    """Not for the borrower: an operations alert about a change, committed with the change
    (its data the alert's ``title``, ``severity`` and details) and posted once published,
    so a process that dies after the commit cannot lose it (the recovery job publishes it).
    """

    # Members key dicts (what to do on each type of event). `enum.Enum.__hash__` is a Python
    # function (``hash(self._name_)``) that every dict or set lookup calls; a member equals
    # only itself (an Enum has no `__eq__` of its own), so the identity hash, in C, is as
    # correct.
    __hash__ = object.__hash__


@attrs.frozen(slots=False)
class DomainEvent:
    """A fact about a borrower's loan or line, for notifications after commit.

    Not slotted, for speed: on a slotted class attrs keeps the `event_id` cache by giving
    the class a `__getattr__`, and a class with one reads every attribute (an event's
    ``type``, ``user_id``, ...) through CPython's slow attribute hook. Without slots, the
    cached id is kept in the instance's ``__dict__`` and reads take the plain path.
    """

    type: EventType
    user_id: str
    subject_id: str
    """The loan, line, payment or draw the event is about."""
    occurred_on: dt.date
    data: Mapping[str, AuditValue] = attrs.field(factory=dict)
    """Details for the message: amounts in cents, dates as ISO strings."""

    @functools.cached_property
    def event_id(self) -> str:
        """A digest of type, user, subject, day and data: a resend carries the same id.

        Notification services that key events by id (Iterable's ``id``) then update the
        first event instead of making a second one. Computed once per event (the outbox
        keeps an event by its id and clears it by its id again): an event never changes.
        """
        canonical = _CANONICAL.encode(
            [
                self.type._value_,  # `.value` without the enum property's call
                self.user_id,
                self.subject_id,
                self.occurred_on.isoformat(),
                dict(self.data),
            ]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""What ``json.dumps(value, sort_keys=True, separators=(",", ":"))`` encodes with, made once
(`json.dumps` builds an encoder for every call given any option)."""


def event_fields(event: DomainEvent) -> dict[str, str]:
    """The event as text fields (its data as sorted JSON), to keep outside the process.

    A queue message (``resend_notification``) and the event outbox's item store these;
    `event_from_fields` reads them back to the same event, with the same `event_id`.
    """
    return {
        "type": event.type.value,
        "user_id": event.user_id,
        "subject_id": event.subject_id,
        "occurred_on": event.occurred_on.isoformat(),
        "data": json.dumps(dict(event.data), sort_keys=True),
    }


def event_from_fields(fields: Mapping[str, object]) -> DomainEvent:
    """The event `event_fields` wrote.

    Raises:
        ValueError: a field missing, empty or not text, an unknown type, a date that is
            not ISO, or data that is not an object of scalars.
    """

    def text(name: str) -> str:
        value = fields.get(name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"an event needs a {name}, got {value!r}")
        return value

    data = json.loads(text("data"))
    if not isinstance(data, dict) or not all(
        value is None or isinstance(value, str | int | bool) for value in data.values()
    ):
        raise ValueError("an event's data must be an object of scalars")
    return DomainEvent(
        type=EventType(text("type")),
        user_id=text("user_id"),
        subject_id=text("subject_id"),
        occurred_on=dt.date.fromisoformat(text("occurred_on")),
        data=data,
    )


@attrs.frozen
class FieldChange:
    """One field's value before and after a change."""

    field: str
    old: AuditValue
    new: AuditValue


@attrs.frozen
class Change:
    """An audit-ready description of one entity's state change."""

    entity: str
    """The entity type: ``loan``, ``installment``, ``application``, ``line``, ..."""
    entity_id: str
    user_id: str
    process: str
    """What made the change (``AUTOPAY``, ``MANUAL``, ``UNAPPLY``, ``BILLING``, ...)."""
    reason: str
    """Why, in words a support agent can read."""
    fields: tuple[FieldChange, ...]


def render(value: object) -> AuditValue:  # noqa: PLR0911 - a return per kind, fast paths first
    """A field value as audit records store it.

    Dates as ``YYYY-MM-DD`` and timestamps as RFC3339, enums by value, Decimals as their
    exact string, tuples and lists comma-joined.

    Raises:
        TypeError: for a value with no stored form, so nothing is audited as a repr.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # the common cases, first
        return value  # type: ignore[return-value]  # narrowed by the type test above
    exact = _RENDER_EXACT.get(kind)  # dates, timestamps, Decimals: what the chain below does
    if exact is not None:
        return exact(value)
    if isinstance(value, str | int):  # subclasses (bool is an int)
        return value
    if isinstance(value, enum.Enum):
        _learn_enum(type(value))
        return render(value._value_)  # `.value` itself, without the property's call
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return ",".join(str(render(item)) for item in value)
    raise TypeError(f"cannot audit a {type(value).__name__}: {value!r}")


_RENDER_EXACT: dict[type, Callable[[Any], AuditValue]] = {
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
    Decimal: str,
}

renderer_for = _RENDER_EXACT.get
"""`renderer_for(type(value))`: what `render` does for a value of exactly that type (a date,
a timestamp, a Decimal, an enum met before), or None. For the audit recorder's hot loop,
which calls it instead of `render` (one Python call less per rendered value)."""
"""`render` for exactly these types (subclasses take the tests), looked up in one step.

Enum classes join when first rendered (`_learn_enum`).
"""

_PLAIN_VALUES = frozenset({str, int, bool, type(None)})


def _learn_enum(kind: type[enum.Enum]) -> None:
    """Render `kind`'s members by one lookup from now on if each is stored as its own value.

    That is when every member's value is a plain str, int, bool or None (which `render`
    returns as it is), so reading ``_value_`` is exactly what the chain does.
    """
    if all(type(member._value_) in _PLAIN_VALUES for member in kind):
        _RENDER_EXACT[kind] = _ENUM_VALUE


_ENUM_VALUE = operator.attrgetter("_value_")


@attrs.frozen
class AuditRecord:
    """A `Change` as stored: who made it, for which request, and when. Never edited."""

    record_id: str
    change: Change
    actor: str
    """The service, job or person that made the change (``collections-worker``, ``api``)."""
    request_id: str
    """The command, message or event the change was made for."""
    recorded_at: dt.datetime


def diff(
    before: Mapping[str, AuditValue], after: Mapping[str, AuditValue]
) -> tuple[FieldChange, ...]:
    """The fields whose values differ between two snapshots, in `after`'s order.

    A field missing from one snapshot counts as None there.
    """
    get = before.get
    changed = [FieldChange(key, get(key), new) for key, new in after.items() if get(key) != new]
    changed += [
        FieldChange(key, old, None)
        for key, old in before.items()
        if key not in after and old is not None
    ]
    return tuple(changed)


@attrs.define
class Outbox:
    """What commands on one aggregate produced and not yet handed to a unit of work."""

    events: list[DomainEvent] = attrs.field(factory=list)
    changes: list[Change] = attrs.field(factory=list)
    entries: list[JournalEntry] = attrs.field(factory=list)

    def drain(self) -> Outbox:
        """Hand over everything recorded so far and start empty."""
        taken = Outbox(self.events, self.changes, self.entries)
        self.events, self.changes, self.entries = [], [], []
        return taken

    def __bool__(self) -> bool:
        return bool(self.events or self.changes or self.entries)
