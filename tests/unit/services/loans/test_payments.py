"""Manual payments: refused before money moves, collected once, booked once, with a receipt."""

import datetime as dt

import pytest
from unit.services.loans.harness import CommitDuring, CrashingUnitOfWork, RailsDuring, World

from loc_adapters.memory import RailBehaviour
from loc_core.errors import (
    ExternalServiceError,
    IdempotencyConflict,
    InvalidAmount,
    InvalidTransition,
    LockNotAcquired,
    NotFound,
    Overpayment,
    RailDeclined,
)
from loc_core.installment import InstallmentStatus, Loan, LoanStatus, Process
from loc_core.ledger import CLEARING, Bucket, receivable
from loc_core.payments import Direction, PaymentStatus, Rail
from loc_core.services.loans import (
    GetPaymentReceipt,
    SetAutopay,
    get_payment_receipt,
    payment_lease_key,
    set_autopay,
)
from loc_core.testing.installment import ledger_problems


@pytest.fixture
def world() -> World:
    return World.in_memory()


@pytest.fixture
def loan(world: World) -> Loan:
    made = world.open_loan()
    world.at(dt.date(2026, 1, 12))
    return made


def test_a_payment_is_collected_by_pinless_applied_and_receipted(world: World, loan: Loan) -> None:
    receipt = world.pay(loan, 7_000)
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
    [debit] = world.rails.submitted[1:]
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


def test_paying_twice_with_one_key_collects_once(world: World, loan: Loan) -> None:
    first = world.pay(loan, 7_000)
    again = world.pay(loan, 7_000)
    assert again == first
    assert len(world.rails.submitted) == 2  # the disbursement and one debit
    assert world.loan(loan.loan_id).outstanding_balance == 24_500
    with pytest.raises(IdempotencyConflict):
        world.pay(loan, 8_000)


def test_a_repeat_after_the_idempotency_record_expired_still_collects_nothing(
    world: World, loan: Loan
) -> None:
    first = world.pay(loan, 7_000)
    world.clock.advance(dt.timedelta(days=2))
    again = world.pay(loan, 7_000)
    assert again.payment_id == first.payment_id
    assert len(world.rails.submitted) == 2


def test_an_overpayment_or_a_closed_loan_is_refused_before_any_rail(
    world: World, loan: Loan
) -> None:
    with pytest.raises(Overpayment, match=r"a payment of \$315.01 is more than the \$315.00 owed"):
        world.pay(loan, 31_501)
    with pytest.raises(InvalidAmount):
        world.pay(loan, 0, key="pay-0")
    assert len(world.rails.submitted) == 1
    world.pay(loan, 31_500, key="payoff")
    assert world.loan(loan.loan_id).status is LoanStatus.CLOSED
    assert world.sent() == ["loan_disbursed", "loan_closed"]
    with pytest.raises(InvalidTransition, match="CLOSED"):
        world.pay(loan, 100, key="after")
    assert len(world.rails.submitted) == 2


def test_ach_collects_when_pinless_is_down(world: World, loan: Loan) -> None:
    world.rails.down = {Rail.PINLESS}
    receipt = world.pay(loan, 5_250)
    assert (receipt.rail, receipt.payment_id) == (Rail.ACH, f"manual:{loan.loan_id}:pay-1:ach")


def test_declined_everywhere_books_nothing(world: World, loan: Loan) -> None:
    world.rails.behaviour = RailBehaviour(decline_probability=1)
    with pytest.raises(RailDeclined, match=r"pinless declined: .*; ach declined"):
        world.pay(loan, 5_250)
    assert world.loan(loan.loan_id).payments == {}
    assert world.metrics.count("loc.loans.payments.failed") == 1
    with pytest.raises(RailDeclined):  # the same request gets the same answer
        world.pay(loan, 5_250)


def test_every_rail_down_is_alerted_and_the_same_key_succeeds_later(
    world: World, loan: Loan
) -> None:
    world.rails.down = {Rail.PINLESS, Rail.ACH}
    with pytest.raises(ExternalServiceError, match="no rail accepted"):
        world.pay(loan, 5_250)
    assert world.alerts() == [f"every payment rail is down: payment on loan {loan.loan_id}"]
    assert world.loan(loan.loan_id).payments == {}
    world.rails.down = set()
    assert world.pay(loan, 5_250).status is PaymentStatus.PENDING
    assert len(world.rails.submitted) == 2


def test_a_payment_waits_while_autopay_holds_the_loan(world: World, loan: Loan) -> None:
    world.lock.acquire(
        payment_lease_key("user-1", loan.loan_id), owner="worker-1", ttl=dt.timedelta(minutes=2)
    )
    with pytest.raises(LockNotAcquired):
        world.pay(loan, 5_250)
    assert len(world.rails.submitted) == 1


def test_a_concurrent_writer_between_the_rail_and_the_commit_does_not_lose_the_payment(
    world: World, loan: Loan
) -> None:
    def borrower_turns_autopay_off(_: object) -> None:
        set_autopay(
            SetAutopay("user-1", loan.loan_id, enabled=False),
            uow=world.new_uow(),
            clock=world.clock,
        )

    world.pay(loan, 5_250, rails=RailsDuring(world.rails, during=borrower_turns_autopay_off))
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, stored.autopay_enabled, len(stored.payments)) == (
        26_250,
        False,
        1,
    )
    assert len(world.rails.submitted) == 2


def test_a_conflict_at_commit_is_retried_on_a_fresh_read(world: World, loan: Loan) -> None:
    assert world.database is not None
    uow = CommitDuring(
        world.database,
        during=lambda: set_autopay(
            SetAutopay("user-1", loan.loan_id, enabled=False),
            uow=world.new_uow(),
            clock=world.clock,
        ),
    )
    world.pay(loan, 5_250, uow=uow)
    assert world.loan(loan.loan_id).outstanding_balance == 26_250


def test_a_crash_after_the_rail_is_finished_by_the_retry_without_a_second_debit(
    world: World, loan: Loan
) -> None:
    assert world.database is not None
    with pytest.raises(RuntimeError):
        world.pay(loan, 5_250, uow=CrashingUnitOfWork(world.database))
    assert world.alerts() == ["money moved but not booked: manual payment"]
    assert world.loan(loan.loan_id).payments == {}
    receipt = world.pay(loan, 5_250)
    assert receipt.loan_outstanding_balance == 26_250
    assert len(world.rails.submitted) == 2


def test_a_receipt_is_found_by_payment_id_and_follows_the_payment(world: World, loan: Loan) -> None:
    paid = world.pay(loan, 5_250)
    world.at(dt.date(2026, 1, 13))
    [event] = [e for e in world.rails.due_events() if e.idempotency_key == paid.payment_id]
    world.settle(event)
    found = get_payment_receipt(
        GetPaymentReceipt(paid.payment_id), uow=world.new_uow(), clock=world.clock
    )
    assert (found.status, found.settled_on, found.as_of, found.lines) == (
        PaymentStatus.COMPLETED,
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 13),
        paid.lines,
    )
    with pytest.raises(NotFound):
        get_payment_receipt(GetPaymentReceipt("nope"), uow=world.new_uow(), clock=world.clock)
