"""A calendar review: zone-aware instants, the year of statement totals, cycles, schedules."""

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from deployment import Deployment
from fakes import line_offer, loan_offer, opened_line, settlement

from loc_adapters.memory.clock import ManualClock
from loc_core import calendar
from loc_core.creditline import CreditLineProduct, Statement
from loc_core.installment import InstallmentProduct
from loc_core.installment.schedule import build_schedule
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.services.kit import business_date

LONDON = ZoneInfo("Europe/London")
BEFORE_SPRING_CHANGE = dt.datetime(2026, 3, 28, 12, tzinfo=LONDON)
"""Noon in London, offset zero, the day before the clocks go forward (2026-03-29)."""


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(BEFORE_SPRING_CHANGE, id="london-in-winter"),
        pytest.param(dt.datetime(2026, 7, 1, 9, tzinfo=ZoneInfo("UTC")), id="zoneinfo-utc"),
    ],
)
def test_a_zero_offset_zone_is_taken_as_the_same_instant_in_utc(moment: dt.datetime) -> None:
    taken = calendar.require_utc(moment)
    assert taken == moment
    assert taken.tzinfo is dt.UTC


def test_an_offer_made_in_a_zero_offset_zone_lives_24_hours() -> None:
    line_application = line_offer(BEFORE_SPRING_CHANGE)
    loan_application = loan_offer(BEFORE_SPRING_CHANGE)
    for offer in (line_application, loan_application):
        assert offer.expires_at is not None
        assert offer.expires_at.isoformat() == "2026-03-29T12:00:00+00:00"  # not 11:00 UTC
        assert offer.created_at.tzinfo is dt.UTC


def _statements(cycle_day: int, opened: dt.date, closes: list[dt.date]) -> list[Statement]:
    """The statements of a $100.00 line at 36% drawn in full on `opened`, billed at `closes`."""
    product = CreditLineProduct()
    line = opened_line(
        line_offer(dt.datetime.combine(opened, dt.time(12, tzinfo=dt.UTC)), apr=Decimal(36)),
        cycle_day=cycle_day,
    )
    line.request_draw(draw_id="d1", amount=10_000, on=opened)
    line.disburse_draw(draw_id="d1", rail=Rail.RTP, on=opened)
    statements = []
    for close in closes:
        statement = line.bill_cycle(close_date=close, today=close, product=product)
        assert statement is not None
        statements.append(statement)
    return statements


def test_the_statement_dated_january_first_ends_decembers_year_totals() -> None:
    # Cycle day 1: the statement of 2028-01-01 is of the cycle 2027-12-01..2027-12-31,
    # so its interest is 2027's, and 2028's totals start with February's statement.
    closes = [dt.date(2027, 11, 1), dt.date(2027, 12, 1), dt.date(2028, 1, 1), dt.date(2028, 2, 1)]
    november, december, january, february = _statements(1, dt.date(2027, 10, 20), closes)
    assert [s.totals_year for s in (november, december, january, february)] == [
        2027,
        2027,
        2027,
        2028,
    ]
    charged = [s.interest_charged for s in (november, december, january)]
    assert all(charged)
    assert january.interest_year_to_date == sum(charged)  # was January's interest alone
    assert february.interest_year_to_date == february.interest_charged


def test_a_cycle_ending_in_january_still_starts_the_year() -> None:
    # Cycle day 2: the statement of 2028-01-02 closes on 2028-01-01, the year's first day.
    closes = [dt.date(2027, 12, 2), dt.date(2028, 1, 2), dt.date(2028, 2, 2)]
    december, january, february = _statements(2, dt.date(2027, 11, 2), closes)
    assert [s.totals_year for s in (december, january, february)] == [2027, 2028, 2028]
    assert january.interest_year_to_date == january.interest_charged
    assert february.interest_year_to_date == january.interest_charged + february.interest_charged


def test_a_manual_clock_set_in_a_zero_offset_zone_keeps_utc_across_the_spring_change() -> None:
    clock = ManualClock(dt.datetime(2026, 3, 27, 12, tzinfo=dt.UTC))
    clock.set(BEFORE_SPRING_CHANGE)
    clock.advance(dt.timedelta(days=1))
    assert clock.now() == dt.datetime(2026, 3, 29, 12, tzinfo=dt.UTC)  # 24 hours, not 23
    assert business_date(clock) == dt.date(2026, 3, 29)  # was InvalidTimestamp: +01:00


