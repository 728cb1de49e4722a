from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loc_core.errors import InvalidAmount, InvalidRate
from loc_core.money import (
    Rounding,
    cents,
    format_cents,
    percent_of,
    positive_cents,
    rate,
    round_cents,
    split_evenly,
    waterfall,
)


@pytest.mark.parametrize("bad", [1.0, 0.1, True, Decimal(5), "500", None])
def test_cents_refuses_anything_but_int(bad: object) -> None:
    with pytest.raises(InvalidAmount, match="integer cents"):
        cents(bad)


def test_float_amount_error_says_floats_are_not_money() -> None:
    with pytest.raises(InvalidAmount, match="float"):
        positive_cents(12.5, field="payment")


@pytest.mark.parametrize("bad", [0, -1])
def test_positive_cents_refuses_zero_and_negative(bad: int) -> None:
    with pytest.raises(InvalidAmount, match="payment must be more than 0"):
        positive_cents(bad, field="payment")


def test_rate_parses_strings_exactly_and_refuses_floats() -> None:
    assert rate("35.99") == Decimal("35.99")
    with pytest.raises(InvalidRate, match="float"):
        rate(35.99)
    with pytest.raises(InvalidRate, match="not a number"):
        rate("abc")
    with pytest.raises(InvalidRate, match="finite"):
        rate("NaN")
    with pytest.raises(InvalidRate, match="at most 5"):
        rate("5.01", maximum=Decimal(5))


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        (Decimal("2.5"), Rounding.HALF_UP, 3),
        (Decimal("2.5"), Rounding.HALF_EVEN, 2),
        (Decimal("2.9"), Rounding.DOWN, 2),
        (Decimal("2.1"), Rounding.UP, 3),
        (Decimal("-2.5"), Rounding.HALF_UP, -3),
    ],
)
def test_round_cents_uses_the_mode_it_is_given(
    value: Decimal, mode: Rounding, expected: int
) -> None:
    assert round_cents(value, mode) == expected


def test_percent_of_rounds_half_up_once() -> None:
    # 5% of $1.50 is 7.5 cents: half-up makes 8, banker's rounding 8, down 7.
    assert percent_of(150, Decimal(5), Rounding.HALF_UP) == 8
    assert percent_of(150, Decimal(5), Rounding.DOWN) == 7
    assert percent_of(10_000, Decimal("12.345"), Rounding.HALF_UP) == 1235


@given(total=st.integers(0, 10**9), parts=st.integers(1, 60))
def test_split_evenly_places_every_cent(total: int, parts: int) -> None:
    amounts = split_evenly(total, parts)
    assert sum(amounts) == total
    assert len(amounts) == parts
    assert max(amounts) - min(amounts) <= 1
    assert amounts == sorted(amounts, reverse=True)


@given(amount=st.integers(0, 10**7), capacities=st.lists(st.integers(0, 10**6), max_size=8))
def test_waterfall_parts_and_remainder_add_up(amount: int, capacities: list[int]) -> None:
    parts, left = waterfall(amount, capacities)
    assert sum(parts) + left == amount
    assert all(0 <= part <= cap for part, cap in zip(parts, capacities, strict=True))
    # A bucket is only skipped over once it is full.
    for index, part in enumerate(parts):
        if part < capacities[index]:
            assert sum(parts[index + 1 :]) == 0


def test_format_cents() -> None:
    assert format_cents(-123456) == "-$1,234.56"
    assert format_cents(5) == "$0.05"
