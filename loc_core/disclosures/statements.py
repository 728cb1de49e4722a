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

When paying only the minimum takes more than 36 months (or never repays), the warning
adds what repaying in 36 months takes (1026.7(b)(12)(i)(F), App. M1): the equal monthly
payment that amortizes what is owed in 36 months at the monthly rate APR / 12,
``B x r / (1 - (1 + r)^-36)`` (``B / 36`` at 0 %), rounded half-up to the whole dollar;
its total cost, 36 of those payments; and the savings, the minimum-only total rounded
to the whole dollar less that total.

Money the line owes its borrower back (refunds due, `Statement.closing_credit`) is a
credit balance: a payment is disclosed at the amount credited, what paid a balance plus
what became a refund due (1026.7(b)(3)), and the new balance is what is owed less the
credit balance, negative when the line owes the borrower.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.statement import CreditKind, CreditMovement, Statement
from loc_core.disclosures.figures import (
    RepaymentIn36Months,
    StatementDisclosure,
    StatementTransaction,
)
from loc_core.money import HUNDRED, Rounding, exact_context, round_cents

__all__ = ["CREDIT_COUNSELING_PHONE", "statement_disclosure"]

CREDIT_COUNSELING_PHONE = "1-800-555-0100"
"""The toll-free number the minimum payment warning gives for credit counseling
(1026.7(b)(12)(i)(E)) *(policy)*. The lender sets its own; this default is a fictional
555-01XX placeholder, not a real service."""

_CONTEXT = exact_context(50)
_SIX_PLACES = Decimal("0.000001")
_DAYS_IN_YEAR = 365
_MONTHS_IN_YEAR = 12
_LONGEST_ESTIMATE_MONTHS = 1200
"""Past 100 years of minimum payments the estimate says the balance is never repaid."""
_REPAYMENT_MONTHS = 36
_CENTS_PER_DOLLAR = 100

_DESCRIPTIONS = {
    ActivityKind.DRAW: "Draw",
    ActivityKind.DRAW_RETURNED: "Draw returned by your bank: not owed",
    ActivityKind.PAYMENT: "Payment, thank you",
    ActivityKind.REVERSAL: "Payment returned",
    ActivityKind.LATE_FEE: "Late fee",
    ActivityKind.ADJUSTMENT: "Adjustment to an earlier cycle",
    ActivityKind.CREDIT_APPLIED: "Credit balance applied",
}
"""What each kind of activity is called on the statement."""

_CREDIT_ROWS = {
    CreditKind.REFUND_DUE: (ActivityKind.PAYMENT, "Payment, thank you"),
    CreditKind.REFUND_CANCELLED: (ActivityKind.REVERSAL, "Payment returned"),
    CreditKind.CORRECTION: (ActivityKind.ADJUSTMENT, "Credit balance adjustment"),
    CreditKind.REFUND_PAID: (ActivityKind.ADJUSTMENT, "Refund sent"),
    CreditKind.APPLIED: (ActivityKind.CREDIT_APPLIED, "Credit balance applied"),
}
"""The activity a credit movement belongs to, and its row's description when alone."""


def _total(items: tuple[CycleActivity, ...]) -> int:
    """The signed sum of what `items` did to the balance."""
    return sum(item.effect.total for item in items)


def _credited(statement: Statement, kind: CreditKind) -> int:
    """The signed sum of the cycle's credit movements of `kind`."""
    return sum(move.amount for move in statement.credit_activity if move.kind is kind)


def _transactions(statement: Statement) -> tuple[StatementTransaction, ...]:
    """Each movement at the amount it moved the balance, a refund due with its payment.

    A payment's refund due is part of what was credited (its row reads the whole
    payment), a cancelled refund part of its returned payment, when both are in the
    cycle; a credit movement with no activity of its own in the cycle (a payment on a
    paid-off line, a refund a correction booked in a later cycle than its payment) is a
    row of its own, placed after the rows of its day.
    """
    # The credit balance paying a charge moves the balance and the credit alike: what the
    # borrower owes net (the new balance less the credit balance) does not change, so
    # neither side is a row (a credit card's statement nets a credit balance the same way).
    unpaired = [m for m in statement.credit_activity if m.kind is not CreditKind.APPLIED]
    rows: list[StatementTransaction] = []
    for item in statement.activity:
        if item.kind is ActivityKind.CREDIT_APPLIED:
            continue
        partner = next((move for move in unpaired if _pairs(move, item)), None)
        extra = 0
        if partner is not None:
            unpaired.remove(partner)
            extra = partner.amount
        rows.append(
            StatementTransaction(
                on=item.on,
                kind=item.kind.value.lower(),
                reference=item.reference,
                description=_DESCRIPTIONS[item.kind],
                amount=item.effect.total - extra,
            )
        )
    for move in unpaired:
        kind, description = _CREDIT_ROWS[move.kind]
        at = next((i for i in range(len(rows), 0, -1) if rows[i - 1].on <= move.on), 0)
        rows.insert(
            at,
            StatementTransaction(
                on=move.on,
                kind=kind.value.lower(),
                reference=move.reference,
                description=description,
                amount=-move.amount,
            ),
        )
    return tuple(rows)


