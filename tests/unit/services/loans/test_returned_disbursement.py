"""A loan whose disbursement the rail returns is cancelled as of its disbursement day.

The borrower never got the money: nothing is owed, what they paid is a refund due, no
job collects or charges, the books hold only the refunds, and the same return (or a
completion after it) changes nothing.
"""

import datetime as dt

import attrs
import pytest
from deployment import Deployment
from fakes import Crash, CrashingUnitOfWork, settlement

from loc_adapters.iterable import contract
from loc_core.bookkeeping import owner_accounts
from loc_core.errors import CorrectionTooOld, LoanCancelled
from loc_core.events import EventType
from loc_core.installment import InstallmentStatus, Loan, LoanStatus
from loc_core.ledger import CLEARING, FUNDING, Bucket, income, refund_due
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, Severity
from loc_core.services.commands import (
    ApplyForLoan,
    CollectionResult,
    EnqueueDueInstallments,
    SettlementHandling,
    SettleTransfer,
)
from loc_core.services.loans import disbursement_key

LEARNED = dt.datetime(2026, 1, 9, 12, tzinfo=dt.UTC)
"""Friday: an ACH credit return (R03, no such account) comes a few banking days later."""


@pytest.fixture
def loan(world: Deployment) -> Loan:
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    return world.open_loan()


def disbursement(
    loan: Loan, outcome: SettlementOutcome, at: dt.datetime = LEARNED
) -> SettlementEvent:
    """The rail's word on the loan's disbursement (a return says R03)."""
    key = disbursement_key(loan.user_id, loan.application_id, loan.disbursement_method)
    return attrs.evolve(
        settlement(key, outcome, at, loan.disbursement_method),
        confirmation_id=loan.confirmation_id,
        return_code="R03" if outcome is not SettlementOutcome.COMPLETED else "",
    )


def books(world: Deployment, loan: Loan) -> dict[str, int]:
    """The loan's accounts and the lender's, as its entries leave them (zeros left out)."""
    ledger = world.ledger(loan.loan_id)
    accounts = {*owner_accounts(loan.loan_id), FUNDING, CLEARING}
    accounts |= {income(bucket) for bucket in Bucket}
    return {a: ledger.balance(a) for a in sorted(accounts) if ledger.balance(a)}


def test_a_returned_disbursement_cancels_the_loan_as_of_its_disbursement(
    world: Deployment, loan: Loan
) -> None:
    returned = disbursement(loan, SettlementOutcome.RETURNED)
    assert world.settle(returned) is SettlementHandling.REVERSED
    stored = world.sound_loan(loan.loan_id)
    assert (stored.status, stored.outstanding_balance, stored.completion_date) == (
        LoanStatus.CANCELLED,
        0,
        loan.disbursement_date,
    )
    assert not stored.autopay_enabled
    assert {i.status for i in stored.installments} == {InstallmentStatus.CANCELLED}
    assert sum(i.total_amount for i in stored.installments) == 0
    assert (stored.loan_amount, stored.total_amount) == (loan.loan_amount, loan.total_amount)
    ledger = world.ledger(loan.loan_id)
    assert [(e.kind, e.effective_date) for e in ledger] == [
        ("disbursement", loan.disbursement_date),
        ("disbursement_returned", LEARNED.date()),
    ]
    assert books(world, loan) == {}  # funding back, fee income taken back
    assert world.sent() == ["loan_disbursed", "loan_cancelled"]
    cancelled = world.notifier.sent[-1]
    assert set(cancelled.data) == contract.DATA_FIELDS[EventType.LOAN_CANCELLED]
    assert (cancelled.data["amount_disbursed"], cancelled.data["refund_due"]) == (
        loan.amount_disbursed,
        0,
    )
    [alert] = world.alerts()
    assert alert.severity is Severity.WARNING
    assert alert.details["return_code"] == "R03"
    assert "cancelled" in alert.title
    assert world.audit_processes("loan", loan.loan_id)[-1] == "CORRECTION"


