"""An installment offer's Truth-in-Lending figures and its APR (Regulation Z, Appendix J).

The APR is the actuarial rate of 12 CFR 1026 Appendix J. The unit period is the
schedule's cadence (biweekly: 14 days, 26 unit periods a year). Each payment ``P_k`` falls
``t_k = days_k / 14`` unit periods after the advance, split into whole unit periods
``q_k`` and a fraction ``f_k`` (App. J (b)(5)(iv): days divided by the days of a unit
period, the remainder being the fractional unit period). The periodic rate ``i`` solves the
general equation (App. J (b)(8)) for one advance ``A``:

    A = sum over k of P_k / ((1 + f_k * i) * (1 + i) ** q_k)

The right side falls as ``i`` grows, so bisection finds the one root; it runs on
`Decimal` to a fixed tolerance, so the result is the same on every machine. The APR is
``i`` times the unit periods in a year, in percent, rounded half-up to two places: within
the 1/8 point tolerance of 1026.22(a)(2) by far.

An offer's disclosure assumes the money is advanced on its `disclosed_on` day. A loan
disbursed on a later day has another schedule (the biweekly grid moves with it) and
another APR; `disclosure_holds` says whether the disclosure still describes it, so that
acceptance can disclose the offer again before consummation (1026.17(f)).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from decimal import Decimal

from loc_core.applications import ApplicationStatus
from loc_core.disclosures.figures import LoanDisclosure, ScheduledPayment
from loc_core.errors import ApplicationNotApproved, DomainError, InvalidAmount, InvalidTimestamp
from loc_core.installment.application import LoanApplication
from loc_core.installment.config import InstallmentProduct
from loc_core.installment.schedule import ScheduledInstallment
from loc_core.money import HUNDRED, cents, exact_context, positive_cents

__all__ = ["APR_TOLERANCE", "annual_percentage_rate", "disclosure_holds", "loan_disclosure"]

APR_TOLERANCE = Decimal("0.125")
"""How far, in percentage points, a loan's APR may be from the one disclosed: 1/8 of a
point for a regular transaction (12 CFR 1026.22(a)(2))."""

_CONTEXT = exact_context(50)
_TOLERANCE = Decimal("1e-15")
"""Width of the bisection's last interval for the periodic rate: far below 0.005 %/26."""
_TWO_PLACES = Decimal("0.01")
_ZERO = Decimal(0)
_ONE = Decimal(1)
_DAYS_IN_YEAR = 365


_Term = tuple[int, Decimal, int]
"""A payment as the equation sees it: whole unit periods, fraction, amount in cents."""


def _present_value(rate: Decimal, terms: Sequence[_Term]) -> Decimal:
    """The value at the advance of `terms` discounted at the periodic `rate`."""
    with decimal.localcontext(_CONTEXT):
        growth = _ONE + rate
        value = _ZERO
        for whole, fraction, amount in terms:
            value += Decimal(amount) / ((_ONE + fraction * rate) * growth**whole)
        return value


def _terms(
    advanced_on: dt.date, payments: Sequence[ScheduledPayment], unit_period_days: int
) -> list[_Term]:
    """Each payment's time from the advance in unit periods (App. J (b)(5)(iv))."""
    terms: list[_Term] = []
    for payment in payments:
        amount = positive_cents(payment.amount, field=f"payment {payment.number} amount")
        due = _calendar_date(payment.due_date, field=f"payment {payment.number} due date")
        days = (due - advanced_on).days
        if days <= 0:
            raise DomainError(
                f"payment {payment.number} falls due on {payment.due_date}, "
                f"not after the advance on {advanced_on}"
            )
        whole, rest = divmod(days, unit_period_days)
        terms.append((whole, _CONTEXT.divide(rest, unit_period_days), amount))
    return terms


def _calendar_date(value: object, *, field: str) -> dt.date:
    """`value` if it is a calendar date: a datetime counts days unlike a date."""
    if type(value) is not dt.date:
        raise InvalidTimestamp(f"{field} must be a datetime.date, got {value!r}", key=field)
    return value


