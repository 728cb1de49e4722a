"""Repayment schedules: N installments, one cadence apart, on Fed business days.

Unrolled due dates are ``disbursed_on + k * cadence`` for k = 1..N; each is then moved to
the next business day when it falls on a weekend or holiday. Rolling one date never
shifts the next, so the cadence does not drift. Amounts split the total to the cent.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core import calendar
from loc_core.errors import ScheduleError
from loc_core.installment.config import InstallmentProduct
from loc_core.money import cents, split_evenly

__all__ = ["ScheduledInstallment", "build_schedule"]


@attrs.frozen
class ScheduledInstallment:
    """One line of a schedule (``loc_installment_schedule``): what is due, and when."""

    amount: int
    due_date: dt.date


def build_schedule(
    *,
    total_amount: int,
    count: int,
    disbursed_on: dt.date,
    product: InstallmentProduct,
) -> tuple[ScheduledInstallment, ...]:
    """The schedule for repaying `total_amount` cents in `count` installments.

    Amounts come from `split_evenly` (the earliest installments carry the odd cents).

    Raises:
        InvalidAmount: when `total_amount` is not integer cents (a float, say).
        ScheduleError: when `count` is outside the product's bounds, or the total is not
            positive or smaller than `count` (an installment of zero cents).
    """
    total = cents(total_amount, field="total_amount")
    if type(count) is not int or not product.allows_installments(count):
        raise ScheduleError(
            f"installment count must be an int within {product.min_installments}.."
            f"{product.max_installments}, got {count!r}"
        )
    if total <= 0:
        raise ScheduleError(f"a schedule needs a positive total, got {total} cents")
    if total < count:
        raise ScheduleError(
            f"{total} cents cannot make {count} installments of at least one cent each"
        )
    if type(disbursed_on) is not dt.date:
        raise ScheduleError(f"disbursed_on must be a date, got {disbursed_on!r}")
    step = dt.timedelta(days=product.cadence.days)
    return tuple(
        ScheduledInstallment(amount, calendar.on_or_after(disbursed_on + step * number))
        for number, amount in enumerate(split_evenly(total, count), start=1)
    )
