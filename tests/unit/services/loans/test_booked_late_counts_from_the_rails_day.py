"""A debit whose answer was lost counts from the day its rail took it, whoever books it.

The rail took the money on the due date, before the late fee; its answer was lost and
the recovery job (or the borrower's next debit) books it days later, after the daily
jobs charged the late fee. The payment counts from the rail's day, so the fee and the
past due it should have prevented are taken back. When the account cannot be corrected
as of then (beyond the correction reach), the money is still booked, as of today, with a
CRITICAL alert: never refused, never left PENDING for the next run to fail on again.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import timing_out

from loc_core.creditline import CreditLine, LineStatus
from loc_core.errors import ExternalServiceError
from loc_core.installment import Loan
from loc_core.payments import PaymentStatus, Rail
from loc_core.ports import Severity
from loc_core.services.commands import RecoverTransfers

DUE = dt.date(2026, 1, 20)  # the loan's first installment's due date (`due_loan`'s)
LINE_DUE = dt.date(2026, 4, 27)  # `Deployment.billed_line`'s minimum's due date


@pytest.fixture
def loan(due_loan: Loan) -> Loan:
    """The loan, the clock at 10:00 on its first due date (`DUE`)."""
    return due_loan


def _pay_and_lose_the_answer(world: Deployment, loan: Loan) -> str:
    """The borrower pays the first installment whole by pinless, which takes it; the
    answer is lost. The payment's key."""
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_loan(loan, 5_250, key="on-time")
    (request,) = [r for r in world.sim.submitted if "on-time" in r.idempotency_key]
    return request.idempotency_key


def test_a_loan_payment_booked_by_the_recovery_job_a_week_late_takes_back_its_late_fee(
    world: Deployment, loan: Loan
) -> None:
    key = _pay_and_lose_the_answer(world, loan)
    world.run_daily_loan_jobs(DUE, DUE + dt.timedelta(days=6))
    assert world.loan(loan.loan_id).installments[0].late_fee > 0  # what the borrower saw

    world.at(DUE + dt.timedelta(days=7), 7)
    assert world.bus.handle(RecoverTransfers()).booked == 1

    booked = world.sound_loan(loan.loan_id)
    first = booked.installments[0]
    assert (first.late_fee, first.outstanding_balance) == (0, 0)
    assert booked.payments[key].submitted_on == DUE
    assert booked.payments[key].status is PaymentStatus.PENDING  # its rail still settles it
    assert f"{key}:adjust" in world.ledger(loan.loan_id)
    assert world.alerts(Severity.CRITICAL) == []


def test_a_debit_taken_beyond_the_correction_reach_is_booked_as_of_today_and_alerted(
    world: Deployment, loan: Loan
) -> None:
    key = _pay_and_lose_the_answer(world, loan)
    reach = world.loan(loan.loan_id).product.corrections.reach
    booked_on = DUE + reach + dt.timedelta(days=10)

    world.at(booked_on, 7)
    assert world.bus.handle(RecoverTransfers()).booked == 1

    payment = world.sound_loan(loan.loan_id).payments[key]
    assert payment.submitted_on == booked_on  # money moved: booked, as of today
    (alert,) = world.alerts(Severity.CRITICAL)
    assert alert.details["taken_on"] == DUE.isoformat()
    assert "CorrectionTooOld" in str(alert.details["refused"])
    assert world.bus.handle(RecoverTransfers()).booked == 0  # nothing left to fail on


def test_a_line_minimum_debit_booked_by_the_recovery_job_late_leaves_the_line_never_past_due() -> (
    None
):
    world = Deployment.build(now=dt.datetime(2026, 3, 5, 14, tzinfo=dt.UTC), seed=11)
    line: CreditLine = world.billed_line()
    world.at(LINE_DUE, 15)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    world.due()  # pinless takes the minimum; the answer is lost
    (request,) = [r for r in world.sim.submitted if r.idempotency_key.startswith("due:")]
    for day in range(1, 4):
        world.at(LINE_DUE + dt.timedelta(days=day), 16)
        world.overdue()
    late = world.line(line)
    assert (late.status, late.fee_balance) == (LineStatus.SUSPENDED, 500)

    world.at(LINE_DUE + dt.timedelta(days=4), 7)
    assert world.bus.handle(RecoverTransfers()).booked == 1

    booked = world.line(line)
    assert (booked.status, booked.fee_balance, booked.past_due_since) == (
        LineStatus.ACTIVE,
        0,
        None,
    )
    payment = booked.payments[request.idempotency_key]
    assert (payment.submitted_on, payment.paid_fees) == (LINE_DUE, 0)  # no fee, none paid
    assert f"{payment.payment_id}:adjust" in world.ledger(line.line_id)
