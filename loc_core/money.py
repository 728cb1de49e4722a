"""Money: integer cents for amounts, `Decimal` from strings for rates, one rounding helper.

Amounts are plain `int` cents. They are checked where they enter the domain
(`cents`, `positive_cents`); floats, bools and Decimals are refused there, so arithmetic
inside the core never sees anything but whole cents.

Rates and percentages are `Decimal` built from strings (`rate("35.99")`) and are always in
*percent* units: ``Decimal("5")`` is five percent. Every conversion from a fractional
value back to cents goes through `round_cents` with an explicit `Rounding` mode.

Splits place every cent: the parts of `split_evenly` and `waterfall` always add up to
the whole.
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Sequence
from decimal import Decimal

from loc_core.errors import InvalidAmount, InvalidRate

__all__ = [
    "HUNDRED",
    "Rounding",
    "cents",
    "exact_context",
    "format_cents",
    "non_negative_cents",
    "percent_of",
    "positive_cents",
    "rate",
    "round_cents",
    "split_evenly",
    "waterfall",
]

HUNDRED = Decimal(100)
_ONE = Decimal(1)


def exact_context(precision: int) -> decimal.Context:
    """A decimal context of `precision` digits that owes nothing to the host process.

    ``decimal.Context(prec=...)`` copies every attribute it is not given (rounding,
    traps, exponent limits) from ``decimal.DefaultContext`` as it is at that moment, and
    bare `Decimal` arithmetic runs in the calling thread's `decimal.getcontext()`: both
    belong to whoever imported the library. So every computation here that can round or
    signal runs in a context built by this function, each attribute given: banker's
    rounding at the last digit (far below a cent), and only a real defect trapped
    (an invalid operation, a division by zero, an overflow), never `Inexact`.
    """
    return decimal.Context(
        prec=precision,
        rounding=decimal.ROUND_HALF_EVEN,
        Emin=-999_999,
        Emax=999_999,
        capitals=1,
        clamp=0,
        flags=[],
        traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
    )


# Enough digits that no amount or interest sum this library handles loses precision.
_CONTEXT = exact_context(60)


class Rounding(enum.Enum):
    """How a fractional amount of cents becomes whole cents."""

    HALF_UP = decimal.ROUND_HALF_UP
    """Half a cent rounds away from zero: the default for fees and interest."""
    HALF_EVEN = decimal.ROUND_HALF_EVEN
    """Banker's rounding."""
    DOWN = decimal.ROUND_DOWN
    """Toward zero: never charge a fraction the borrower did not owe."""
    UP = decimal.ROUND_UP
    """Away from zero."""


def cents(value: object, *, field: str = "amount") -> int:
    """Return `value` as an amount of cents, refusing anything that is not a plain int.

    Raises:
        InvalidAmount: for floats, bools, Decimals, strings and every other type.
    """
    if type(value) is int:
        return value
    if isinstance(value, float):
        raise InvalidAmount(
            f"{field} must be integer cents, got the float {value!r}; floats are not money"
        )
    raise InvalidAmount(f"{field} must be integer cents, got {type(value).__name__} {value!r}")


def positive_cents(value: object, *, field: str = "amount") -> int:
    """Return `value` as cents, requiring it to be greater than zero."""
    amount = cents(value, field=field)
    if amount <= 0:
        raise InvalidAmount(f"{field} must be more than 0 cents, got {amount}")
    return amount


def non_negative_cents(value: object, *, field: str = "amount") -> int:
    """Return `value` as cents, requiring it to be zero or more."""
    amount = cents(value, field=field)
    if amount < 0:
        raise InvalidAmount(f"{field} must not be negative, got {amount}")
    return amount


def rate(
    value: object,
    *,
    field: str = "rate",
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal:
    """Return `value` as a finite `Decimal` in percent units, within optional bounds.

    Strings, ints and Decimals are accepted; floats are refused because ``0.1`` as a float
    is not one tenth.

    Raises:
        InvalidRate: for floats, unparseable strings, non-finite values and values outside
            ``[minimum, maximum]``.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        kind = "the float" if isinstance(value, float) else type(value).__name__
        raise InvalidRate(
            f"{field} must be a Decimal or a string such as '5.25', got {kind} {value!r}"
        )
    try:
        parsed = Decimal(value)
    except decimal.InvalidOperation as exc:
        raise InvalidRate(f"{field} is not a number: {value!r}") from exc
    if not parsed.is_finite():
        raise InvalidRate(f"{field} must be finite, got {value!r}")
    if minimum is not None and parsed < minimum:
        raise InvalidRate(f"{field} must be at least {minimum}, got {parsed}")
    if maximum is not None and parsed > maximum:
        raise InvalidRate(f"{field} must be at most {maximum}, got {parsed}")
    return parsed


def round_cents(value: Decimal | int, mode: Rounding) -> int:
    """Round an exact amount of cents to whole cents with an explicit mode.

    This is the only place in the library where a fractional amount becomes cents.
    """
    if isinstance(value, int):
        return value
    return int(value.quantize(_ONE, rounding=mode._value_, context=_CONTEXT))  # `.value`, no call


def percent_of(amount: int, percent: Decimal, mode: Rounding) -> int:
    """Return `percent` percent of `amount` cents, rounded once with `mode`."""
    exact = _CONTEXT.divide(_CONTEXT.multiply(Decimal(amount), percent), HUNDRED)
    return round_cents(exact, mode)


def split_evenly(total: int, parts: int) -> list[int]:
    """Split `total` cents into `parts` amounts that differ by at most one cent.

    The earlier parts carry the leftover cents, so the sum is always exactly `total`:
    ``split_evenly(1000, 3) == [334, 333, 333]``.

    Raises:
        InvalidAmount: when `total` is negative or `parts` is not a positive int.
    """
    non_negative_cents(total, field="total")
    if type(parts) is not int or parts <= 0:
        raise InvalidAmount(f"parts must be a positive int, got {parts!r}")
    base, extra = divmod(total, parts)
    return [base + 1 if index < extra else base for index in range(parts)]


def waterfall(amount: int, capacities: Sequence[int]) -> tuple[list[int], int]:
    """Pour `amount` cents into buckets in order, each up to its capacity.

    Returns the part each bucket took and what was left over; the parts plus the
    remainder always equal `amount`.
    """
    non_negative_cents(amount)
    left = amount
    parts: list[int] = []
    for capacity in capacities:
        take = min(left, max(capacity, 0))
        parts.append(take)
        left -= take
    return parts, left


def format_cents(amount: int) -> str:
    """Render cents as dollars for people: ``-123456`` -> ``'-$1,234.56'``."""
    sign = "-" if amount < 0 else ""
    dollars, rest = divmod(abs(amount), 100)
    return f"{sign}${dollars:,}.{rest:02d}"