def test_the_same_return_twice_and_a_completion_after_it_change_nothing(
    world: Deployment, loan: Loan
) -> None:
    returned = disbursement(loan, SettlementOutcome.RETURNED)
    world.settle(returned)
    after = (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent())
    assert world.settle(returned) is SettlementHandling.DUPLICATE
    late = disbursement(loan, SettlementOutcome.COMPLETED, LEARNED + dt.timedelta(hours=1))
    assert world.settle(late) is SettlementHandling.DUPLICATE
    assert (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent()) == after
    assert [a.severity for a in world.alerts()] == [Severity.WARNING]


def test_a_return_after_the_completion_still_cancels(world: Deployment, loan: Loan) -> None:
    """ACH credit returns come after the credit settled."""
    completed = disbursement(loan, SettlementOutcome.COMPLETED, LEARNED - dt.timedelta(days=2))
    assert world.settle(completed) is SettlementHandling.DISBURSEMENT
    assert world.settle(disbursement(loan, SettlementOutcome.RETURNED)) is (
        SettlementHandling.REVERSED
    )
    assert world.loan(loan.loan_id).status is LoanStatus.CANCELLED


def test_what_the_borrower_paid_becomes_a_refund_due_and_a_return_of_it_cancels_that(
    world: Deployment, loan: Loan
) -> None:
    world.at(dt.date(2026, 1, 7))
    paid = world.pay_loan(loan, 12_000, key="prepay")  # a prepayment, still PENDING
    world.settle(disbursement(loan, SettlementOutcome.RETURNED))
    stored = world.sound_loan(loan.loan_id)
    payment = stored.payments[paid.payment_id]
    assert payment.applications == ()
    assert payment.refund is not None
    assert (payment.refund.amount, stored.refunds_due) == (12_000, 12_000)
    assert books(world, loan) == {CLEARING: 12_000, refund_due(loan.loan_id): -12_000}
    assert world.sent()[-2:] == ["refund_due", "loan_cancelled"]
    assert world.notifier.sent[-1].data["refund_due"] == 12_000
    assert [a.title for a in world.alerts()][-1] == "refund due"

    # The prepayment itself is returned later: the money never stayed, nothing is owed back.
    bounced = settlement(
        paid.payment_id,
        SettlementOutcome.RETURNED,
        dt.datetime(2026, 1, 12, 12, tzinfo=dt.UTC),
        Rail.ACH,
    )
    assert world.settle(bounced) is SettlementHandling.REVERSED
    stored = world.sound_loan(loan.loan_id)
    assert stored.payments[paid.payment_id].status is PaymentStatus.RETURNED
    assert (stored.status, stored.refunds_due) == (LoanStatus.CANCELLED, 0)
    assert books(world, loan) == {}
    failed = world.notifier.sent[-1]
    assert failed.type.value == "payment_failed"
    assert (failed.data["amount_due"], failed.data["next_due_date"]) == (0, None)


def test_a_late_fee_is_taken_back_and_nothing_is_charged_afterwards(
    world: Deployment, loan: Loan
) -> None:
    first = loan.installments[0]
    world.at(first.due_date + dt.timedelta(days=6))
    world.run_daily_loan_job()
    assert world.loan(loan.loan_id).late_fees_assessed > 0
    world.settle(disbursement(loan, SettlementOutcome.RETURNED, world.clock.now()))
    assert books(world, loan) == {}  # late-fee and origination-fee income taken back
    asked = len(world.rails.calls)
    for week in range(1, 10):  # the daily job and collections for two months and more
        world.at(first.due_date + dt.timedelta(days=6 + 7 * week))
        world.run_daily_loan_job()
        assert world.run_collections() == []
    stored = world.sound_loan(loan.loan_id)
    assert (stored.status, stored.late_fees_assessed, stored.outstanding_balance) == (
        LoanStatus.CANCELLED,
        0,
        0,
    )
    assert world.sent().count("installment_overdue") == 1
    assert "loan_defaulted" not in world.sent()
    assert len(world.rails.calls) == asked  # no debit was ever tried


