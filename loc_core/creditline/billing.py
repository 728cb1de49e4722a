"""Closing a billing cycle: interest, the statement, the next minimum payment and due date.

Runs at 08:00 UTC on the close date. The cycle is [previous close, close): the close
date's own end-of-day balance is not known yet, so that day belongs to the next cycle.
Interest is the cycle's cent-days (end-of-day principal summed over its days) x APR / 365,
rounded once, half-up; it never accrues on interest or fees. Less, in a replay, the part of
it a billing-error dispute found in error (`dispute.credited_errors`).
"""

from __future__ import annotations

import datetime as dt

from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.creditline._bookkeeping import (
    Process,
    book_allowance,
    emit,
    interest_for,
    step,
)
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.balances import Balances
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.credit import credit_for, take_credit
from loc_core.creditline.cycles import due_date_for
from loc_core.creditline.delinquency import first_late_day
from loc_core.creditline.dispute import DisputedCharge, credited_errors
from loc_core.creditline.statement import (
    Statement,
    credit_movements,
    cycle_year,
    statement_document_path,
)
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import CycleNotClosed, InvalidTransition, InvariantViolation, OutOfOrder
from loc_core.events import EventType
from loc_core.ledger import Bucket, JournalEntry, income, receivable
from loc_core.money import percent_of

__all__: list[str] = []

_ONE_DAY = dt.timedelta(days=1)

_NOT_SENT = frozenset({LineStatus.CLOSED, LineStatus.DEFAULTED})
"""Lines whose statements are kept but not sent: a CLOSED line, and a DEFAULTED one,
charged off and charged no more interest or fees (Regulation Z 1026.5(b)(2)(i))."""
# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_DEFAULTED = LineStatus.DEFAULTED
_CREDIT_APPLIED, _LATE_FEE = ActivityKind.CREDIT_APPLIED, ActivityKind.LATE_FEE


def bill_cycle(
    line: LineState, *, close_date: dt.date, today: dt.date, product: CreditLineProduct
) -> Statement | None:
    """The rule of `CreditLine.bill_cycle` (documented there)."""
    if line.last_billing_cycle_date is not None and close_date <= line.last_billing_cycle_date:
        return None
    if close_date > today:
        raise CycleNotClosed(
            f"line {line.line_id}'s cycle closing {close_date} cannot be billed on {today}",
            about=line,
        )
    due_close = line.next_close_date
    if close_date > due_close:
        raise OutOfOrder(
            f"line {line.line_id} must bill its cycle closing {due_close} before {close_date}",
            about=line,
        )
    if close_date < due_close:
        raise InvalidTransition(
            f"{close_date} is not a close date of line {line.line_id} "
            f"(cycle day {line.cycle_day}); its open cycle closes {due_close}",
            about=line,
        )
    statement, entry, applied = _statement(line, close_date, product)
    carried_since = first_late_day(line, close_date)
    billed = f"cycle {statement.cycle_start} to {close_date} billed"
    with step(line, close_date, process=Process.BILLING, reason=billed) as changes:
        line.interest_balance += statement.interest_charged
        if entry is not None:
            line.outbox.entries.append(entry)
        if applied.total:
            cause = _close_cause(line, close_date)
            line.outbox.entries.append(
                take_credit(line, applied, cause=cause, on=close_date, changes=changes)
            )
            book_allowance(line, applied.total, cause=cause, on=close_date)
        line.last_statement = statement
        line.next_minimum_payment_due = statement.minimum_payment
        line.next_due_date = statement.due_date
        line.carried_past_due = statement.past_due_amount
        line.carried_past_due_since = carried_since
        line.paid_since_statement = 0
        line.cycle_opening = statement.closing
        line.cycle_activity = []
        line.accrued_cent_days = 0
        line.corrected_fees_this_year = 0
        line.corrected_interest_this_year = 0
        line.late_fee_entries = 0  # the new cycle's fee, if any, is its first
        line.last_billing_cycle_date = close_date
        if line.status is _DEFAULTED:  # kept, not sent: a correction may send it
            line.withheld_statements = (*line.withheld_statements, close_date)
    if line.status not in _NOT_SENT:
        emit(
            line,
            EventType.LOC_STATEMENT_READY,
            subject_id=line.line_id,
            on=close_date,
            data={
                "statement_date": close_date.isoformat(),
                "closing_balance": statement.closing.total,
                "minimum_payment": statement.minimum_payment,
                "due_date": statement.due_date.isoformat(),
                "document": statement_document_path(line.line_id, close_date),
                # The notice of a varying debit's amount and date (Regulation E 1005.10(d)):
                # on the due date autopay debits the minimum less the payments made before.
                "autopay": line.autopay_enabled,
                "autopay_amount": statement.minimum_payment if line.autopay_enabled else 0,
            },
        )
    return statement


