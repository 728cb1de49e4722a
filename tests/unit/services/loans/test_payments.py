"""Manual payments: refused before money moves, collected once, booked once, with a receipt."""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import Crash, CrashingUnitOfWork, InterferingUnitOfWork, meanwhile

from loc_adapters.memory import RailBehaviour
from loc_core.errors import (
    IdempotencyConflict,
    InvalidRequest,
    InvalidTransition,
    LockNotAcquired,
    NotFound,
    Overpayment,
    RailDeclined,
)
from loc_core.installment import InstallmentStatus, Loan, LoanStatus, Process
from loc_core.ledger import CLEARING, Bucket, receivable
from loc_core.payments import Direction, PaymentStatus, Rail
from loc_core.ports import UnitOfWork
from loc_core.services.commands import GetPaymentReceipt, MakePayment
from loc_core.services.loans import payment_lease_key
from loc_core.testing.installment import ledger_problems


@pytest.fixture
def loan(world: Deployment) -> Loan:
    made = world.open_loan()
    world.at(dt.date(2026, 1, 12))
    return made


def test_a_payment_is_collected_by_pinless_applied_and_receipted(
    world: Deployment, loan: Loan
) -> None:
    receipt = world.pay_loan(loan, 7_000)
    payment_id = f"manual:{loan.loan_id}:pay-1:pinless"
    assert (receipt.payment_id, receipt.amount, receipt.rail, receipt.process) == (
        payment_id,
        7_000,
        Rail.PINLESS,
        Process.MANUAL,
    )
    assert (receipt.status, receipt.submitted_on, receipt.loan_outstanding_balance) == (
        PaymentStatus.PENDING,
        dt.date(2026, 1, 12),
        24_500,
    )
    assert [
        (line.installment_number, line.amount, line.origination_fee, line.principal)
        for line in receipt.lines
    ] == [(1, 5_250, 250, 5_000), (2, 1_750, 250, 1_500)]
    [debit] = world.sim.submitted[1:]
    assert (debit.direction, debit.amount, debit.idempotency_key) == (
        Direction.DEBIT,
        7_000,
        payment_id,
    )
    stored = world.loan(loan.loan_id)
    assert stored.outstanding_balance == 24_500
    assert stored.installments[0].status is InstallmentStatus.COMPLETED
    ledger = world.ledger(loan.loan_id)
    assert ledger.balance(CLEARING) == 7_000
    assert ledger.balance(receivable(loan.loan_id, Bucket.PRINCIPAL)) == 30_000 - 6_500
    assert ledger_problems(stored, ledger) == []
    assert world.audit_processes("payment", payment_id) == ["MANUAL"]
    assert world.metrics.count("loc.loans.payments.collected") == 1


def test_paying_twice_with_one_key_collects_once(world: Deployment, loan: Loan) -> None:
    first = world.pay_loan(loan, 7_000)
    again = world.pay_loan(loan, 7_000)
    assert again == first
    assert len(world.sim.submitted) == 2  # the disbursement and one debit
    assert world.loan(loan.loan_id).outstanding_balance == 24_500
    with pytest.raises(IdempotencyConflict):
        world.pay_loan(loan, 8_000)


def test_a_repeat_after_the_idempotency_record_expired_still_collects_nothing(
    world: Deployment, loan: Loan
) -> None:
    first = world.pay_loan(loan, 7_000)
    world.clock.advance(dt.timedelta(days=2))
    again = world.pay_loan(loan, 7_000)
    assert again.payment_id == first.payment_id
    assert len(world.sim.submitted) == 2


def test_an_overpayment_or_a_closed_loan_is_refused_before_any_rail(
    world: Deployment, loan: Loan
) -> None:
    with pytest.raises(Overpayment, match=r"a payment of \$315.01 is more than the \$315.00 owed"):
        world.pay_loan(loan, 31_501)
    with pytest.raises(InvalidRequest, match="amount"):
        world.pay_loan(loan, 0, key="pay-0")
    assert len(world.sim.submitted) == 1
    world.pay_loan(loan, 31_500, key="payoff")
    assert world.loan(loan.loan_id).status is LoanStatus.CLOSED
    assert world.sent() == ["loan_disbursed", "loan_closed"]
    with pytest.raises(InvalidTransition, match="CLOSED"):
        world.pay_loan(loan, 100, key="after")
    assert len(world.sim.submitted) == 2


