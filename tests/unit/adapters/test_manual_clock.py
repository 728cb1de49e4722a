"""The manual clock moves only forward, and only to UTC instants."""

import datetime as dt

import pytest

from loc_adapters.memory import ManualClock
from loc_core.errors import InvalidTimestamp

START = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)


def test_a_clock_set_forward_reads_the_new_instant() -> None:
    clock = ManualClock(START)
    clock.set(START + dt.timedelta(hours=7))
    clock.advance(dt.timedelta(minutes=45))
    assert clock.now() == dt.datetime(2026, 3, 2, 15, 45, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("moment", "error"),
    [
        (dt.datetime(2026, 3, 2, 9), InvalidTimestamp),  # noqa: DTZ001 - naive on purpose
        (dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=1))), InvalidTimestamp),
        (START - dt.timedelta(seconds=1), ValueError),  # backwards
    ],
)
def test_a_refused_move_leaves_the_clock_where_it_was(
    moment: dt.datetime, error: type[Exception]
) -> None:
    clock = ManualClock(START)
    with pytest.raises(error):
        clock.set(moment)
    assert clock.now() == START


def test_a_clock_cannot_start_at_a_naive_instant() -> None:
    with pytest.raises(InvalidTimestamp):
        ManualClock(dt.datetime(2026, 3, 2, 8))  # noqa: DTZ001 - naive on purpose
