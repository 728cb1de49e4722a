"""What a borrower is told about the cost of credit: the figures of each document.

A closed-end loan's agreement discloses the Truth-in-Lending figures of Regulation Z
(12 CFR 1026.18): the annual percentage rate, the finance charge, the amount financed,
the total of payments and the payment schedule. A line's periodic statement discloses
the figures of 12 CFR 1026.7. These classes carry the figures only; the functions of
`loc_core.disclosures` compute them from the offer or statement, and a renderer lays
them out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loc_core.money import format_cents

__all__ = [
    "LineDisclosure",
    "LoanDisclosure",
    "RepaymentIn36Months",
    "ScheduledPayment",
    "StatementDisclosure",
    "StatementTransaction",
    "fee_text",
    "plain_percent",
    "short_date",
    "spoken_date",
]


@attrs.frozen(kw_only=True)
class ScheduledPayment:
    """One row of a loan's payment schedule: its number (from 1), due date and amount."""

    number: int
    due_date: dt.date
    amount: int


@attrs.frozen(kw_only=True)
class LoanDisclosure:
    """The Truth-in-Lending box and schedule of an installment offer (12 CFR 1026.18)."""

    user_id: str
    application_id: str
    loan_number: str
    disclosed_on: dt.date
    """The day the offer was made: the schedule assumes the money is advanced that day."""
    loan_amount: int
    """The principal the borrower is approved for, in cents."""
    origination_fee: int
    """The prepaid finance charge, in cents."""
    amount_financed: int
    """The credit provided to the borrower: the amount disbursed, in cents."""
    finance_charge: int
    """The dollar cost of the credit: total of payments minus amount financed, in cents."""
    total_of_payments: int
    """What the borrower pays when every payment is made as scheduled, in cents."""
    annual_percentage_rate: Decimal
    """The cost of credit as a yearly rate, in percent to two places (``Decimal('36.27')``)."""
    payments: tuple[ScheduledPayment, ...]
    grace_days: int
    """Days after a due date before a payment is late."""
    late_fee_fixed: int
    """The late charge in cents, unless `late_fee_percent` of the payment is lower."""
    late_fee_percent: Decimal
    late_fee_cap_percent: Decimal
    """All late charges of the loan stay at or below this percent of the loan amount."""

    @property
    def late_charge_terms(self) -> str:
        """The agreement's late-charge sentence (1026.18(l)), printed as it stands.

        It names the day the loan charges: an installment still unpaid `grace_days` days
        after its due date is charged that day (that day counts), so a payment made on it
        is already late; with no grace days, the first day after the due date.
        """
        if self.grace_days == 0:
            when = "after its due date"
        else:
            days = "1 day" if self.grace_days == 1 else f"{self.grace_days} days"
            when = f"{days} after its due date"
        return (
            f"If any part of a payment is still unpaid {when}, you will be charged "
            f"{format_cents(self.late_fee_fixed)} or {plain_percent(self.late_fee_percent)} "
            "of the payment, whichever is less; all late charges together stay at or below "
            f"{plain_percent(self.late_fee_cap_percent)} of the loan amount."
        )

    @property
    def prepayment_terms(self) -> str:
        """The agreement's prepayment sentence (1026.18(k)).

        No penalty; and the finance charge, the origination fee, is not figured on the
        unpaid balance, so 1026.18(k)(2) wants it said whether any of it is refunded: none
        is, since paying off early pays every installment's share of the fee.
        """
        penalty = (
            "Prepayment: if you pay off early, you will not have to pay a penalty. You may "
            "pay all or part of the balance at any time."
        )
        if self.finance_charge <= 0:
            return penalty
        return (
            f"{penalty} If you pay off early, you will not be entitled to a refund of any "
            f"part of the finance charge ({format_cents(self.finance_charge)})."
        )