_ALONE = frozenset({CreditKind.CORRECTION, CreditKind.REFUND_PAID})
"""Credit movements that are never part of a payment's or return's row."""


def _pairs(move: CreditMovement, item: CycleActivity) -> bool:
    """Whether `move` is part of the payment or return `item` (the same payment's).

    Not necessarily of the same day: a refund a correction created or cancelled is dated
    the day it was booked (docs/corrections.md), its payment's activity the day it
    belongs to. In the same cycle they are one row, at the payment's or return's day.
    """
    kind, _ = _CREDIT_ROWS[move.kind]
    return move.kind not in _ALONE and item.kind is kind and item.reference == move.reference


def _repayment_in_36_months(
    owed: int, apr: Decimal, minimum_only_total: int | None
) -> RepaymentIn36Months:
    """What repaying `owed` in 36 equal monthly payments takes (App. M1), whole dollars."""
    with decimal.localcontext(_CONTEXT):
        rate = apr / HUNDRED / _MONTHS_IN_YEAR
        exact = (
            Decimal(owed) / _REPAYMENT_MONTHS
            if rate == 0
            else Decimal(owed) * rate / (1 - (1 + rate) ** -_REPAYMENT_MONTHS)
        )
        payment = _whole_dollars(exact)
    total = payment * _REPAYMENT_MONTHS
    savings = None if minimum_only_total is None else _whole_dollars(minimum_only_total) - total
    return RepaymentIn36Months(monthly_payment=payment, total=total, savings=savings)


def _whole_dollars(cents: Decimal | int) -> int:
    """`cents` rounded half-up to the nearest whole dollar, in cents."""
    with decimal.localcontext(_CONTEXT):
        dollars = (Decimal(cents) / _CENTS_PER_DOLLAR).quantize(
            Decimal(1), rounding=decimal.ROUND_HALF_UP
        )
    return int(dollars) * _CENTS_PER_DOLLAR


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
    credit_counseling_phone: str = CREDIT_COUNSELING_PHONE,
) -> StatementDisclosure:
    """The figures a periodic statement discloses for `statement`.

    The balance subject to interest is the cycle's average daily balance, its cent-days
    divided by its days, rounded half-up; the daily periodic rate is APR / 365 in percent,
    rounded half-up to six places. The late fee is the most a late minimum can cost: the
    product's fee. Collections never charges more than the minimum payment due, but a
    return learned before the due date can raise that minimum above this statement's, so
    the warning states the highest fee (1026.7(b)(11)(i)), not this minimum.
    `minimum_payment_percent` (the line's) drives the minimum payment warning's estimate;
    without it the estimate uses the share this statement's minimum took of its principal.
    `credit_counseling_phone` is the lender's toll-free credit-counseling number.
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
    owed = statement.closing.total
    in_36_months = (
        _repayment_in_36_months(owed, statement.apr, total)
        if owed > 0 and (months is None or months > _REPAYMENT_MONTHS)
        else None
    )
    return StatementDisclosure(
        user_id=statement.user_id,
        line_id=statement.line_id,
        statement_date=statement.statement_date,
        cycle_start=statement.cycle_start,
        cycle_end=statement.cycle_end - dt.timedelta(days=1),
        days_in_cycle=days,
        previous_balance=statement.opening.total - statement.opening_credit,
        payments=-_total(statement.payments) + _credited(statement, CreditKind.REFUND_DUE),
        draws=_total(statement.draws),
        reversals=_total(statement.reversals) - _credited(statement, CreditKind.REFUND_CANCELLED),
        adjustments=_total(statement.adjustments)
        - _credited(statement, CreditKind.CORRECTION)
        - _credited(statement, CreditKind.REFUND_PAID),
        fees_charged=statement.fees_charged,
        interest_charged=statement.interest_charged,
        fees_year_to_date=statement.fees_year_to_date,
        interest_year_to_date=statement.interest_year_to_date,
        new_balance=owed - statement.closing_credit,
        credit_balance=statement.closing_credit,
        credit_limit=credit_limit,
        available_credit=max(0, credit_limit - statement.closing.principal),
        annual_percentage_rate=statement.apr,
        daily_periodic_rate=daily_rate,
        balance_subject_to_interest=average_daily_balance,
        sum_of_daily_balances=statement.cent_days,
        minimum_payment=statement.minimum_payment,
        past_due_amount=statement.past_due_amount,
        due_date=statement.due_date,
        late_fee=product.late_fee_cents if statement.minimum_payment else 0,
        minimum_payment_months=months,
        minimum_payment_total=total,
        repayment_in_36_months=in_36_months,
        credit_counseling_phone=credit_counseling_phone,
        transactions=_transactions(statement),
    )
