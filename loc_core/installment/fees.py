"""Origination fees: fixed cents or a percent of the loan amount.

Built through `OriginationFee.fixed` or `OriginationFee.percentage`, so a fee type never
travels with the wrong kind of value.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from loc_core.errors import InvalidConfiguration, InvalidRate
from loc_core.installment.vocabulary import FeeType
from loc_core.money import HUNDRED, Rounding, non_negative_cents, percent_of, rate

__all__ = ["OriginationFee"]


@attrs.frozen
class OriginationFee:
    """How underwriting priced an offer's origination fee.

    Raises:
        InvalidAmount: for fixed cents that are a float, a bool or negative.
        InvalidRate: for a percent that is a float or outside 0..100.
        InvalidConfiguration: for a fee type given the other type's value.
    """

    fee_type: FeeType
    fixed_cents: int | None = None
    """The fee in cents when `fee_type` is FIXED."""
    percent: Decimal | None = None
    """The fee as a percent of the loan amount when `fee_type` is PERCENTAGE."""

    def __attrs_post_init__(self) -> None:
        if self.fee_type is FeeType.FIXED and self.percent is None:
            non_negative_cents(self.fixed_cents, field="origination fee")
        elif self.fee_type is FeeType.PERCENTAGE and self.fixed_cents is None:
            if not isinstance(self.percent, Decimal):
                kind = (
                    "the float" if isinstance(self.percent, float) else type(self.percent).__name__
                )
                raise InvalidRate(
                    "origination fee percent must be a Decimal such as Decimal('5'), "
                    f"got {kind} {self.percent!r}"
                )
            rate(self.percent, field="origination fee percent", minimum=Decimal(0), maximum=HUNDRED)
        else:
            raise InvalidConfiguration(
                "a fixed fee carries fixed_cents only and a percentage fee a percent only, "
                f"got {self!r}"
            )

    @classmethod
    def fixed(cls, amount: int) -> OriginationFee:
        """A fee of `amount` cents (zero allowed: no fee)."""
        return cls(FeeType.FIXED, fixed_cents=amount)

    @classmethod
    def percentage(cls, percent: Decimal) -> OriginationFee:
        """A fee of `percent` percent of the loan amount, rounded by the product's mode."""
        return cls(FeeType.PERCENTAGE, percent=percent)

    def amount_for(self, loan_amount: int, rounding: Rounding) -> int:
        """The fee in cents on a loan of `loan_amount` cents."""
        if self.percent is not None:
            return percent_of(loan_amount, self.percent, rounding)
        return self.fixed_cents or 0
