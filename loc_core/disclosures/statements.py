"""A line of credit's periodic statement figures (Regulation Z, 12 CFR 1026.7).

Every figure comes from the `Statement` billing wrote, so the summary adds up exactly:
previous balance + draws + fees + interest + reversals - payments + adjustments is the new
balance, because each is a sum of the activity's effects.

The minimum payment warning (1026.7(b)(12), Appendix M1) estimates how long paying only
the minimum each month takes to repay the new balance, with no new draws or fees: the
first payment is this statement's minimum; each later month charges interest at the
monthly periodic rate APR / 12 (App. M1's 365/12 days at APR / 365) and the minimum is
that interest plus the line's principal share: the line's minimum-payment percent when the
caller gives it (the flow does, from the line), otherwise the share this statement's
minimum took of its principal (what billing computed with that percent), applied to each
month's principal and rounded with the product's rounding. The line's rule has no dollar
floor, so a share rounds to nothing once the principal is a few cents; the estimate takes
that month's payment to clear the last cents. A minimum that repays no principal, or an
estimate over 100 years, never repays: the months and total are None.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.statement import Statement
from loc_core.disclosures.figures import StatementDisclosure, StatementTransaction
from loc_core.money import HUNDRED, Rounding, round_cents

__all__ = ["statement_disclosure"]

_CONTEXT = decimal.Context(prec=50, traps=[decimal.InvalidOperation, decimal.DivisionByZero])
_SIX_PLACES = Decimal("0.000001")
_DAYS_IN_YEAR = 365
_MONTHS_IN_YEAR = 12
_LONGEST_ESTIMATE_MONTHS = 1200
"""Past 100 years of minimum payments the estimate says the balance is never repaid."""

_DESCRIPTIONS = {
    ActivityKind.DRAW: "Draw",
    ActivityKind.PAYMENT: "Payment, thank you",
    ActivityKind.REVERSAL: "Payment returned",
    ActivityKind.LATE_FEE: "Late fee",
    ActivityKind.ADJUSTMENT: "Adjustment to an earlier cycle",
}
"""What each kind of activity is called on the statement."""


def _total(items: tuple[CycleActivity, ...]) -> int:
    """The signed sum of what `items` did to the balance."""
    return sum(item.effect.total for item in items)


def _transaction(item: CycleActivity) -> StatementTransaction:
    return StatementTransaction(
        on=item.on,
        kind=item.kind.value.lower(),
        reference=item.reference,
        description=_DESCRIPTIONS[item.kind],
        amount=item.effect.total,
    )


def _minimum_payment_estimate(
    statement: Statement, rounding: Rounding, percent: Decimal | None
) -> tuple[int | None, int | None]:
    """Months and total of paying only the minimum from this statement on (None: never)."""
    new_balance = statement.closing.total
    first = statement.minimum_payment
    if new_balance <= 0:
        return 0, 0
    if first >= new_balance:
        return 1, new_balance
    share = first - statement.interest_charged - statement.fees_charged - statement.past_due_amount
    if share <= 0 or statement.closing.principal <= 0:
        return None, None
    with decimal.localcontext(_CONTEXT):
        share_of_principal = (
            Decimal(share) / Decimal(statement.closing.principal)
            if percent is None
            else percent / HUNDRED
        )
        monthly_rate = statement.apr / HUNDRED / _MONTHS_IN_YEAR
    months, paid, balance = 1, first, new_balance - first
    while balance > 0:
        if months >= _LONGEST_ESTIMATE_MONTHS:
            return None, None
        with decimal.localcontext(_CONTEXT):
            interest = round_cents(balance * monthly_rate, rounding)
            principal = round_cents(balance * share_of_principal, rounding)
        if principal <= 0 or principal >= balance:
            principal = balance
        months += 1
        paid += interest + principal
        balance -= principal
    return months, paid


def statement_disclosure(
    statement: Statement,
    *,
    credit_limit: int,
    product: CreditLineProduct,
    minimum_payment_percent: Decimal | None = None,
) -> StatementDisclosure:
    """The figures a periodic statement discloses for `statement`.

    The balance subject to interest is the cycle's average daily balance, its cent-days
    divided by its days, rounded half-up; the daily periodic rate is APR / 365 in percent,
    rounded half-up to six places. The late fee is what a late minimum would cost: the
    product's fee, never more than the minimum payment (as collections charges it).
    `minimum_payment_percent` (the line's) drives the minimum payment warning's estimate;
    without it the estimate uses the share this statement's minimum took of its principal.
    """
    days = statement.days
    with decimal.localcontext(_CONTEXT):
        daily_rate = (statement.apr / _DAYS_IN_YEAR).quantize(
            _SIX_PLACES, rounding=decimal.ROUND_HALF_UP
        )
        average_daily_balance = (
            round_cents(Decimal(statement.cent_days) / days, Rounding.HALF_UP) if days else 0
        )
    months, total = _minimum_payment_estimate(statement, product.rounding, minimum_payment_percent)
    return StatementDisclosure(
        user_id=statement.user_id,
        line_id=statement.line_id,
        statement_date=statement.statement_date,
        cycle_start=statement.cycle_start,
        cycle_end=statement.cycle_end - dt.timedelta(days=1),
        days_in_cycle=days,
        previous_balance=statement.opening.total,
        payments=-_total(statement.payments),
        draws=_total(statement.draws),
        reversals=_total(statement.reversals),
        adjustments=_total(statement.adjustments),
        fees_charged=statement.fees_charged,
        interest_charged=statement.interest_charged,
        new_balance=statement.closing.total,
        credit_limit=credit_limit,
        available_credit=max(0, credit_limit - statement.closing.principal),
        annual_percentage_rate=statement.apr,
        daily_periodic_rate=daily_rate,
        balance_subject_to_interest=average_daily_balance,
        minimum_payment=statement.minimum_payment,
        past_due_amount=statement.past_due_amount,
        due_date=statement.due_date,
        late_fee=min(product.late_fee_cents, statement.minimum_payment),
        minimum_payment_months=months,
        minimum_payment_total=total,
        transactions=tuple(_transaction(item) for item in statement.activity),
    )