def _periodic_rate(amount_financed: int, terms: Sequence[_Term]) -> Decimal:
    """The rate per unit period that makes `terms` worth `amount_financed`, by bisection.

    Payments worth more than the amount at rate 0 make the present value fall through
    it exactly once as the rate grows: double the upper bound until it is below, then
    halve the bracket to `_TOLERANCE`.
    """
    target = Decimal(amount_financed)
    low, high = _ZERO, _ONE
    while _present_value(high, terms) > target:
        low, high = high, high * 2
    while high - low > _TOLERANCE:
        middle = (low + high) / 2
        if _present_value(middle, terms) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def annual_percentage_rate(
    *,
    amount_financed: int,
    advanced_on: dt.date,
    payments: Sequence[ScheduledPayment],
    unit_period_days: int = 14,
) -> Decimal:
    """The APR in percent (two places) of `amount_financed` advanced on `advanced_on`.

    A unit period of `unit_period_days` days makes ``365 // unit_period_days`` unit periods
    a year (26 for biweekly, 52 for weekly, as Appendix J counts them). The percent is
    rounded half-up to two places; payments that only return the amount give exactly 0.

    Raises:
        DomainError: without payments, with a payment due on or before the advance, with
            payments totalling less than the amount financed (no finance charge can be
            negative), or with a unit period that is not 1 to 365 days (Appendix J's unit
            period is at most a year: a longer one would make 0 unit periods a year).
        InvalidAmount: for an amount financed or a payment that is not positive integer
            cents (a float, a bool, a Decimal, zero or negative).
        InvalidTimestamp: for an advance or due date that is not a `datetime.date`.
    """
    if type(unit_period_days) is not int or not 0 < unit_period_days <= _DAYS_IN_YEAR:
        raise DomainError(
            f"unit_period_days must be an int from 1 to {_DAYS_IN_YEAR}, got {unit_period_days!r}"
        )
    financed = cents(amount_financed, field="amount financed")
    if financed <= 0:
        raise InvalidAmount(f"amount financed must be positive, got {financed} cents")
    advanced_on = _calendar_date(advanced_on, field="advanced_on")
    if not payments:
        raise DomainError("an APR needs at least one payment")
    terms = _terms(advanced_on, payments, unit_period_days)
    total = sum(payment.amount for payment in payments)
    if total < financed:
        raise DomainError(
            f"payments of {total} cents repay less than the {financed} cents financed"
        )
    if total == financed:
        return _ZERO.quantize(_TWO_PLACES, context=_CONTEXT)
    periods_a_year = _DAYS_IN_YEAR // unit_period_days
    with decimal.localcontext(_CONTEXT):
        percent = _periodic_rate(financed, terms) * periods_a_year * HUNDRED
    return percent.quantize(_TWO_PLACES, rounding=decimal.ROUND_HALF_UP, context=_CONTEXT)


def loan_disclosure(application: LoanApplication, product: InstallmentProduct) -> LoanDisclosure:
    """The Truth-in-Lending figures of an APPROVED application's offer.

    Everything comes from the offer itself: the proposed schedule (numbered from 1) is the
    payment schedule, advanced on the offer's `disclosed_on` day (the approval's, or the
    day it was disclosed again); the amount disbursed is the amount financed, the
    origination fee the prepaid finance charge; the late-charge terms come from `product`.

    Raises:
        ApplicationNotApproved: for an application that is not APPROVED or carries no
            loan number: it makes no offer to disclose.
    """
    if application.status is not ApplicationStatus.APPROVED or application.loan_number is None:
        raise ApplicationNotApproved(
            f"application {application.application_id} is {application.status.value}: "
            "there is no offer to disclose",
            about=application.ref,
        )
    payments = _payments(application.proposed_schedule)
    disclosed_on = application.disclosed_on
    total_of_payments = sum(payment.amount for payment in payments)
    amount_financed = application.amount_disbursed
    return LoanDisclosure(
        user_id=application.user_id,
        application_id=application.application_id,
        loan_number=application.loan_number,
        disclosed_on=disclosed_on,
        loan_amount=application.loan_amount,
        origination_fee=application.origination_fee,
        amount_financed=amount_financed,
        finance_charge=total_of_payments - amount_financed,
        total_of_payments=total_of_payments,
        annual_percentage_rate=annual_percentage_rate(
            amount_financed=amount_financed,
            advanced_on=disclosed_on,
            payments=payments,
            unit_period_days=application.repayment_cadence.days,
        ),
        payments=payments,
        grace_days=product.grace_days,
        late_fee_fixed=product.late_fee_fixed,
        late_fee_percent=product.late_fee_percent,
        late_fee_cap_percent=product.late_fee_cap_percent,
    )


def disclosure_holds(
    application: LoanApplication,
    *,
    schedule: Sequence[ScheduledInstallment],
    disbursed_on: dt.date,
) -> bool:
    """Whether the offer's disclosure describes its loan repaid on `schedule` from `disbursed_on`.

    It does when every due date and amount is the one disclosed and the loan's APR is
    within `APR_TOLERANCE` of the disclosed APR. Both can fail apart: a day later moves
    the biweekly grid, and a Saturday's and a Sunday's schedules both roll to Mondays
    while the money is advanced a day later, which raises the APR by more than 1/8 point.

    Raises:
        DomainError: for a payment of `schedule` due on or before `disbursed_on`.
    """
    disclosed = _payments(application.proposed_schedule)
    payments = _payments(schedule)
    if payments != disclosed:
        return False
    if disbursed_on == application.disclosed_on:
        return True
    days = application.repayment_cadence.days
    financed = application.amount_disbursed
    disclosed_rate = annual_percentage_rate(
        amount_financed=financed,
        advanced_on=application.disclosed_on,
        payments=disclosed,
        unit_period_days=days,
    )
    rate = annual_percentage_rate(
        amount_financed=financed, advanced_on=disbursed_on, payments=payments, unit_period_days=days
    )
    return abs(rate - disclosed_rate) <= APR_TOLERANCE


def _payments(schedule: Sequence[ScheduledInstallment]) -> tuple[ScheduledPayment, ...]:
    """A schedule as the disclosure's payments, numbered from 1."""
    return tuple(
        ScheduledPayment(number=number, due_date=item.due_date, amount=item.amount)
        for number, item in enumerate(schedule, start=1)
    )
