"""Whether an offer's disclosure still describes the loan made on a later day."""

import datetime as dt

import pytest
from fakes import loan_offer
from hypothesis import given
from hypothesis import strategies as st

from loc_core.disclosures import loan_disclosure
from loc_core.disclosures.loans import APR_TOLERANCE, disclosure_holds
from loc_core.installment import (
    InstallmentProduct,
    LoanApplication,
    ScheduledInstallment,
    build_schedule,
)
from loc_core.testing.installment import approved_applications

PRODUCT = InstallmentProduct()
FRIDAY_NIGHT = dt.datetime(2026, 4, 10, 23, 30, tzinfo=dt.UTC)


def schedule_on(offer: LoanApplication, day: dt.date) -> tuple[ScheduledInstallment, ...]:
    """The schedule of the offer's loan disbursed on `day`."""
    return build_schedule(
        total_amount=offer.total_amount,
        count=len(offer.proposed_schedule),
        disbursed_on=day,
        product=PRODUCT,
    )


@given(approved_applications(product=PRODUCT))
def test_an_offer_disbursed_the_day_it_discloses_is_the_loan_disclosed(
    offer: LoanApplication,
) -> None:
    day = offer.disclosed_on
    assert disclosure_holds(offer, schedule=schedule_on(offer, day), disbursed_on=day)


def test_a_day_later_moves_the_due_dates() -> None:
    offer = loan_offer(FRIDAY_NIGHT)
    saturday = dt.date(2026, 4, 11)
    later = schedule_on(offer, saturday)
    assert [line.due_date for line in later] != [line.due_date for line in offer.proposed_schedule]
    assert not disclosure_holds(offer, schedule=later, disbursed_on=saturday)


def test_the_same_due_dates_a_day_later_still_move_the_apr_beyond_the_tolerance() -> None:
    offer = loan_offer(dt.datetime(2026, 4, 11, 10, tzinfo=dt.UTC))  # a Saturday
    sunday = dt.date(2026, 4, 12)
    later = schedule_on(offer, sunday)
    assert later == offer.proposed_schedule  # both roll every due date to a Monday
    assert not disclosure_holds(offer, schedule=later, disbursed_on=sunday)
    offer.disclose_again(
        schedule=later, disclosed_on=sunday, now=FRIDAY_NIGHT + dt.timedelta(days=2), reason="r"
    )
    assert disclosure_holds(offer, schedule=later, disbursed_on=sunday)


@pytest.mark.parametrize("cents", [-1, 1])
def test_an_amount_a_cent_off_is_not_the_schedule_disclosed(cents: int) -> None:
    offer = loan_offer(FRIDAY_NIGHT)
    first, second, *rest = offer.proposed_schedule
    moved = (
        ScheduledInstallment(first.amount + cents, first.due_date),
        ScheduledInstallment(second.amount - cents, second.due_date),
        *rest,
    )
    assert not disclosure_holds(offer, schedule=moved, disbursed_on=FRIDAY_NIGHT.date())


@given(st.integers(min_value=1, max_value=20))
def test_a_schedule_that_holds_has_an_apr_within_the_tolerance(days_later: int) -> None:
    offer = loan_offer(FRIDAY_NIGHT)
    day = FRIDAY_NIGHT.date() + dt.timedelta(days=days_later)
    later = schedule_on(offer, day)
    holds = disclosure_holds(offer, schedule=later, disbursed_on=day)
    disclosed = loan_disclosure(offer, PRODUCT)
    offer.disclose_again(schedule=later, disclosed_on=day, now=FRIDAY_NIGHT, reason="r")
    redisclosed = loan_disclosure(offer, PRODUCT)
    same_dates = redisclosed.payments == disclosed.payments
    close = abs(redisclosed.annual_percentage_rate - disclosed.annual_percentage_rate)
    assert holds == (same_dates and close <= APR_TOLERANCE)
