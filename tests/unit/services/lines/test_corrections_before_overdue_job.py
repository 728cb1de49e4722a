"""A correction booked before the day's 16:00 overdue job leaves that job to its hour.

The line (`billed`) owes a minimum of 1,989 cents by 04-27, paid by ACH on 04-20. Its
return is learned on 04-28, the first day it can be late: before the job, the borrower
can still pay in time; after it, the late fee is charged at once, as the job did.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import settlement

from loc_core.creditline import OVERDUE_JOB_AT, CreditLine, LineStatus
from loc_core.installment import DAILY_JOB_AT
from loc_core.payments import Rail, SettlementOutcome
from loc_core.services.commands import BookBackdatedLinePayment, SettlementHandling
from loc_entrypoints.jobs import JOBS

LATE_DAY = dt.date(2026, 4, 28)
"""The day after the 04-27 due date: the overdue job charges the late fee today."""


@pytest.fixture
def minimum_paid(world: Deployment, billed: CreditLine) -> str:
    """The 1,989-cent minimum paid by ACH on 04-20: its id (the job found nothing late)."""
    world.at(dt.date(2026, 4, 20), 10)
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    payment_id = world.pay_line(billed, 1_989, key="pay-1").payment_id
    world.sim.down = set()
    world.at(dt.date(2026, 4, 27), 16)
    world.overdue()
    return payment_id


def test_the_cutoffs_are_the_jobs_scheduled_hours() -> None:
    assert JOBS["overdue_job"].schedule == f"cron(0 {OVERDUE_JOB_AT.hour} * * ? *)"
    assert JOBS["daily_loan_job"].schedule == f"cron(0 {DAILY_JOB_AT.hour} * * ? *)"


def _return(world: Deployment, payment_id: str, hour: int) -> SettlementHandling:
    world.at(LATE_DAY, hour)
    event = settlement(payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    return world.settle(event)


def test_a_return_learned_before_the_job_lets_the_borrower_cure_before_16(
    world: Deployment, billed: CreditLine, minimum_paid: str
) -> None:
    assert _return(world, minimum_paid, 10) is SettlementHandling.REVERSED
    line = world.line(billed)
    assert (line.status, line.fee_balance, line.late_fee_cycle) == (LineStatus.ACTIVE, 0, None)
    assert "loc_past_due" not in world.sent()
    assert _return(world, minimum_paid, 11) is SettlementHandling.DUPLICATE
    world.at(LATE_DAY, 12)
    world.pay_line(billed, 1_989, key="pay-2")  # the minimum again, on time
    world.at(LATE_DAY, 16)
    assert world.overdue().acted == ()
    line = world.line(billed)
    assert (line.status, line.fee_balance, line.late_fee_cycle) == (LineStatus.ACTIVE, 0, None)
    assert "loc_past_due" not in world.sent()


def test_a_return_learned_before_the_job_is_charged_by_the_job_and_told_once(
    world: Deployment, billed: CreditLine, minimum_paid: str
) -> None:
    assert _return(world, minimum_paid, 10) is SettlementHandling.REVERSED
    assert world.line(billed).status is LineStatus.ACTIVE
    world.at(LATE_DAY, 16)
    assert world.overdue().acted == (billed.line_id,)
    assert world.overdue().acted == ()  # run again the same day: nothing more
    line = world.line(billed)
    assert (line.status, line.fee_balance) == (LineStatus.SUSPENDED, 500)
    assert world.sent().count("loc_past_due") == 1


@pytest.mark.parametrize(
    "job_on_time",
    [pytest.param(True, id="job-ran-at-16"), pytest.param(False, id="job-runs-late-at-18")],
)
def test_a_return_learned_after_the_jobs_hour_charges_the_fee_at_once(
    world: Deployment, billed: CreditLine, minimum_paid: str, *, job_on_time: bool
) -> None:
    if job_on_time:
        world.at(LATE_DAY, 16)
        assert world.overdue().acted == ()  # the minimum was paid, then
    assert _return(world, minimum_paid, 17) is SettlementHandling.REVERSED
    line = world.line(billed)
    assert (line.status, line.fee_balance) == (LineStatus.SUSPENDED, 500)
    assert world.sent().count("loc_past_due") == 1
    world.at(LATE_DAY, 18)
    assert world.overdue().acted == ()  # a late (or repeated) run finds it done
    assert world.sent().count("loc_past_due") == 1
    assert world.line(billed).fee_balance == 500


def test_a_correction_before_16_keeps_what_a_job_run_ahead_of_its_hour_did_today(
    world: Deployment, billed: CreditLine
) -> None:
    """Nothing paid: an operator runs the overdue job at 10:00 for today; a cheque of 100
    cents keyed at 11:00 keeps that job's fee and suspension, not charged again at 16:00."""
    world.at(LATE_DAY, 10)
    assert world.overdue().acted == (billed.line_id,)
    world.at(LATE_DAY, 11)
    world.bus.handle(
        BookBackdatedLinePayment(
            user_id=billed.user_id,
            line_id=billed.line_id,
            amount=100,
            effective_on=dt.date(2026, 4, 10),
            reason="cheque received 04-10",
            idempotency_key="cheque-1",
        )
    )
    line = world.line(billed)
    assert (line.status, line.fee_balance) == (LineStatus.SUSPENDED, 500)
    world.at(LATE_DAY, 16)
    assert world.overdue().acted == ()
    assert world.sent().count("loc_past_due") == 1
