"""What every credit-line command shares: the date guard, accrual, audit and the outbox.

The audit helpers here fix the line's user and unaudited fields for the shared recorder
in `loc_core.audit`.

A command validates first (nothing here mutates until it is called after validation),
then snapshots the entities it will change, mutates them, and records one `Change` per
entity together with its journal entries and events.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from decimal import Decimal

import attrs

from loc_core import audit, bookkeeping
from loc_core.audit import Process
from loc_core.bookkeeping import Movement, Product
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.balances import Balances
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.draw import Draw
from loc_core.creditline.payment import LocPayment
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import OutOfOrder
from loc_core.events import AuditValue, DomainEvent, EventType
from loc_core.ledger import JournalEntry
from loc_core.money import round_cents

__all__ = [
    "Process",
    "accrue",
    "book_activity",
    "book_allowance",
    "emit",
    "interest_for",
    "record",
    "record_line",
    "require_in_order",
    "snapshot",
]

_DAYS_IN_YEAR = 365
# Enough digits that cent-days x APR / 36,500 is exact to far below half a cent.
_INTEREST_CONTEXT = decimal.Context(prec=60)
_NOT_AUDITED = frozenset(
    {"draws", "payments", "outbox", "cycle_activity", "last_statement", "cycle_opening", "version"}
)


def snapshot(entity: attrs.AttrsInstance) -> dict[str, AuditValue]:
    """The audited fields of a line, draw or payment (`audit.snapshot`), in field order."""
    return audit.snapshot(entity, skip=_NOT_AUDITED)


def record(
    line: LineState,
    entity: LineState | Draw | LocPayment,
    *,
    before: Mapping[str, AuditValue],
    process: Process,
    reason: str,
) -> None:
    """Add the `Change` of `entity` (the line, a draw or a payment) since `before`, if any."""
    kind, entity_id = entity.audit_key()
    found = audit.change(
        entity=kind,
        entity_id=entity_id,
        user_id=line.user_id,
        before=before,
        after=snapshot(entity),
        process=process,
        reason=reason,
    )
    if found is not None:
        line.outbox.changes.append(found)


def record_line(
    line: LineState, *, before: Mapping[str, AuditValue], process: Process, reason: str
) -> None:
    """`record` the line's own change, from `before` to its state now."""
    record(line, line, before=before, process=process, reason=reason)


def book_activity(
    line: LineState,
    kind: ActivityKind,
    *,
    reference: str,
    effect: Balances,
    entry: JournalEntry,
    on: dt.date,
) -> None:
    """Post a draw, payment or reversal: its entry, a DEFAULTED line's allowance, its activity.

    `effect` is what it did to each bucket; its total is the balance's change.
    """
    line.outbox.entries.append(entry)
    book_allowance(line, effect.total, cause=reference, on=on)
    line.cycle_activity.append(
        CycleActivity(
            kind=kind, reference=reference, on=on, amount=abs(effect.total), effect=effect
        )
    )


def require_in_order(line: LineState, on: dt.date) -> None:
    """Refuse a command dated before the line's latest activity or past an unbilled close.

    Raises:
        OutOfOrder: with the date the command needs instead.
    """
    if on < line.accrued_through:
        raise OutOfOrder(
            f"line {line.line_id} already has activity on {line.accrued_through}; "
            f"a command dated {on} would rewrite its past",
            about=line,
        )
    if on >= line.next_close_date:
        raise OutOfOrder(
            f"line {line.line_id}'s cycle closed on {line.next_close_date} and is not billed; "
            f"bill it before recording activity dated {on}",
            about=line,
        )


def accrue(line: LineState, on: dt.date) -> None:
    """Add the cent-days from the last change up to (not including) `on`.

    A DEFAULTED line is charged off and accrues nothing (non-accrual).
    """
    days = (on - line.accrued_through).days
    if days > 0:
        if line.status is not LineStatus.DEFAULTED:
            line.accrued_cent_days += line.principal_balance * days
        line.accrued_through = on


def interest_for(cent_days: int, apr: Decimal, product: CreditLineProduct) -> int:
    """Interest on a cycle's cent-days: cent-days x APR% / 365, rounded once."""
    exact = _INTEREST_CONTEXT.divide(
        _INTEREST_CONTEXT.multiply(Decimal(cent_days), apr), Decimal(100 * _DAYS_IN_YEAR)
    )
    return round_cents(exact, product.rounding)


def emit(
    line: LineState,
    event_type: EventType,
    *,
    subject_id: str,
    on: dt.date,
    data: Mapping[str, AuditValue],
) -> None:
    """Record a borrower-facing event, sent once the unit of work commits."""
    line.outbox.events.append(DomainEvent(event_type, line.user_id, subject_id, on, dict(data)))


def book_allowance(line: LineState, delta: int, *, cause: str, on: dt.date) -> None:
    """Keep a DEFAULTED line's allowance equal to what it still owes.

    A balance that rises after charge-off (by `cause`, a draw or a returned payment) is
    charged off too; one that falls (a payment) is a recovery that releases the allowance.
    """
    if line.status is not LineStatus.DEFAULTED or delta == 0:
        return
    if delta > 0:
        entry = bookkeeping.charge_off(
            product=Product.CREDITLINE,
            cause=cause,
            reference=line.line_id,
            amount=delta,
            on=on,
            movement=Movement.CHARGE_OFF,
        )
    else:
        entry = bookkeeping.recovery(
            product=Product.CREDITLINE, cause=cause, reference=line.line_id, amount=-delta, on=on
        )
    line.outbox.entries.append(entry)
