"""A correction booked before the day's 17:00 daily job leaves that job to its hour.

The first installment (5,250 cents due 01-20, paid that day by ACH) becomes overdue on
01-25, five days of grace later. Its return is learned on 01-25: before the job, the
borrower can still pay in time; after it, the installment is OVERDUE with its fee at once.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import settlement

from loc_core.installment import InstallmentStatus, Loan
from loc_core.payments import Rail, SettlementOutcome
from loc_core.services.commands import SettlementHandling

FIRST_DUE = dt.date(2026, 1, 20)
OVERDUE_DAY = dt.date(2026, 1, 25)


@pytest.fixture
def paid(world: Deployment) -> tuple[Loan, str]:
    """The loan, its first installment paid on its due date, the jobs run through 01-24."""
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    loan = world.open_loan(autopay=False)
    world.at(FIRST_DUE)
    payment_id = world.pay_loan(loan, 5_250).payment_id
    day = FIRST_DUE
    while day < OVERDUE_DAY:
        world.at(day, 17)
        world.run_daily_loan_job()
        day += dt.timedelta(days=1)
    return loan, payment_id


def _return(world: Deployment, payment_id: str, hour: int) -> SettlementHandling:
    world.at(OVERDUE_DAY, hour)
    event = settlement(payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    return world.settle(event)


def test_a_return_learned_before_the_job_lets_the_borrower_pay_before_17(
    world: Deployment, paid: tuple[Loan, str]
) -> None:
    loan, payment_id = paid
    assert _return(world, payment_id, 10) is SettlementHandling.REVERSED
    first = world.loan(loan.loan_id).installments[0]
    assert (first.status, first.late_fee) == (InstallmentStatus.SCHEDULED, 0)
    assert _return(world, payment_id, 11) is SettlementHandling.DUPLICATE
    world.at(OVERDUE_DAY, 12)
    world.pay_loan(loan, 5_250, key="pay-2")  # paid again, in its grace period
    world.at(OVERDUE_DAY, 17)
    world.run_daily_loan_job()
    first = world.loan(loan.loan_id).installments[0]
    assert (first.status, first.late_fee) == (InstallmentStatus.COMPLETED, 0)
    assert "installment_overdue" not in world.sent()


@pytest.mark.parametrize(
    ("hour", "job_first"),
    [
        pytest.param(10, False, id="learned-10h-the-job-charges-at-17"),
        pytest.param(18, True, id="learned-18h-after-the-job-at-once"),
        pytest.param(18, False, id="learned-18h-the-job-late-at-19"),
    ],
)
def test_a_missed_installment_is_overdue_with_its_fee_once(
    world: Deployment, paid: tuple[Loan, str], hour: int, *, job_first: bool
) -> None:
    loan, payment_id = paid
    if job_first:
        world.at(OVERDUE_DAY, 17)
        world.run_daily_loan_job()
    assert _return(world, payment_id, hour) is SettlementHandling.REVERSED
    world.at(OVERDUE_DAY, max(hour + 1, 17))
    world.run_daily_loan_job()
    world.run_daily_loan_job()  # run again the same day: nothing more
    first = world.loan(loan.loan_id).installments[0]
    assert (first.status, first.overdue_on, first.late_fee) == (
        InstallmentStatus.OVERDUE,
        OVERDUE_DAY,
        263,
    )
    assert world.sent().count("installment_overdue") == 1