@attrs.frozen(kw_only=True)
class LineDisclosure:
    """A line of credit's account-opening disclosure (12 CFR 1026.6(b), model form G-17).

    Every figure is the one the line applies: its APR and minimum-payment percent as
    approved, the product's late fee, due-date offset and correction policy. The line
    charges no annual, draw or returned-payment fee and no minimum interest charge, so
    those rows say "None" (`annual_fee` and the others are 0 and kept as figures so a
    renderer prints what they say, never a sentence of its own).
    """

    user_id: str
    application_id: str
    disclosed_on: dt.date
    """The day of the approval: the terms are the offer's as of then."""
    credit_limit: int
    """In cents."""
    annual_percentage_rate: Decimal
    """The APR for draws, in percent to two places: the daily periodic rate times 365."""
    daily_periodic_rate: Decimal
    """The APR divided by 365, in percent, rounded half-up to six places (as statements
    print it)."""
    minimum_payment_percent: Decimal
    """The share of the principal at the close each minimum payment includes."""
    statement_to_due_days: int
    """Days from each statement to its due date, before rolling to a business day."""
    annual_fee: int
    draw_fee: int
    """A fee per draw (transaction fee), in cents: the line charges none."""
    returned_payment_fee: int
    minimum_interest_charge: int
    late_fee: int
    """The late fee in cents (once per billing cycle, never more than the minimum due)."""
    late_fee_days_after_due: int
    """The day, counted from the due date, on which an unpaid minimum is charged the fee:
    1 is the day after the due date."""
    late_fee_when_missed_by_return: bool
    """Whether a minimum left unpaid only because its payment was returned is charged the
    late fee too."""
    balance_computation_method: str
    """The name of the method (1026.6(b)(4)(i)(D)), as the statement's interest box uses it."""

    @property
    def paying_interest(self) -> str:
        """The "Paying interest" row (1026.6(b)(2)(v)): the line has no grace period."""
        return (
            "You have no grace period on draws: we begin charging interest on each draw on "
            "the day it is made, and interest is charged for every day a balance is owed, "
            "even if you pay your full balance by the due date. Your due date is at least "
            f"{self.statement_to_due_days} days after each statement date."
        )

    @property
    def minimum_interest_terms(self) -> str:
        """The minimum interest charge row (1026.6(b)(2)(iii))."""
        if self.minimum_interest_charge <= 0:
            return "None"
        least = format_cents(self.minimum_interest_charge)
        return f"If you are charged interest, the charge will be no less than {least}."

    @property
    def late_fee_terms(self) -> str:
        """The late payment fee row: amount, when it is charged, its cap; "None" with no fee."""
        if self.late_fee <= 0:
            return "None"
        conditions = self.late_fee_conditions
        return f"{self.late_fee_figure}, {conditions[0].lower()}{conditions[1:]}"

    @property
    def late_fee_figure(self) -> str:
        """The late payment row's amount alone: "Up to $5.00", or "None" with no fee.

        The table prints it in bold (12 CFR 1026.6(b)(1)(i)), `late_fee_conditions` under it.
        """
        return "None" if self.late_fee <= 0 else f"Up to {format_cents(self.late_fee)}"

    @property
    def late_fee_conditions(self) -> str:
        """When the late fee is charged, and its cap, as sentences ("" with no fee)."""
        if self.late_fee <= 0:
            return ""
        day = (
            "the day after the due date"
            if self.late_fee_days_after_due == 1
            else f"{self.late_fee_days_after_due} days after the due date"
        )
        returned = (
            " A minimum left unpaid because its payment was returned is charged the fee too."
            if self.late_fee_when_missed_by_return
            else " A minimum left unpaid only because its payment was returned is not charged"
            " the fee."
        )
        return (
            f"Charged on {day} when the minimum payment has not been paid in full by the end "
            "of the due date; once per billing cycle, and never more than the minimum payment "
            f"due.{returned}"
        )

    @property
    def minimum_payment_terms(self) -> str:
        """How each minimum payment is figured, as billing figures it."""
        return (
            "The interest and fees charged in the billing cycle, plus "
            f"{plain_percent(self.minimum_payment_percent)} of the principal owed at the close "
            "(rounded to the cent), plus any amount past due; never more than the balance."
        )

    @property
    def balance_computation_terms(self) -> str:
        """How the balance for draws is computed (1026.6(b)(2)(vi)), in words."""
        return (
            f'We use a method called "{self.balance_computation_method}": interest is the sum '
            "of the principal owed at the end of each day of the billing cycle (draws count "
            "from the day they are made, payments from the day they are received) times the "
            "APR divided by 365, rounded to the cent once per cycle. Interest and fees are "
            "never charged interest."
        )

    @property
    def billing_rights(self) -> str:
        """The billing rights pointer (1026.6(b)(5)(iii), as model form G-17 words it)."""
        return (
            "Information on your rights to dispute transactions and how to exercise those "
            "rights is provided in your account agreement."
        )


