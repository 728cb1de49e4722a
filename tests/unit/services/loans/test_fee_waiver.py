"""An operator waives an installment's late fee: a correction as of the day it was charged."""

import datetime as dt

import attrs
import pytest
from deployment import Deployment
from fakes import settlement

from loc_adapters.iterable import contract
from loc_core.errors import (
    CorrectionTooOld,
    IdempotencyConflict,
    InvalidRequest,
    LocError,
    NoLateFee,
    NotFound,
)
from loc_core.events import EventType
from loc_core.installment import InstallmentStatus, Loan, LoanStatus
from loc_core.ledger import Bucket, JournalEntry, allowance, income, receivable, refund_due
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import ReconcileLoan, SettlementHandling, WaiveLateFee
from loc_core.services.loans import FEE_WAIVER_TOO_OLD
from loc_core.testing.installment import balances_and_statuses, ledger_problems

FEE = 263
"""The first installment's late fee: the lower of $5 and 5 % of $52.50, half-up."""
OVERDUE_ON = dt.date(2026, 1, 25)
"""The first installment's overdue day (due 01-20, five days of grace)."""


@pytest.fixture
def loan(world: Deployment) -> Loan:
    """user-1's $300 loan without autopay, its first installment OVERDUE with its fee."""
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    made = world.open_loan(autopay=False)
    world.run_daily_loan_jobs(dt.date(2026, 1, 6), OVERDUE_ON)
    assert world.loan(made.loan_id).installments[0].late_fee == FEE
    return made


def waiver(loan: Loan, number: int = 1, **changes: str) -> WaiveLateFee:
    command = WaiveLateFee(
        user_id=loan.user_id,
        loan_id=loan.loan_id,
        installment_id=loan.installments[number - 1].installment_id,
        reason="autopay never presented: every rail was down",
        idempotency_key="waive-1",
    )
    return attrs.evolve(command, **changes)


def entries(world: Deployment, loan: Loan) -> dict[str, JournalEntry]:
    return {entry.entry_id: entry for entry in world.ledger(loan.loan_id)}


def sound(world: Deployment, loan: Loan) -> Loan:
    """The stored loan, checked against its books and the reconciliation."""
    stored = world.sound_loan(loan.loan_id)
    assert ledger_problems(stored, world.ledger(loan.loan_id)) == []
    assert world.bus.handle(ReconcileLoan(loan.user_id, loan.loan_id)).problems == ()
    return stored


def test_an_unpaid_fee_waived_is_owed_no_more_and_never_charged_again(
    world: Deployment, loan: Loan
) -> None:
    world.at(dt.date(2026, 1, 27), 10)
    waived = world.bus.handle(waiver(loan))

    assert (waived.amount, waived.effective_on, waived.waived_on) == (
        FEE,
        OVERDUE_ON,
        dt.date(2026, 1, 27),
    )
    assert waived.outstanding_balance == 31_500
    stored = sound(world, loan)
    first = stored.installments[0]
    assert (first.status, first.late_fee, first.total_amount, first.outstanding_balance) == (
        InstallmentStatus.OVERDUE,
        0,
        5_250,
        5_250,
    )
    assert stored.outstanding_balance == 31_500
    adjustment = entries(world, loan)[f"{first.installment_id}:fee_waived:adjust"]
    assert adjustment.effective_date == dt.date(2026, 1, 27)
    assert adjustment.net(income(Bucket.LATE_FEE)) == FEE
    assert adjustment.net(receivable(loan.loan_id, Bucket.LATE_FEE)) == -FEE
    [told] = [e for e in world.notifier.sent if e.type is EventType.LATE_FEE_WAIVED]
    assert set(told.data) == contract.DATA_FIELDS[EventType.LATE_FEE_WAIVED]
    assert (told.data["amount"], told.data["outstanding_balance"]) == (FEE, 31_500)
    assert "FEE_WAIVER" in world.audit_processes("installment", first.installment_id)
    reasons = [record.change.reason for record in world.audit("installment", first.installment_id)]
    assert f"late fee of {FEE} cents waived: {waived.reason}" in reasons

    world.run_daily_loan_jobs(dt.date(2026, 1, 27), dt.date(2026, 2, 2))
    again = sound(world, loan)
    assert again.installments[0].late_fee == 0
    assert again.late_fees_assessed == 0


