"""Dates and moments for the strategies, with the calendar's edge days drawn often.

A uniform draw over seven years almost never lands on a leap day and often misses every
month end in a run of 100 examples; money rules break on exactly those days (a schedule
rolled past a holiday, a cycle closing on the 31st, interest over February 29). So half
of the draws come from `EDGE_DAYS`, at a time of day that may be the first or last
microsecond of the UTC day.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

__all__ = ["EDGE_DAYS", "FIRST_DAY", "LAST_DAY", "days", "moments"]

FIRST_DAY = dt.date(2024, 1, 1)
"""The first day the strategies draw (a Monday, New Year's Day: a holiday)."""
LAST_DAY = dt.date(2030, 12, 31)
"""The last day the strategies draw (a month and year end)."""

EDGE_DAYS: tuple[dt.date, ...] = (
    FIRST_DAY,
    dt.date(2024, 2, 29),  # leap day (Thursday)
    dt.date(2028, 2, 29),  # leap day (Tuesday)
    dt.date(2024, 1, 31),  # month end before a short month
    dt.date(2025, 2, 28),  # February's end in a common year
    dt.date(2024, 2, 28),  # the day before a leap day
    dt.date(2026, 4, 30),  # a 30-day month's end
    dt.date(2026, 1, 3),  # Saturday
    dt.date(2026, 1, 4),  # Sunday
    dt.date(2026, 7, 4),  # Independence Day on a Saturday: not observed
    dt.date(2027, 7, 5),  # Independence Day observed on a Monday
    dt.date(2026, 11, 26),  # Thanksgiving (Thursday)
    dt.date(2025, 12, 25),  # Christmas (Thursday)
    dt.date(2026, 5, 22),  # the Friday before Memorial Day's long weekend
    dt.date(2026, 12, 31),  # year end
    LAST_DAY,
)
"""Days where calendar rules bite: leap days, month ends, weekends, holidays."""

_LAST_INSTANT = dt.timedelta(days=1) - dt.timedelta(microseconds=1)
_EDGE_OFFSETS = (dt.timedelta(0), dt.timedelta(hours=15), _LAST_INSTANT)
"""Into the day: its first instant, mid-afternoon, its last instant."""


def days() -> st.SearchStrategy[dt.date]:
    """Days from `FIRST_DAY` to `LAST_DAY`, half of them `EDGE_DAYS`."""
    return st.one_of(st.sampled_from(EDGE_DAYS), st.dates(FIRST_DAY, LAST_DAY))


def moments() -> st.SearchStrategy[dt.datetime]:
    """Aware UTC moments on `days`, at any time of day or at the day's first or last instant."""
    offsets = st.one_of(
        st.sampled_from(_EDGE_OFFSETS), st.timedeltas(dt.timedelta(0), _LAST_INSTANT)
    )
    return st.builds(_at, days(), offsets)


def _at(day: dt.date, offset: dt.timedelta) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + offset