def fee_text(amount: int) -> str:
    """A fee row's value: the amount, or "None" for a fee the line does not charge."""
    return "None" if amount <= 0 else format_cents(amount)


@attrs.frozen(kw_only=True)
class StatementTransaction:
    """One line of a statement's transaction list, signed as it moves the balance."""

    on: dt.date
    kind: str
    """``draw``, ``payment``, ``reversal``, ``late_fee`` or ``adjustment``."""
    reference: str
    description: str
    amount: int
    """Signed cents: a draw or fee is positive, a payment negative."""


@attrs.frozen(kw_only=True)
class RepaymentIn36Months:
    """Repaying the balance in 36 months (1026.7(b)(12)(i)(F), App. M1), whole dollars."""

    monthly_payment: int
    """The equal monthly payment that repays the balance in 36 months, in cents."""
    total: int
    """36 of those payments, in cents."""
    savings: int | None
    """The minimum-only total (whole dollars) less `total`; None when the minimum never
    repays the balance."""


_MONTHS_SHOWN_IN_YEARS = 24
"""From two years on, the estimate is said in years rounded to the nearest year."""


def repayment_period(months: int) -> str:
    """How long an estimate takes, as 1026.7(b)(12)(i)(B) says it: ``about 20 years``.

    Two years or more are said in years, rounded half-up to the nearest year; less in
    months.
    """
    if months < _MONTHS_SHOWN_IN_YEARS:
        return f"{months} month{'' if months == 1 else 's'}"
    years = (months + 6) // 12  # months / 12, half-up, in whole numbers
    return f"{years} years"


