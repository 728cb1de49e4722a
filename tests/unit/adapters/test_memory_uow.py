"""The in-memory unit of work passes the contract the DynamoDB one will."""

import datetime as dt
import threading

import pytest
from contracts.uow import UnitOfWorkContract, UowFactory, store_loan

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryUnitOfWork,
    ManualClock,
    SimulatedUnderwriting,
)
from loc_core.errors import ConcurrencyConflict
from loc_core.installment import Process
from loc_core.payments import Rail
from loc_core.ports import Underwriting, UnitOfWork


@pytest.fixture
def new_uow() -> UowFactory:
    database = InMemoryDatabase(ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)))

    def make() -> UnitOfWork:
        return InMemoryUnitOfWork(database)

    return make


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    pass


def test_two_threads_paying_the_same_loan_apply_exactly_one(new_uow: UowFactory) -> None:
    store_loan(new_uow)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def pay(payment_id: str) -> None:
        with new_uow() as uow:
            loan = uow.loans.get("user-1", "loan-1")
            loan.apply_payment(
                payment_id, 1_000, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
            )
            uow.loans.save(loan)
            barrier.wait()
            try:
                uow.commit(actor=payment_id, request_id=payment_id)
                outcomes.append("committed")
            except ConcurrencyConflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=pay, args=(f"pay-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["committed", "conflict"]
    with new_uow() as uow:
        loan = uow.loans.get("user-1", "loan-1")
        assert loan.outstanding_balance == 31_500 - 1_000
        assert len(loan.payments) == 1
        assert [e.kind for e in uow.journal.entries_for("loan-1")] == ["disbursement", "payment"]


def test_simulated_underwriting_is_deterministic_per_user_and_request() -> None:
    first: Underwriting = SimulatedUnderwriting(seed=3)
    second = SimulatedUnderwriting(seed=3)
    answers = [first.decide_loan(f"u{n}", requested_amount=80_000) for n in range(40)]
    assert answers == [second.decide_loan(f"u{n}", requested_amount=80_000) for n in range(40)]
    approved = [a for a in answers if a.approved]
    assert 0 < len(approved) < 40
    assert all(a.loan_amount == 50_000 for a in approved)
    assert all(a.adverse_actions for a in answers if not a.approved)
