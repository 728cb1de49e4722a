"""What every credit-line command shares: the date guard, accrual, audit and the outbox.

A command validates first (nothing here mutates until it is called after validation),
then changes the line inside one `step`, which snapshots the entities it will change and
records one `Change` per entity (with the shared recorder in `loc_core.audit`), together
with its journal entries and events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from loc_core import bookkeeping
from loc_core.audit import ChangeRecorder, Process
from loc_core.bookkeeping import Movement, Product
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.balances import Balances
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import OutOfOrder
from loc_core.events import AuditValue, DomainEvent, EventType
from loc_core.ledger import JournalEntry
from loc_core.money import exact_context, round_cents

__all__ = [
    "Process",
    "Step",
    "accrue",
    "book_activity",
    "book_allowance",
    "emit",
    "interest_for",
    "require_in_order",
    "step",
]

_DAYS_IN_YEAR = 365
# Enough digits that cent-days x APR / 36,500 is exact to far below half a cent.
_INTEREST_CONTEXT = exact_context(60)
# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_DEFAULTED = LineStatus.DEFAULTED


def step(line: LineState, on: dt.date, *, process: Process, reason: str) -> Step:
    """One audited change of the line dated `on`: snapshot it, accrue to `on`, record after.

    The body changes the line. A draw or payment it creates or changes is `created` or
    `touch`ed on the recorder it is given, with its own reason; its `Change` comes before
    the line's. A body that raises records nothing.
    """
    return Step(line, on, process, reason)


class Step:
    """The context `step` returns: snapshot and accrue on entering, record on leaving.

    A class, not a generator context manager: every line command enters one, and a
    generator's setup and teardown cost several times as much.
    """

    __slots__ = ("_line", "_line_changes", "_on", "_others", "_process", "_reason")

    def __init__(self, line: LineState, on: dt.date, process: Process, reason: str) -> None:
        self._line, self._on, self._process, self._reason = line, on, process, reason

    def __enter__(self) -> ChangeRecorder:
        line = self._line
        self._line_changes = ChangeRecorder(process=self._process, reason=self._reason)
        self._line_changes.touch(line)
        accrue(line, self._on)
        self._others = ChangeRecorder(process=self._process, reason=self._reason)
        return self._others

    def __exit__(self, error_type: type[BaseException] | None, *_exc: object) -> None:
        if error_type is None:
            self._line.outbox.changes.extend(
                [*self._others.changes(), *self._line_changes.changes()]
            )


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
        if line.status is not _DEFAULTED:
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
    if line.status is not _DEFAULTED or delta == 0:
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