def test_ach_collects_when_pinless_is_down(world: Deployment, loan: Loan) -> None:
    world.sim.down = {Rail.PINLESS}
    receipt = world.pay_loan(loan, 5_250)
    assert (receipt.rail, receipt.payment_id) == (Rail.ACH, f"manual:{loan.loan_id}:pay-1:ach")


def test_declined_everywhere_books_nothing(world: Deployment, loan: Loan) -> None:
    world.sim.behaviour = RailBehaviour(decline_probability=1)
    with pytest.raises(RailDeclined, match=r"pinless declined: .*; ach declined"):
        world.pay_loan(loan, 5_250)
    assert world.loan(loan.loan_id).payments == {}
    assert world.metrics.count("loc.loans.payments.failed") == 1
    with pytest.raises(RailDeclined):  # the same request gets the same answer
        world.pay_loan(loan, 5_250)


def test_a_payment_waits_while_autopay_holds_the_loan(world: Deployment, loan: Loan) -> None:
    world.lock.acquire(
        payment_lease_key("user-1", loan.loan_id), owner="worker-1", ttl=dt.timedelta(minutes=2)
    )
    with pytest.raises(LockNotAcquired):
        world.pay_loan(loan, 5_250)
    assert len(world.sim.submitted) == 1


def test_a_concurrent_writer_between_the_rail_and_the_commit_does_not_lose_the_payment(
    world: Deployment, loan: Loan
) -> None:
    def autopay_off(_: object) -> None:  # a writer holding no lease (not SetAutopay: refused)
        world.edit_loan(
            loan,
            lambda stored: stored.set_autopay(False, today=world.today, reason="another writer"),
        )

    world.rails.handler = meanwhile(world.sim, autopay_off)
    world.pay_loan(loan, 5_250)
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, stored.autopay_enabled, len(stored.payments)) == (
        26_250,
        False,
        1,
    )
    assert len(world.sim.submitted) == 2


def test_a_conflict_at_commit_is_retried_on_a_fresh_read(world: Deployment, loan: Loan) -> None:
    def autopay_off() -> None:  # a writer holding no lease (not SetAutopay: refused)
        world.edit_loan(
            loan,
            lambda stored: stored.set_autopay(False, today=world.today, reason="another writer"),
        )

    racing = InterferingUnitOfWork(world.database, autopay_off)
    world.replacing(UnitOfWork, racing).handle(MakePayment("user-1", loan.loan_id, 5_250, "pay-1"))
    assert world.loan(loan.loan_id).outstanding_balance == 26_250


def test_a_crash_after_the_rail_is_finished_by_the_retry_without_a_second_debit(
    world: Deployment, loan: Loan
) -> None:
    with pytest.raises(Crash):
        world.crashing_uow(lambda db: CrashingUnitOfWork(db, on_commit=2)).handle(
            MakePayment("user-1", loan.loan_id, 5_250, "pay-1")
        )
    assert world.alert_titles() == ["money moved but not booked: manual payment"]
    assert world.loan(loan.loan_id).payments == {}
    receipt = world.pay_loan(loan, 5_250)
    assert receipt.loan_outstanding_balance == 26_250
    assert len(world.sim.submitted) == 2


def test_a_receipt_is_found_by_payment_id_and_follows_the_payment(
    world: Deployment, loan: Loan
) -> None:
    paid = world.pay_loan(loan, 5_250)
    world.at(dt.date(2026, 1, 13))
    [event] = [e for e in world.sim.due_events() if e.idempotency_key == paid.payment_id]
    world.settle(event)
    found = world.bus.handle(GetPaymentReceipt(loan.user_id, paid.payment_id))
    assert (found.status, found.settled_on, found.as_of, found.lines) == (
        PaymentStatus.COMPLETED,
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 13),
        paid.lines,
    )
    with pytest.raises(NotFound):
        world.bus.handle(GetPaymentReceipt(loan.user_id, "nope"))
    with pytest.raises(NotFound, match="no payment") as refused:
        world.bus.handle(GetPaymentReceipt("user-2", paid.payment_id))
    assert refused.value.context == {
        "entity": "payment",
        "entity_id": paid.payment_id,
        "user_id": "user-2",
    }
