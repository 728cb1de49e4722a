"""Closing a line: only when nothing is owed, pending or accruing."""

from __future__ import annotations

import datetime as dt

from loc_core.creditline._bookkeeping import Process, require_in_order, step
from loc_core.creditline._state import LineState
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import InvalidTransition
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
