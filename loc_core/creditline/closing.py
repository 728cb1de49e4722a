"""Closing a line: only when nothing is owed, pending or accruing.

A borrower closes an ACTIVE line (`close_line`); a charged-off line closes by itself once a
payment pays it in full (`close_when_paid_off`).
"""

from __future__ import annotations

import datetime as dt

from loc_core.creditline._bookkeeping import Process, emit, require_in_order, step
from loc_core.creditline._state import LineState
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import InvalidTransition
from loc_core.events import EventType
from loc_core.money import format_cents

__all__: list[str] = []


def close_line(line: LineState, *, on: dt.date, reason: str) -> None:
    """The rule of `CreditLine.close` (documented there)."""
    if line.status is LineStatus.CLOSED:
        return
    require_in_order(line, on)
    if line.total_balance:
        raise InvalidTransition(
            f"line {line.line_id} owes {format_cents(line.total_balance)}: "
            "only a line with a zero balance can close",
            about=line,
        )
    if line.pending_draws_total:
        raise InvalidTransition(
            f"line {line.line_id} has {format_cents(line.pending_draws_total)} of pending draws",
            about=line,
        )
    if line.accrued_cent_days:
        raise InvalidTransition(
            f"line {line.line_id} has interest accruing since {line.cycle_start}: "
            f"close it after the statement of {line.next_close_date} is paid",
            about=line,
        )
    with step(line, on, process=Process.CLOSE, reason=reason):
        line.status, line.closed_from = LineStatus.CLOSED, line.status


def close_when_paid_off(
    line: LineState, on: dt.date, *, why: str, payment_id: str | None, announce: bool = True
) -> bool:
    """CLOSE a charged-off (DEFAULTED) line brought to a zero balance (`why`, the audit reason).

    As a DEFAULTED loan paid in full becomes CLOSED: nothing is owed, nothing pending
    (a draw still pending may yet be sent, and is charged off then) and, charged off, the
    line accrues nothing. `closed_from` keeps DEFAULTED, so a return of the payment
    reopens it DEFAULTED and charged off again. Tells the borrower (LOC_CLOSED, naming
    `payment_id`, the payment that paid it) unless `announce` is False. Returns whether
    it closed the line.
    """
    if (
        line.status is not LineStatus.DEFAULTED
        or line.total_balance
        or line.pending_draws_total
        or line.accrued_cent_days
    ):
        return False
    close_line(line, on=on, reason=f"charged-off line paid in full: {why}")
    if announce:
        announce_closed(line, on, payment_id=payment_id)
    return True


def announce_closed(
    line: LineState, on: dt.date, *, payment_id: str | None, corrected: bool = False
) -> None:
    """Tell the borrower a charged-off line is paid in full and closed (LOC_CLOSED)."""
    emit(
        line,
        EventType.LOC_CLOSED,
        subject_id=line.line_id,
        on=on,
        data={
            "line_id": line.line_id,
            "payment_id": payment_id,
            "closed_on": on.isoformat(),
            "closed_from": None if line.closed_from is None else line.closed_from.value,
            "corrected": corrected,
            "refund_due": line.refunds_due,
        },
    )
