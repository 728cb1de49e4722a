"""The credit-line product: every policy a lender may tune, with its default.

Rates are `Decimal` in percent units (``Decimal("29.99")`` is 29.99% APR). A product is
validated when it is built, so a line never runs under a configuration that cannot work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import attrs

from loc_core.corrections import CorrectionPolicy
from loc_core.errors import InvalidConfiguration, InvalidRate
from loc_core.money import Rounding, rate

__all__ = ["LATEST_CYCLE_DAY", "CreditLineProduct"]

LATEST_CYCLE_DAY = 28
"""Cycle days stop at 28 so every month has one."""
_LONGEST_BUSINESS_DAY_ROLL = 3
"""A due date rolls at most three days to reach a business day (Saturday, Sunday, holiday)."""
_LATEST_DUE_OFFSET = LATEST_CYCLE_DAY - 1 - _LONGEST_BUSINESS_DAY_ROLL
"""Keeps every due date before the next close, even in a 28-day February cycle."""


def _percent(_instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if type(value) is not Decimal:
        raise InvalidRate(
            f"{attribute.name} must be a Decimal such as Decimal('5'), "
            f"got {type(value).__name__} {value!r}"
        )
    rate(value, field=attribute.name, minimum=Decimal(0))


def _check_whole(field: str, value: object, low: int, high: int | None) -> None:
    if type(value) is not int:
        raise InvalidConfiguration(
            f"{field} must be a whole number, got {type(value).__name__} {value!r}"
        )
    if value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise InvalidConfiguration(f"{field} must be {bounds}, got {value}")


def _whole(
    low: int, high: int | None = None
) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        _check_whole(attribute.name, value, low, high)

    return check


def _cycle_day(
    _instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None:
        _check_whole(attribute.name, value, 1, LATEST_CYCLE_DAY)


def _ttl(_instance: object, attribute: attrs.Attribute[dt.timedelta], value: dt.timedelta) -> None:
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise InvalidConfiguration(f"{attribute.name} must be a positive timedelta, got {value!r}")


def _rounding(_instance: object, attribute: attrs.Attribute[Rounding], value: Rounding) -> None:
    if not isinstance(value, Rounding):
        raise InvalidConfiguration(f"{attribute.name} must be a Rounding, got {value!r}")


@attrs.frozen(kw_only=True)
class CreditLineProduct:
    """The policies one credit-line product runs under (every default is a policy).

    Raises:
        InvalidRate: a rate bound that is a float, not finite, or negative.
        InvalidConfiguration: bounds out of order or days that cannot work together.
    """

    cycle_day: int | None = attrs.field(default=None, validator=_cycle_day)
    """A fixed cycle day (1..28) for every line, or None: the opening day, 29-31 clamped to 28."""
    statement_to_due_days: int = attrs.field(default=21, validator=_whole(1, _LATEST_DUE_OFFSET))
    """Days from the statement to the due date, before rolling to a business day."""
    minimum_payment_percent_min: Decimal = attrs.field(default=Decimal(1), validator=_percent)
    minimum_payment_percent_max: Decimal = attrs.field(default=Decimal(5), validator=_percent)
    apr_min: Decimal = attrs.field(default=Decimal(0), validator=_percent)
    apr_max: Decimal = attrs.field(default=Decimal(36), validator=_percent)
    """36% APR: the usual cap for small-dollar credit."""
    late_fee_cents: int = attrs.field(default=500, validator=_whole(0))
    """One late fee per cycle, never more than the minimum payment it was late on."""
    default_after_days_past_due: int = attrs.field(default=90, validator=_whole(1))
    upcoming_notice_days: int = attrs.field(default=7, validator=_whole(1))
    """How many days before the due date the borrower hears about the payment."""
    application_ttl: dt.timedelta = attrs.field(default=dt.timedelta(hours=24), validator=_ttl)
    rounding: Rounding = attrs.field(default=Rounding.HALF_UP, validator=_rounding)
    """How interest and the minimum payment's principal share become whole cents."""
    corrections: CorrectionPolicy = attrs.field(factory=CorrectionPolicy)
    """How far back a correction (a late return, a backdated payment) may reach, and
    whether a cycle missed only because of a returned payment gets a late fee."""
    max_movements_per_cycle: int = attrs.field(default=20, validator=_whole(1))
    """The draws and payments a borrower may start in one billing cycle: the line's
    stored item holds each of its open and last cycles' (`loc_core.creditline.capacity`),
    and an item is bounded. Money that already moved (a rail's settlement, a return, the
    due job's debit, a correction) is always booked, past it too."""
    max_disputes_per_line: int = attrs.field(default=12, validator=_whole(1))
    """The billing-error disputes a line may have OPEN at one time (resolved ones never
    count: each dispute is an item of its own, `loc_core.creditline.capacity`). Each open
    one holds its amount back and waits for an operator's investigation; a notice past
    the bound is refused and operations are alerted to handle it by hand."""

    def __attrs_post_init__(self) -> None:
        if not Decimal(0) < self.minimum_payment_percent_min <= self.minimum_payment_percent_max:
            raise InvalidConfiguration(
                "minimum payment percent bounds must satisfy 0 < min <= max, got "
                f"[{self.minimum_payment_percent_min}, {self.minimum_payment_percent_max}]"
            )
        if self.minimum_payment_percent_max > Decimal(100):
            raise InvalidRate(
                "minimum_payment_percent_max must be at most 100, got "
                f"{self.minimum_payment_percent_max}"
            )
        if self.apr_min > self.apr_max:
            raise InvalidConfiguration(
                f"APR bounds must satisfy min <= max, got [{self.apr_min}, {self.apr_max}]"
            )
        if not isinstance(self.corrections, CorrectionPolicy):
            raise InvalidConfiguration(
                f"corrections must be a CorrectionPolicy, got {self.corrections!r}"
            )
        if self.upcoming_notice_days > self.statement_to_due_days:
            raise InvalidConfiguration(
                f"upcoming_notice_days ({self.upcoming_notice_days}) must not exceed "
                f"statement_to_due_days ({self.statement_to_due_days}): the notice would come "
                "before the statement"
            )

    def check_apr(self, value: object) -> Decimal:
        """Return `value` as an APR within this product's bounds, or raise `InvalidRate`."""
        return rate(value, field="apr", minimum=self.apr_min, maximum=self.apr_max)

    def check_minimum_payment_percent(self, value: object) -> Decimal:
        """Return `value` as a minimum-payment percent within bounds, or raise `InvalidRate`."""
        return rate(
            value,
            field="minimum_payment_percent",
            minimum=self.minimum_payment_percent_min,
            maximum=self.minimum_payment_percent_max,
        )