def test_a_defaulted_loan_is_cancelled_and_its_allowance_released(
    world: Deployment, loan: Loan
) -> None:
    first = loan.installments[0]
    world.at(first.due_date + dt.timedelta(days=6))
    world.run_daily_loan_job()
    world.at(first.due_date + dt.timedelta(days=70))
    world.run_daily_loan_job()
    assert world.loan(loan.loan_id).status is LoanStatus.DEFAULTED
    world.settle(disbursement(loan, SettlementOutcome.RETURNED, world.clock.now()))
    stored = world.sound_loan(loan.loan_id)
    assert stored.status is LoanStatus.CANCELLED
    assert books(world, loan) == {}  # receivables, allowance, fee income: all back to 0
    assert world.ledger(loan.loan_id).balance("expense:credit_loss") == 0


def test_a_cancelled_loan_refuses_payments_and_the_borrower_may_apply_again(
    world: Deployment, loan: Loan
) -> None:
    world.settle(disbursement(loan, SettlementOutcome.RETURNED))
    before = (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)))
    asked = len(world.rails.calls)
    with pytest.raises(LoanCancelled):
        world.pay_loan(loan, 1_000, key="after")
    assert (world.loan(loan.loan_id), len(world.ledger(loan.loan_id))) == before
    assert len(world.rails.calls) == asked  # no rail was asked
    again = world.bus.handle(ApplyForLoan("user-1", 20_000, "apply-again"))
    assert again.loan_id is None
    assert again.status.value == "APPROVED"


def test_a_return_beyond_the_correction_reach_is_alerted_and_changes_nothing(
    world: Deployment, loan: Loan
) -> None:
    late = disbursement(loan, SettlementOutcome.RETURNED, LEARNED + dt.timedelta(days=130))
    with pytest.raises(CorrectionTooOld):
        world.settle(late)
    assert world.loan(loan.loan_id).status is LoanStatus.OPEN
    assert len(world.ledger(loan.loan_id)) == 1
    assert [a.severity for a in world.alerts()] == [Severity.CRITICAL]


def test_a_return_the_loan_does_not_record_changes_nothing(world: Deployment, loan: Loan) -> None:
    stranger = attrs.evolve(
        disbursement(loan, SettlementOutcome.RETURNED), confirmation_id="another"
    )
    assert world.settle(stranger) is SettlementHandling.DISBURSEMENT
    assert world.loan(loan.loan_id).status is LoanStatus.OPEN
    assert [a.severity for a in world.alerts()] == [Severity.CRITICAL]


def test_a_crash_before_the_commit_loses_nothing(world: Deployment, loan: Loan) -> None:
    world.pay_loan(loan, 5_000, key="early")
    returned = disbursement(loan, SettlementOutcome.RETURNED)
    crashing = world.crashing_uow(CrashingUnitOfWork)
    with pytest.raises(Crash):
        crashing.handle(SettleTransfer(returned))
    assert world.loan(loan.loan_id).status is LoanStatus.OPEN
    assert "loan_cancelled" not in world.sent()
    assert world.settle(returned) is SettlementHandling.REVERSED  # the rail delivers again
    world.sound_loan(loan.loan_id)
    assert world.sent().count("loan_cancelled") == 1


def test_an_autopay_message_queued_before_the_return_charges_nothing(
    world: Deployment, loan: Loan
) -> None:
    first = loan.installments[0]
    world.at(first.due_date, 9)
    world.bus.handle(EnqueueDueInstallments())  # queued before the return is learned
    world.settle(disbursement(loan, SettlementOutcome.RETURNED, world.clock.now()))
    asked = len(world.rails.calls)
    [delivery] = world.queue.receive(max_messages=10, visibility=dt.timedelta(minutes=5))
    result = world.bus.handle_message(delivery.message)
    assert isinstance(result, CollectionResult)
    assert (result.outcome.value, result.reason) == ("skipped", "LOAN_CANCELLED")
    assert len(world.rails.calls) == asked
    assert world.loan(loan.loan_id).payments == {}