def test_a_paid_fee_waived_pays_what_the_payment_would_have_paid_without_it(
    world: Deployment, loan: Loan
) -> None:
    world.at(dt.date(2026, 1, 27), 10)
    paid = world.pay_loan(loan, 5_250 + FEE)
    world.at(dt.date(2026, 1, 28), 10)
    world.bus.handle(waiver(loan))

    stored = sound(world, loan)
    first, second = stored.installments[:2]
    assert (first.status, first.total_amount, first.outstanding_balance) == (
        InstallmentStatus.COMPLETED,
        5_250,
        0,
    )
    # the fee's 263 cents pay the next installment: its origination-fee part, then principal
    [*_, on_second] = stored.payments[paid.payment_id].applications
    assert (on_second.installment_id, on_second.late_fee, on_second.origination_fee) == (
        second.installment_id,
        0,
        250,
    )
    assert on_second.principal == 13
    assert (second.status, second.outstanding_balance) == (InstallmentStatus.SCHEDULED, 4_987)
    assert stored.outstanding_balance == 31_500 - 5_513
    assert stored.refunds_due == 0


def test_a_fee_waived_after_payoff_is_a_refund_due_of_exactly_the_fee(
    world: Deployment, loan: Loan
) -> None:
    world.at(dt.date(2026, 1, 27), 10)
    paid = world.pay_loan(loan, 31_500 + FEE)
    assert world.loan(loan.loan_id).status is LoanStatus.CLOSED
    world.at(dt.date(2026, 1, 28), 10)
    sent = len(world.notifier.sent)

    waived = world.bus.handle(waiver(loan))

    assert (waived.outstanding_balance, waived.refunds_due) == (0, FEE)
    stored = sound(world, loan)
    assert stored.status is LoanStatus.CLOSED
    refund = stored.payments[paid.payment_id].refund
    assert refund is not None
    assert (refund.amount, refund.recorded_on) == (FEE, dt.date(2026, 1, 28))
    assert world.ledger(loan.loan_id).balance(refund_due(loan.loan_id)) == -FEE
    assert [e.type.value for e in world.notifier.sent[sent:]] == ["refund_due", "late_fee_waived"]
    [alert] = world.alerts(Severity.WARNING)
    assert (alert.title, alert.details["amount"]) == ("refund due", FEE)


def test_a_return_learned_after_the_waiver_replays_the_loan_and_the_fee_stays_waived(
    world: Deployment, loan: Loan
) -> None:
    world.at(dt.date(2026, 1, 26), 10)
    world.bus.handle(waiver(loan))
    world.at(dt.date(2026, 1, 27), 10)
    paid = world.pay_loan(loan, 5_250)
    assert world.loan(loan.loan_id).installments[0].status is InstallmentStatus.COMPLETED
    returned_at = dt.datetime(2026, 1, 29, 9, tzinfo=dt.UTC)
    world.clock.set(returned_at)
    event = settlement(paid.payment_id, SettlementOutcome.RETURNED, returned_at, Rail.ACH)

    assert world.settle(event) is SettlementHandling.REVERSED

    stored = sound(world, loan)
    first = stored.installments[0]
    assert (first.status, first.late_fee, first.outstanding_balance) == (
        InstallmentStatus.OVERDUE,
        0,
        5_250,
    )
    assert stored.outstanding_balance == 31_500


