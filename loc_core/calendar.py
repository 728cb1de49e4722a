"""Federal Reserve (ACH) business days.

A business day is a weekday that is not a Federal Reserve holiday. The Fed observes the
eleven federal holidays with one twist that general-purpose calendars get wrong for
payments: a holiday that falls on a Sunday is observed on the Monday after, but a holiday
that falls on a Saturday is *not* observed at all (the Fed is open on the Friday before).
So Friday 2026-07-03 is a business day, and Monday 2027-07-05 is a holiday.

The rules are written out here rather than taken from the `holidays` package so that the
core installs with attrs alone; the test suite checks them against `holidays` year by
year. Juneteenth counts from 2022, the first year the Fed closed for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from loc_core.errors import InvalidTimestamp

__all__ = [
    "add_business_days",
    "fed_holidays",
    "holiday_name",
    "is_business_day",
    "is_holiday",
    "next_business_day",
    "on_or_after",
    "on_or_before",
    "previous_business_day",
    "require_utc",
]

_MONDAY, _THURSDAY, _SATURDAY, _SUNDAY = 0, 3, 5, 6
_JUNETEENTH_FIRST_YEAR = 2022
_ONE_DAY = dt.timedelta(days=1)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date:
    """The `nth` (1-based) `weekday` of the month; ``nth=-1`` is the last one."""
    if nth > 0:
        first = dt.date(year, month, 1)
        offset = (weekday - first.weekday()) % 7
        return first + dt.timedelta(days=offset + 7 * (nth - 1))
    following = dt.date(year + (month == 12), month % 12 + 1, 1)  # noqa: PLR2004 - December
    last = following - _ONE_DAY
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date | None:
    """Where the Fed observes a holiday that falls on `day`.

    Sunday moves to Monday; Saturday is not observed at all.
    """
    if day.weekday() == _SUNDAY:
        return day + _ONE_DAY
    if day.weekday() == _SATURDAY:
        return None
    return day


@lru_cache(maxsize=256)
def fed_holidays(year: int) -> Mapping[dt.date, str]:
    """The Federal Reserve holidays observed in `year`, by date."""
    fixed = {
        "New Year's Day": dt.date(year, 1, 1),
        "Independence Day": dt.date(year, 7, 4),
        "Veterans Day": dt.date(year, 11, 11),
        "Christmas Day": dt.date(year, 12, 25),
    }
    if year >= _JUNETEENTH_FIRST_YEAR:
        fixed["Juneteenth National Independence Day"] = dt.date(year, 6, 19)
    observed = {
        day: name for name, actual in fixed.items() if (day := _observed(actual)) is not None
    }
    observed[_nth_weekday(year, 1, _MONDAY, 3)] = "Birthday of Martin Luther King, Jr."
    observed[_nth_weekday(year, 2, _MONDAY, 3)] = "Washington's Birthday"
    observed[_nth_weekday(year, 5, _MONDAY, -1)] = "Memorial Day"
    observed[_nth_weekday(year, 9, _MONDAY, 1)] = "Labor Day"
    observed[_nth_weekday(year, 10, _MONDAY, 2)] = "Columbus Day"
    observed[_nth_weekday(year, 11, _THURSDAY, 4)] = "Thanksgiving Day"
    return MappingProxyType(dict(sorted(observed.items())))


def holiday_name(day: dt.date) -> str | None:
    """The name of the Fed holiday observed on `day`, or None."""
    return fed_holidays(day.year).get(day)


def is_holiday(day: dt.date) -> bool:
    """Whether the Fed observes a holiday on `day`."""
    return day in fed_holidays(day.year)


def is_business_day(day: dt.date) -> bool:
    """A weekday on which the Fed is open."""
    return day.weekday() < _SATURDAY and not is_holiday(day)


def next_business_day(day: dt.date) -> dt.date:
    """The first business day strictly after `day`."""
    day += _ONE_DAY
    while not is_business_day(day):
        day += _ONE_DAY
    return day


def previous_business_day(day: dt.date) -> dt.date:
    """The last business day strictly before `day`."""
    day -= _ONE_DAY
    while not is_business_day(day):
        day -= _ONE_DAY
    return day


def on_or_after(day: dt.date) -> dt.date:
    """`day` if it is a business day, else the next one (how due dates roll)."""
    return day if is_business_day(day) else next_business_day(day)


def on_or_before(day: dt.date) -> dt.date:
    """`day` if it is a business day, else the previous one."""
    return day if is_business_day(day) else previous_business_day(day)


def add_business_days(day: dt.date, count: int) -> dt.date:
    """Move `count` business days from `day` (backwards when negative).

    `day` itself is not counted, so ``add_business_days(friday, 1)`` is the next Monday
    when that Monday is open; a `count` of zero returns `day` unchanged.
    """
    step = next_business_day if count > 0 else previous_business_day
    for _ in range(abs(count)):
        day = step(day)
    return day


def require_utc(moment: dt.datetime, *, field: str = "timestamp") -> dt.datetime:
    """`moment` as an aware datetime in `datetime.UTC`; timestamps are RFC3339 UTC.

    A zone whose offset happens to be zero at `moment` (``ZoneInfo("UTC")``, or
    ``Europe/London`` in winter) is the same instant, so it is taken, but returned in
    `datetime.UTC`: arithmetic on an aware datetime keeps its zone's wall clock, so a
    London noon plus 24 hours across the spring change would be only 23 hours later, and
    what is stored would carry ``+01:00``.

    Raises:
        InvalidTimestamp: for a naive datetime or one with a non-zero UTC offset.
    """
    if moment.tzinfo is dt.UTC:  # the common case: no offset to compute
        return moment
    offset = moment.utcoffset()
    if offset is None:
        raise InvalidTimestamp(f"{field} must carry a time zone (UTC), got naive {moment!r}")
    if offset:
        raise InvalidTimestamp(f"{field} must be in UTC, got offset {offset} in {moment!r}")
    return moment.astimezone(dt.UTC)
