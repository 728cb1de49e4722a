"""Billing-cycle dates: monthly on a cycle day 1..28.

A cycle runs from the previous close date (inclusive) to its close date (exclusive).
Billing runs at 08:00 UTC on the close date, before that day's end-of-day balance is
known, so the close date is the first day of the next cycle.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from loc_core import calendar
from loc_core.creditline.config import LATEST_CYCLE_DAY, CreditLineProduct
from loc_core.errors import InvalidConfiguration

__all__ = [
    "cycle_day_for",
    "due_date_for",
    "next_close_after",
    "open_cycle_close",
    "reminder_pending",
    "upcoming_notice_sent",
]

_DECEMBER = 12


def cycle_day_for(
    opened_on: dt.date, product: CreditLineProduct, *, requested: int | None = None
) -> int:
    """The cycle day of a line opened on `opened_on`.

    A requested day wins, then the product's fixed day, then the opening day of month
    (29, 30 and 31 become 28 so every month has the day).

    Raises:
        InvalidConfiguration: a requested day outside 1..28.
    """
    if requested is not None:
        if type(requested) is not int or not 1 <= requested <= LATEST_CYCLE_DAY:
            raise InvalidConfiguration(
                f"cycle_day must be a whole number between 1 and {LATEST_CYCLE_DAY}, "
                f"got {requested!r}"
            )
        return requested
    if product.cycle_day is not None:
        return product.cycle_day
    return min(opened_on.day, LATEST_CYCLE_DAY)


def _next_close_after(day: dt.date, cycle_day: int) -> dt.date:
    """The first date strictly after `day` that falls on `cycle_day`."""
    if day.day < cycle_day:
        return day.replace(day=cycle_day)
    if day.month == _DECEMBER:
        return dt.date(day.year + 1, 1, cycle_day)
    return dt.date(day.year, day.month + 1, cycle_day)


# Cached (a pure function of two immutable values, so no entry can go stale): a line's
# open cycle close is asked several times by every command on the line, and the C cache
# answers in about a quarter of the time the function takes. The keys are a few hundred
# a year (a close or opening date, and a cycle day); the bound only caps a long process.
next_close_after: Callable[[dt.date, int], dt.date] = functools.lru_cache(maxsize=4096)(
    _next_close_after
)


def open_cycle_close(
    *, opened_on: dt.date, cycle_day: int, last_billing_cycle_date: dt.date | None
) -> dt.date:
    """When a line's open cycle closes.

    The first cycle day after its last billed close, or after its opening day before
    its first close.
    """
    return next_close_after(last_billing_cycle_date or opened_on, cycle_day)


def upcoming_notice_sent(
    *, upcoming_notice_cycle: dt.date | None, last_billing_cycle_date: dt.date | None
) -> bool:
    """Has the upcoming-payment notice of the line's latest cycle gone out?

    True too for a line never billed (both None): there is no cycle to remind of yet.
    """
    return upcoming_notice_cycle == last_billing_cycle_date


def reminder_pending(
    *,
    upcoming_notice_cycle: dt.date | None,
    last_billing_cycle_date: dt.date | None,
    next_minimum_payment_due: int,
    paid_since_statement: int,
) -> bool:
    """Could the upcoming job have a notice to send: one not yet out, for a minimum not met?

    False means the job has nothing to do for the line (`decide_upcoming` says so too);
    True leaves the decision to `decide_upcoming` (the due date may still be far).
    """
    return (
        not upcoming_notice_sent(
            upcoming_notice_cycle=upcoming_notice_cycle,
            last_billing_cycle_date=last_billing_cycle_date,
        )
        and next_minimum_payment_due > paid_since_statement
    )


def due_date_for(statement_date: dt.date, product: CreditLineProduct) -> dt.date:
    """Statement date plus the product's days, rolled forward to a Fed business day."""
    return calendar.on_or_after(statement_date + dt.timedelta(days=product.statement_to_due_days))