def _statement(
    line: LineState, close_date: dt.date, product: CreditLineProduct
) -> tuple[Statement, JournalEntry | None, Balances]:
    """Compute the cycle's figures without touching the line, checking they add up.

    Also returns what the line's credit balance pays of the close's balance (negative
    buckets; `credit.credit_for`), which the statement already counts.
    """
    days = (close_date - line.accrued_through).days
    accruing = line.status is not _DEFAULTED
    cent_days = line.accrued_cent_days + (line.principal_balance * days if accruing else 0)
    # The part of this cycle's interest charge found in billing error (a replay's only).
    credited = credited_errors(line.disputes, DisputedCharge.INTEREST, close_date.isoformat())
    interest = max(0, interest_for(cent_days, line.apr, product) - credited)
    owed = line.balances.plus(Balances(interest=interest))
    applied = credit_for(line, owed)  # the credit balance pays the cycle's interest
    closing = owed.plus(applied)
    activity = tuple(line.cycle_activity)
    if applied.total:
        activity += (
            CycleActivity(
                kind=ActivityKind.CREDIT_APPLIED,
                reference=_close_cause(line, close_date),
                on=close_date - _ONE_DAY,  # the cycle's last day: its own statement
                amount=-applied.total,
                effect=applied,
            ),
        )
    moved = Balances()
    for item in activity:
        moved = moved.plus(item.effect)
    if line.cycle_opening.plus(moved).plus(Balances(interest=interest)) != closing:
        raise InvariantViolation(
            f"line {line.line_id}: opening {line.cycle_opening} plus the cycle's activity "
            f"{moved} and interest {interest} does not give the balance {closing}",
            about=line,
            invariant="cycle_balance_adds_up",
        )
    fees_charged = sum(item.amount for item in activity if item.kind is _LATE_FEE)
    carried = line.minimum_payment_outstanding
    # A charged-off (DEFAULTED) line bills no new minimum: what was past due stays so.
    new_minimum = (
        interest
        + fees_charged
        + percent_of(closing.principal, line.minimum_payment_percent, product.rounding)
        if accruing
        else 0
    )
    minimum = min(closing.total, new_minimum + carried)
    opening_credit = line.last_statement.closing_credit if line.last_statement else 0
    fees_before, interest_before = _year_to_date(line, close_date)
    statement = Statement(
        line_id=line.line_id,
        user_id=line.user_id,
        cycle_start=line.cycle_start,
        cycle_end=close_date,
        statement_date=close_date,
        opening=line.cycle_opening,
        closing=closing,
        activity=activity,
        apr=line.apr,
        cent_days=cent_days,
        interest_charged=interest,
        fees_charged=fees_charged,
        past_due_amount=carried,
        minimum_payment=minimum,
        due_date=due_date_for(close_date, product),
        opening_credit=opening_credit,
        fees_year_to_date=fees_before + fees_charged,
        interest_year_to_date=interest_before + interest,
        credit_activity=credit_movements(
            (payment.refund for payment in line.payments.values() if payment.refund is not None),
            line_id=line.line_id,
            opening=opening_credit,
            closing=line.refunds_due + applied.total,
            applied=(item for item in activity if item.kind is _CREDIT_APPLIED),
            cycle_start=line.cycle_start,
            cycle_end=close_date,
        ),
    )
    entry = None
    if interest > 0:
        entry = JournalEntry.build(
            entry_id=entry_id(
                f"{line.line_id}:{close_date.isoformat()}",
                Movement.INTEREST,
                product=Product.CREDITLINE,
            ),
            kind=EntryKind.INTEREST,
            effective_date=close_date,
            reference=line.line_id,
            debits={receivable(line.line_id, Bucket.INTEREST): interest},
            credits={income(Bucket.INTEREST): interest},
            memo=f"{cent_days} cent-days at {line.apr}% APR / 365",
        )
    return statement, entry, applied


def _close_cause(line: LineState, close_date: dt.date) -> str:
    """The cause of the credit applied at a cycle's close: ``<line id>:<close date>``."""
    return f"{line.line_id}:{close_date.isoformat()}"


def _year_to_date(line: LineState, close_date: dt.date) -> tuple[int, int]:
    """The fees and interest the year's cycles before this one charged.

    The previous statement's totals when it is of the same calendar year, with what
    corrections since then changed in the cycles those totals cover; a year's first
    statement starts from nothing (a correction of last year's cycles is last year's).
    A statement's year is that of its cycle's last day (`Statement.totals_year`), so a
    cycle closing on January 1 ends December's totals rather than starting January's.
    """
    previous = line.last_statement
    if previous is None or previous.totals_year != cycle_year(close_date):
        return 0, 0
    return (
        previous.fees_year_to_date + line.corrected_fees_this_year,
        previous.interest_year_to_date + line.corrected_interest_this_year,
    )