@attrs.frozen(kw_only=True)
class StatementDisclosure:
    """A line of credit's periodic statement figures (12 CFR 1026.7)."""

    user_id: str
    line_id: str
    statement_date: dt.date
    cycle_start: dt.date
    cycle_end: dt.date
    """The last day of the cycle (inclusive), as printed."""
    days_in_cycle: int
    previous_balance: int
    payments: int
    """Payments credited in the cycle, as a positive total in cents: each at the amount
    the rail took, including what became a refund due (1026.7(b)(3))."""
    draws: int
    reversals: int
    """Returned or charged-back payments added back (with any refund they cancelled), as a
    positive total."""
    adjustments: int
    """Signed net of the corrections of earlier cycles booked in this one."""
    fees_charged: int
    interest_charged: int
    fees_year_to_date: int
    """Fees charged on this calendar year's statements, this one's included."""
    interest_year_to_date: int
    """Interest charged on this calendar year's statements, this one's included."""
    new_balance: int
    """What is owed less the credit balance: negative when the line owes the borrower."""
    credit_balance: int
    """What the line owes the borrower back at the close (refunds due), 0 or more."""
    credit_limit: int
    available_credit: int
    annual_percentage_rate: Decimal
    """In percent, as the line's agreement states it."""
    daily_periodic_rate: Decimal
    """The APR divided by 365, in percent (to six places)."""
    balance_subject_to_interest: int
    """The average daily balance of the cycle, in cents (rounded half-up)."""
    sum_of_daily_balances: int
    """The cycle's end-of-day principal summed over its days, in cents: the interest is
    this times APR / 365, rounded half-up once."""
    minimum_payment: int
    past_due_amount: int
    due_date: dt.date
    late_fee: int
    """The most that is charged when the minimum payment is not received by the due date
    (the fee is never more than the minimum payment due)."""
    minimum_payment_months: int | None
    """How long paying only the minimum takes to repay the new balance; None if never."""
    minimum_payment_total: int | None
    """What paying only the minimum costs in all; None if it never repays the balance."""
    repayment_in_36_months: RepaymentIn36Months | None
    """Shown when paying only the minimum takes more than 36 months (or never repays)."""
    credit_counseling_phone: str
    """The lender's toll-free number for credit counseling (1026.7(b)(12)(i)(E))."""
    transactions: tuple[StatementTransaction, ...]

    @property
    def late_payment_warning(self) -> str:
        """The late payment warning of 1026.7(b)(11), printed as it stands."""
        return (
            f"If we do not receive your minimum payment by {spoken_date(self.due_date)}, "
            f"you may have to pay a late fee of up to {format_cents(self.late_fee)}, "
            "never more than the minimum payment due."
        )

    @property
    def minimum_payment_warning(self) -> str:
        """The minimum payment warning of 1026.7(b)(12), as printed; "" when nothing is owed."""
        if self.new_balance <= 0:
            return ""
        counseling = (
            " If you would like information about credit counseling services, call "
            f"{self.credit_counseling_phone}."
        )
        in_36 = self._repayment_in_36_months_sentence()
        if self.minimum_payment_months is None or self.minimum_payment_total is None:
            return (
                "Minimum Payment Warning: Even if you make no more draws on this line, if you "
                "make only the minimum payment each month we estimate you will never pay off "
                f"the balance shown on this statement.{in_36}{counseling}"
            )
        return (
            "Minimum Payment Warning: If you make only the minimum payment each period, you "
            "will pay more in interest and it will take you longer to pay off your balance. "
            "If you make no more draws and pay only the minimum each month, you will pay off "
            f"the balance shown on this statement in about "
            f"{repayment_period(self.minimum_payment_months)} and end up paying an estimated "
            f"total of {format_cents(self.minimum_payment_total)}.{in_36}{counseling}"
        )

    def _repayment_in_36_months_sentence(self) -> str:
        plan = self.repayment_in_36_months
        if plan is None:
            return ""
        savings = "" if plan.savings is None else f" (savings of {format_cents(plan.savings)})"
        return (
            f" If you pay {format_cents(plan.monthly_payment)} each month, you will pay off "
            f"the balance in about 3 years and end up paying an estimated total of "
            f"{format_cents(plan.total)}{savings}."
        )

    @property
    def interest_explanation(self) -> str:
        """How the interest charge was figured, in words whose numbers give the charge."""
        return (
            "Your annual percentage rate (APR) is the annual interest rate on your line. "
            "Interest is the sum of your balances at the end of each day of the billing "
            f"cycle ({format_cents(self.sum_of_daily_balances)}) times the APR divided by "
            "365, rounded to the cent once per cycle. The balance subject to interest is that "
            "sum divided by the days, and the daily periodic rate is the APR divided by 365; "
            "both are shown rounded, and the charge uses them unrounded."
        )


def plain_percent(value: Decimal) -> str:
    """A percent as a borrower reads it, never in exponent form: ``Decimal('1E+1')`` -> ``10%``."""
    return f"{value:f}%"


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""Month names in English whatever the host's ``LC_TIME`` (``%B`` follows the locale)."""


def spoken_date(day: dt.date) -> str:
    """A date as a borrower reads it: ``March 5, 2025``."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def short_date(day: dt.date) -> str:
    """A date in a table column, as US statements print it: ``03/05/2025``."""
    return f"{day:%m/%d/%Y}"
