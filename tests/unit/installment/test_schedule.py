import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loc_core import calendar
from loc_core.errors import InvalidAmount, ScheduleError
from loc_core.installment import InstallmentProduct, ScheduledInstallment, build_schedule
from loc_core.testing.installment import products

PRODUCT = InstallmentProduct()


def test_the_example_schedule_rolls_holidays_to_the_next_business_day() -> None:
    schedule = build_schedule(
        total_amount=31_500, count=6, disbursed_on=dt.date(2026, 1, 5), product=PRODUCT
    )
    assert schedule == (
        ScheduledInstallment(5_250, dt.date(2026, 1, 20)),  # the 19th is MLK Day
        ScheduledInstallment(5_250, dt.date(2026, 2, 2)),
        ScheduledInstallment(5_250, dt.date(2026, 2, 17)),  # the 16th is Washington's Birthday
        ScheduledInstallment(5_250, dt.date(2026, 3, 2)),
        ScheduledInstallment(5_250, dt.date(2026, 3, 16)),
        ScheduledInstallment(5_250, dt.date(2026, 3, 30)),
    )


def test_a_rolled_date_does_not_shift_the_dates_after_it() -> None:
    # 2027-07-05 is the observed Independence Day; the next date stays 14 days on the grid.
    schedule = build_schedule(
        total_amount=1_000, count=4, disbursed_on=dt.date(2027, 6, 21), product=PRODUCT
    )
    assert [line.due_date for line in schedule] == [
        dt.date(2027, 7, 6),
        dt.date(2027, 7, 19),
        dt.date(2027, 8, 2),
        dt.date(2027, 8, 16),
    ]


def test_odd_cents_go_to_the_earliest_installments() -> None:
    schedule = build_schedule(
        total_amount=31_502, count=6, disbursed_on=dt.date(2026, 1, 5), product=PRODUCT
    )
    assert [line.amount for line in schedule] == [5_251, 5_251, 5_250, 5_250, 5_250, 5_250]


@pytest.mark.parametrize("count", [3, 9, 0, -1])
def test_a_count_outside_the_product_bounds_is_refused(count: int) -> None:
    with pytest.raises(ScheduleError, match=rf"within 4..8, got {count}"):
        build_schedule(
            total_amount=31_500, count=count, disbursed_on=dt.date(2026, 1, 5), product=PRODUCT
        )


def test_a_total_smaller_than_the_count_is_refused() -> None:
    with pytest.raises(ScheduleError, match="5 cents cannot make 6 installments"):
        build_schedule(total_amount=5, count=6, disbursed_on=dt.date(2026, 1, 5), product=PRODUCT)


@pytest.mark.parametrize("total", [0, -600])
def test_a_non_positive_total_is_refused(total: int) -> None:
    with pytest.raises(ScheduleError, match="needs a positive total"):
        build_schedule(
            total_amount=total, count=6, disbursed_on=dt.date(2026, 1, 5), product=PRODUCT
        )


def test_a_float_total_is_not_money() -> None:
    with pytest.raises(InvalidAmount, match="floats are not money"):
        build_schedule(
            total_amount=315.0,  # type: ignore[arg-type]  # floats must be refused at runtime
            count=6,
            disbursed_on=dt.date(2026, 1, 5),
            product=PRODUCT,
        )


@given(
    product=products(),
    data=st.data(),
    disbursed_on=st.dates(dt.date(2022, 1, 1), dt.date(2035, 12, 31)),
)
def test_amounts_sum_to_the_total_and_differ_by_at_most_a_cent(
    product: InstallmentProduct, data: st.DataObject, disbursed_on: dt.date
) -> None:
    count = data.draw(st.integers(product.min_installments, product.max_installments))
    total = data.draw(st.integers(count, 10_000_000))
    amounts = [
        line.amount
        for line in build_schedule(
            total_amount=total, count=count, disbursed_on=disbursed_on, product=product
        )
    ]
    assert len(amounts) == count
    assert sum(amounts) == total
    assert max(amounts) - min(amounts) <= 1
    assert min(amounts) >= 1


@given(
    count=st.integers(4, 8),
    disbursed_on=st.dates(dt.date(2022, 1, 1), dt.date(2035, 12, 31)),
)
def test_due_dates_are_business_days_on_the_biweekly_grid(
    count: int, disbursed_on: dt.date
) -> None:
    schedule = build_schedule(
        total_amount=50_000, count=count, disbursed_on=disbursed_on, product=PRODUCT
    )
    for number, line in enumerate(schedule, start=1):
        unrolled = disbursed_on + dt.timedelta(days=14 * number)
        assert calendar.is_business_day(line.due_date)
        assert line.due_date == calendar.on_or_after(unrolled)
        assert dt.timedelta(0) <= line.due_date - unrolled < dt.timedelta(days=5)
    dates = [line.due_date for line in schedule]
    assert dates == sorted(set(dates))
