"""The installment product's configuration: every policy number in one validated value.

A loan keeps the product it was made under, so changing the policy for new loans never
changes the terms of loans already made.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loc_core.corrections import CorrectionPolicy
from loc_core.errors import InvalidConfiguration, InvalidRate
from loc_core.installment.vocabulary import RepaymentCadence
from loc_core.money import HUNDRED, Rounding, percent_of, rate
from loc_core.returns import MAX_PRESENTMENTS

__all__ = ["InstallmentProduct"]

_ZERO = Decimal(0)


def _whole(value: object, name: str, minimum: int) -> int:
    if type(value) is not int:
        raise InvalidConfiguration(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise InvalidConfiguration(f"{name} must be at least {minimum}, got {value}")
    return value


def _percent(value: object, name: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise InvalidConfiguration(
            f"{name} must be a Decimal percent such as Decimal('5'), "
            f"got {type(value).__name__} {value!r}"
        )
    try:
        return rate(value, field=name, minimum=_ZERO, maximum=HUNDRED)
    except InvalidRate as exc:
        raise InvalidConfiguration(str(exc)) from exc


@attrs.frozen(kw_only=True)
class InstallmentProduct:
    """The policy of an installment-loan product; the defaults are those of domain.md.

    Raises:
        InvalidConfiguration: when a value has the wrong type, is out of range, or
            contradicts another (such as a default count outside the count bounds).
    """

    min_installments: int = 4
    """Fewest installments an offer may have."""
    max_installments: int = 8
    """Most installments an offer may have."""
    default_installments: int = 6
    """Installments of an offer when underwriting does not choose."""
    cadence: RepaymentCadence = RepaymentCadence.BIWEEKLY
    """Time between two due dates (biweekly: 14 days) before rolling to business days."""
    application_ttl: dt.timedelta = dt.timedelta(hours=24)
    """How long an approved offer can be accepted."""
    grace_days: int = 5
    """Calendar days after the due date before an unpaid installment becomes OVERDUE
    (that day counts); 0 means the day after the due date (`overdue_on`)."""
    late_fee_fixed: int = 500
    """Late fee in cents, unless the percent of the installment is lower."""
    late_fee_percent: Decimal = Decimal(5)
    """Late fee as a percent of the installment total, when lower than the fixed fee."""
    late_fee_cap_percent: Decimal = Decimal(25)
    """All late fees of one loan together stay at or below this percent of the loan amount."""
    default_after_days: int = 60
    """Calendar days an installment stays OVERDUE before its loan defaults."""
    max_collection_attempts: int = 3
    """Autopay attempts per installment before collections stops trying; at most
    `loc_core.returns.MAX_PRESENTMENTS` (3), NACHA's limit on presenting one entry."""
    fee_rounding: Rounding = Rounding.HALF_UP
    """How percentage fees (origination and late) round to the cent."""
    corrections: CorrectionPolicy = attrs.field(factory=CorrectionPolicy)
    """How far back a return or a backdated payment may correct a loan's history."""
    max_manual_payments_per_loan: int = 100
    """The manual payments a loan may take (an operator's backdated ones count too): every
    installment item keeps each payment applied to it, and an item is bounded
    (`loc_core.installment.capacity`). A borrower's payment past it is refused; money
    that already moved (autopay, a settlement, a backdated payment, the recovery job's
    booking) is always booked, past it too."""

    def __attrs_post_init__(self) -> None:
        lowest = _whole(self.min_installments, "min_installments", 1)
        highest = _whole(self.max_installments, "max_installments", 1)
        default = _whole(self.default_installments, "default_installments", 1)
        if lowest > highest:
            raise InvalidConfiguration(
                f"min_installments ({lowest}) must not exceed max_installments ({highest})"
            )
        if not lowest <= default <= highest:
            raise InvalidConfiguration(
                f"default_installments ({default}) must lie within "
                f"min_installments..max_installments ({lowest}..{highest})"
            )
        if not isinstance(self.cadence, RepaymentCadence):
            raise InvalidConfiguration(f"cadence must be a RepaymentCadence, got {self.cadence!r}")
        ttl = self.application_ttl
        if not isinstance(ttl, dt.timedelta) or ttl <= dt.timedelta(0):
            raise InvalidConfiguration(f"application_ttl must be a positive timedelta, got {ttl!r}")
        _whole(self.grace_days, "grace_days", 0)
        _whole(self.late_fee_fixed, "late_fee_fixed (cents)", 0)
        _percent(self.late_fee_percent, "late_fee_percent")
        _percent(self.late_fee_cap_percent, "late_fee_cap_percent")
        _whole(self.default_after_days, "default_after_days", 1)
        _whole(self.max_manual_payments_per_loan, "max_manual_payments_per_loan", 1)
        if _whole(self.max_collection_attempts, "max_collection_attempts", 1) > MAX_PRESENTMENTS:
            raise InvalidConfiguration(
                f"max_collection_attempts must be at most {MAX_PRESENTMENTS} (NACHA: an entry "
                f"is presented at most three times), got {self.max_collection_attempts}"
            )
        if not isinstance(self.fee_rounding, Rounding):
            raise InvalidConfiguration(
                f"fee_rounding must be a Rounding mode, got {self.fee_rounding!r}"
            )
        if not isinstance(self.corrections, CorrectionPolicy):
            raise InvalidConfiguration(
                f"corrections must be a CorrectionPolicy, got {self.corrections!r}"
            )

    def overdue_on(self, due_date: dt.date) -> dt.date:
        """The day an installment due `due_date`, still unpaid, becomes OVERDUE.

        `grace_days` after the due date, and never the due date itself: the borrower has
        the whole due date to pay, and the daily job runs before it ends, so with no
        grace days it is the day after.
        """
        return due_date + dt.timedelta(days=max(self.grace_days, 1))

    def late_fee_for(self, installment_total: int) -> int:
        """The late fee for an installment of `installment_total` cents, before the loan cap."""
        by_percent = percent_of(installment_total, self.late_fee_percent, self.fee_rounding)
        return min(self.late_fee_fixed, by_percent)

    def late_fee_cap(self, loan_amount: int) -> int:
        """Most late fees one loan of `loan_amount` cents may ever be charged.

        Rounded down: a cap is a limit, so it never rounds up past its percent.
        """
        return percent_of(loan_amount, self.late_fee_cap_percent, Rounding.DOWN)

    def allows_installments(self, count: int) -> bool:
        """Whether an offer may have `count` installments."""
        return self.min_installments <= count <= self.max_installments