@pytest.mark.parametrize(
    ("opened", "cycle_day", "first_days"),
    [
        pytest.param(dt.date(2027, 12, 31), None, 28, id="opened-on-the-31st"),
        pytest.param(dt.date(2028, 2, 29), None, 28, id="opened-on-a-leap-day"),
        pytest.param(dt.date(2028, 1, 9), 10, 1, id="first-cycle-of-one-day"),
    ],
)
def test_a_year_of_cycles_counts_every_day_once_leap_day_included(
    opened: dt.date, cycle_day: int | None, first_days: int
) -> None:
    product = CreditLineProduct()
    line = opened_line(
        line_offer(dt.datetime.combine(opened, dt.time(12, tzinfo=dt.UTC)), apr=Decimal(36)),
        cycle_day=cycle_day,
    )
    line.request_draw(draw_id="d1", amount=10_000, on=opened)
    line.disburse_draw(draw_id="d1", rail=Rail.RTP, on=opened)
    statements = []
    for _ in range(13):
        close = line.next_close_date
        statement = line.bill_cycle(close_date=close, today=close, product=product)
        assert statement is not None
        statements.append(statement)
    assert statements[0].days == first_days
    starts = [s.cycle_start for s in statements]
    assert starts == [opened] + [s.cycle_end for s in statements[:-1]]  # no gap, no overlap
    assert all(s.statement_date.day == line.cycle_day for s in statements)
    assert all(calendar.is_business_day(s.due_date) for s in statements)
    assert all(s.due_date < later.statement_date for s, later in itertools.pairwise(statements))
    days = (statements[-1].cycle_end - opened).days
    assert sum(s.days for s in statements) == days
    assert sum(s.cent_days for s in statements) == 10_000 * days  # principal never moved
    leap = next(s for s in statements if s.cycle_start <= dt.date(2028, 2, 29) < s.cycle_end)
    assert leap.cent_days == 10_000 * leap.days  # Feb 29 is a day like any other


@pytest.mark.parametrize(
    "disbursed_on",
    [
        pytest.param(dt.date(2028, 2, 29), id="leap-day"),
        pytest.param(dt.date(2027, 1, 31), id="the-31st"),
        pytest.param(dt.date(2027, 12, 11), id="over-christmas-and-new-year"),
        pytest.param(dt.date(2027, 12, 18), id="new-year-on-a-saturday"),
    ],
)
def test_a_schedule_across_month_and_year_ends_keeps_its_biweekly_grid(
    disbursed_on: dt.date,
) -> None:
    schedule = build_schedule(
        total_amount=30_001, count=8, disbursed_on=disbursed_on, product=InstallmentProduct()
    )
    for number, installment in enumerate(schedule, start=1):
        unrolled = disbursed_on + dt.timedelta(days=14 * number)
        assert installment.due_date == calendar.on_or_after(unrolled)  # rolls never drift
        assert calendar.is_business_day(installment.due_date)
        assert (installment.due_date - unrolled).days <= 3
    assert sum(installment.amount for installment in schedule) == 30_001


def test_the_friday_before_a_saturday_new_year_is_a_due_date() -> None:
    # New Year's Day 2028 is a Saturday: the Fed does not observe it on Friday 2027-12-31
    # (the `holidays` package's observed calendar would), so that Friday stays due.
    schedule = build_schedule(
        total_amount=30_000,
        count=4,
        disbursed_on=dt.date(2027, 12, 17),
        product=InstallmentProduct(),
    )
    assert schedule[0].due_date == dt.date(2027, 12, 31)
    assert schedule[1].due_date == dt.date(2028, 1, 14)


def test_a_completion_stamped_just_before_midnight_is_not_dated_before_its_payment() -> None:
    """A rail's clock a few seconds behind ours dates the event the day before the debit."""
    world = Deployment.build()
    world.sim.down = {Rail.PINLESS}
    loan = world.open_loan()
    world.settle_due()
    world.clock.set(dt.datetime(2026, 1, 7, 0, 0, 30, tzinfo=dt.UTC))
    paid = world.pay_loan(loan, 5_250)
    lagging = dt.datetime(2026, 1, 6, 23, 59, 50, tzinfo=dt.UTC)
    world.settle(settlement(paid.payment_id, SettlementOutcome.COMPLETED, lagging, Rail.ACH))
    payment = world.loan(loan.loan_id).payments[paid.payment_id]
    assert (payment.status, payment.submitted_on, payment.settled_on) == (
        PaymentStatus.COMPLETED,
        dt.date(2026, 1, 7),
        dt.date(2026, 1, 7),
    )
