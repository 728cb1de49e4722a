import datetime as dt
from decimal import Decimal

import pytest

from loc_core.creditline import CreditLineProduct, cycle_day_for, due_date_for, next_close_after
from loc_core.errors import InvalidConfiguration, InvalidRate
from loc_core.money import Rounding


def test_policy_defaults() -> None:
    product = CreditLineProduct()
    assert product.cycle_day is None
    assert product.statement_to_due_days == 21
    assert (product.minimum_payment_percent_min, product.minimum_payment_percent_max) == (
        Decimal(1),
        Decimal(5),
    )
    assert (product.apr_min, product.apr_max) == (Decimal(0), Decimal(36))
    assert product.late_fee_cents == 500
    assert product.default_after_days_past_due == 90
    assert product.upcoming_notice_days == 7
    assert product.application_ttl == dt.timedelta(hours=24)
    assert product.rounding is Rounding.HALF_UP


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"apr_max": 36.0}, InvalidRate, "apr_max must be a Decimal"),
        ({"apr_max": "36"}, InvalidRate, "apr_max must be a Decimal"),
        ({"apr_min": Decimal(-1)}, InvalidRate, "apr_min must be at least 0"),
        ({"apr_max": Decimal("Infinity")}, InvalidRate, "apr_max must be finite"),
        ({"apr_min": Decimal(40)}, InvalidConfiguration, r"APR bounds must satisfy min <= max"),
        (
            {"minimum_payment_percent_min": Decimal(0)},
            InvalidConfiguration,
            "0 < min <= max",
        ),
        (
            {"minimum_payment_percent_min": Decimal(6)},
            InvalidConfiguration,
            r"got \[6, 5\]",
        ),
        (
            {"minimum_payment_percent_max": Decimal(101)},
            InvalidRate,
            "minimum_payment_percent_max must be at most 100",
        ),
        ({"statement_to_due_days": 0}, InvalidConfiguration, "between 1 and 24, got 0"),
        ({"statement_to_due_days": 25}, InvalidConfiguration, "between 1 and 24, got 25"),
        ({"cycle_day": 29}, InvalidConfiguration, "cycle_day must be between 1 and 28"),
        ({"cycle_day": 0}, InvalidConfiguration, "cycle_day must be between 1 and 28"),
        ({"late_fee_cents": -1}, InvalidConfiguration, "late_fee_cents must be at least 0"),
        ({"late_fee_cents": 5.0}, InvalidConfiguration, "late_fee_cents must be a whole number"),
        ({"default_after_days_past_due": 0}, InvalidConfiguration, "at least 1"),
        ({"upcoming_notice_days": 0}, InvalidConfiguration, "upcoming_notice_days must be"),
        ({"upcoming_notice_days": 22}, InvalidConfiguration, "before the statement"),
        ({"application_ttl": dt.timedelta(0)}, InvalidConfiguration, "positive timedelta"),
        ({"rounding": "HALF_UP"}, InvalidConfiguration, "must be a Rounding"),
    ],
)
def test_bad_values_are_refused_with_a_specific_message(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        CreditLineProduct(**changes)  # type: ignore[arg-type]  # wrong types are the point


@pytest.mark.parametrize(
    ("opened", "expected"),
    [
        (dt.date(2026, 1, 1), 1),
        (dt.date(2026, 1, 28), 28),
        (dt.date(2026, 1, 29), 28),
        (dt.date(2026, 1, 30), 28),
        (dt.date(2026, 1, 31), 28),
    ],
)
def test_cycle_day_is_the_opening_day_with_29_to_31_clamped(opened: dt.date, expected: int) -> None:
    assert cycle_day_for(opened, CreditLineProduct()) == expected


def test_a_requested_cycle_day_wins_then_the_products() -> None:
    fixed = CreditLineProduct(cycle_day=5)
    assert cycle_day_for(dt.date(2026, 1, 20), fixed) == 5
    assert cycle_day_for(dt.date(2026, 1, 20), fixed, requested=12) == 12
    with pytest.raises(InvalidConfiguration, match="between 1 and 28, got 31"):
        cycle_day_for(dt.date(2026, 1, 20), fixed, requested=31)


def test_close_dates_are_monthly_on_the_cycle_day() -> None:
    assert next_close_after(dt.date(2026, 1, 10), 10) == dt.date(2026, 2, 10)
    assert next_close_after(dt.date(2026, 1, 2), 10) == dt.date(2026, 1, 10)
    assert next_close_after(dt.date(2026, 12, 31), 28) == dt.date(2027, 1, 28)
    assert next_close_after(dt.date(2026, 1, 31), 28) == dt.date(2026, 2, 28)


def test_due_date_is_21_days_after_the_statement_rolled_to_a_business_day() -> None:
    product = CreditLineProduct()
    # 2026-02-10 + 21 days = Tuesday 2026-03-03, a business day.
    assert due_date_for(dt.date(2026, 2, 10), product) == dt.date(2026, 3, 3)
    # 2026-06-28 + 21 = Sunday 2026-07-19 -> Monday 2026-07-20.
    assert due_date_for(dt.date(2026, 6, 28), product) == dt.date(2026, 7, 20)
    # 2026-12-04 + 21 = Friday 2026-12-25 (Christmas) -> Monday 2026-12-28.
    assert due_date_for(dt.date(2026, 12, 4), product) == dt.date(2026, 12, 28)