def test_a_defaulted_loans_fee_waived_lowers_what_is_charged_off(world: Deployment) -> None:
    world.sim.down = {Rail.PINLESS}
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 3, 26), 18)  # installments 1-5 overdue, the loan defaulted
    world.run_daily_loan_job()
    defaulted = world.loan(loan.loan_id)
    assert defaulted.status is LoanStatus.DEFAULTED
    owed = defaulted.outstanding_balance
    world.at(dt.date(2026, 3, 27), 10)

    world.bus.handle(waiver(defaulted, 2))

    stored = sound(world, loan)
    assert stored.status is LoanStatus.DEFAULTED
    assert stored.outstanding_balance == owed - FEE
    assert stored.installments[1].status is InstallmentStatus.DEFAULTED
    assert world.ledger(loan.loan_id).balance(allowance(loan.loan_id)) == -(owed - FEE)


def test_the_same_waiver_again_answers_the_same_and_changes_nothing(
    world: Deployment, loan: Loan
) -> None:
    world.at(dt.date(2026, 1, 27), 10)
    first = world.bus.handle(waiver(loan))
    before = (balances_and_statuses(world.loan(loan.loan_id)), entries(world, loan))
    sent = len(world.notifier.sent)

    assert world.bus.handle(waiver(loan)) == first
    assert (balances_and_statuses(world.loan(loan.loan_id)), entries(world, loan)) == before
    assert len(world.notifier.sent) == sent


@pytest.mark.parametrize(
    ("number", "changes", "error"),
    [
        pytest.param(1, {"reason": "another reason"}, IdempotencyConflict, id="another-reason"),
        pytest.param(1, {"idempotency_key": "waive-2"}, IdempotencyConflict, id="another-key"),
        pytest.param(2, {}, IdempotencyConflict, id="the-key-on-another-installment"),
        pytest.param(3, {"idempotency_key": "waive-3"}, NoLateFee, id="no-late-fee"),
        pytest.param(1, {"installment_id": "nope"}, NotFound, id="unknown-installment"),
        pytest.param(1, {"loan_id": "nope"}, NotFound, id="unknown-loan"),
        pytest.param(1, {"user_id": "user-2"}, NotFound, id="another-borrowers-loan"),
        pytest.param(1, {"reason": "   "}, InvalidRequest, id="blank-reason"),
        pytest.param(1, {"reason": "x" * 501}, InvalidRequest, id="reason-too-long"),
        pytest.param(1, {"idempotency_key": "a#b"}, InvalidRequest, id="bad-key"),
        pytest.param(1, {"installment_id": ""}, InvalidRequest, id="blank-installment"),
    ],
)
def test_a_refused_waiver_changes_nothing(
    world: Deployment, loan: Loan, number: int, changes: dict[str, str], error: type[LocError]
) -> None:
    world.at(dt.date(2026, 2, 3), 18)  # the second installment is overdue with its fee too
    world.run_daily_loan_job()
    world.at(dt.date(2026, 2, 4), 10)
    world.bus.handle(waiver(loan))
    before = (balances_and_statuses(world.loan(loan.loan_id)), entries(world, loan))
    sent = len(world.notifier.sent)

    with pytest.raises(error):
        world.bus.handle(waiver(world.loan(loan.loan_id), number, **changes))

    assert (balances_and_statuses(world.loan(loan.loan_id)), entries(world, loan)) == before
    assert len(world.notifier.sent) == sent


def test_a_fee_older_than_the_correction_reach_is_refused_and_alerted(
    world: Deployment, loan: Loan
) -> None:
    world.at(OVERDUE_ON + dt.timedelta(days=121), 10)
    before = (balances_and_statuses(world.loan(loan.loan_id)), entries(world, loan))

    with pytest.raises(CorrectionTooOld):
        world.bus.handle(waiver(world.loan(loan.loan_id)))

    assert (balances_and_statuses(world.loan(loan.loan_id)), entries(world, loan)) == before
    [alert] = world.alerts(Severity.CRITICAL)
    assert (alert.title, alert.details["loan_id"]) == (FEE_WAIVER_TOO_OLD, loan.loan_id)
