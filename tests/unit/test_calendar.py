import datetime as dt

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loc_core import calendar
from loc_core.errors import InvalidTimestamp


def test_saturday_holiday_is_not_observed_on_friday() -> None:
    # Independence Day 2026 is a Saturday: the Fed is open on Friday the 3rd.
    assert calendar.is_business_day(dt.date(2026, 7, 3))
    assert not calendar.is_holiday(dt.date(2026, 7, 3))


def test_sunday_holiday_is_observed_on_monday() -> None:
    # Independence Day 2027 is a Sunday: Monday the 5th is the holiday.
    assert calendar.is_holiday(dt.date(2027, 7, 5))
    assert not calendar.is_business_day(dt.date(2027, 7, 5))
    assert calendar.holiday_name(dt.date(2027, 7, 5)) == "Independence Day"


def test_juneteenth_counts_from_2022() -> None:
    assert calendar.is_business_day(dt.date(2021, 6, 18))
    assert calendar.is_holiday(dt.date(2022, 6, 20))  # the 19th was a Sunday


def test_rolling_over_a_holiday_weekend() -> None:
    friday = dt.date(2027, 7, 2)
    assert calendar.next_business_day(friday) == dt.date(2027, 7, 6)
    assert calendar.on_or_after(dt.date(2027, 7, 3)) == dt.date(2027, 7, 6)
    assert calendar.on_or_before(dt.date(2027, 7, 5)) == friday
    assert calendar.previous_business_day(dt.date(2027, 7, 6)) == friday
    assert calendar.add_business_days(friday, 2) == dt.date(2027, 7, 7)
    assert calendar.add_business_days(dt.date(2027, 7, 7), -2) == friday
    assert calendar.add_business_days(friday, 0) == friday


@pytest.mark.parametrize("year", range(2022, 2041))
def test_matches_us_federal_holidays_under_the_fed_saturday_rule(year: int) -> None:
    us = holidays.country_holidays("US", years=year, observed=False)
    expected = set()
    for day, name in us.items():
        if "Inauguration" in name:
            continue
        if day.weekday() == 6:
            expected.add(day + dt.timedelta(days=1))
        elif day.weekday() < 5:
            expected.add(day)
    assert set(calendar.fed_holidays(year)) == expected


@given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)))
def test_next_business_day_is_the_first_open_day_after(day: dt.date) -> None:
    following = calendar.next_business_day(day)
    assert following > day
    assert calendar.is_business_day(following)
    gap = (following - day).days
    assert all(not calendar.is_business_day(day + dt.timedelta(days=i)) for i in range(1, gap))


def test_timestamps_must_be_utc() -> None:
    moment = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    assert calendar.require_utc(moment) is moment
    with pytest.raises(InvalidTimestamp, match="time zone"):
        calendar.require_utc(dt.datetime(2026, 1, 5, 12))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(InvalidTimestamp, match="must be in UTC"):
        calendar.require_utc(moment.astimezone(dt.timezone(dt.timedelta(hours=-5))))
