"""The in-memory unit of work passes the contract the DynamoDB one will."""

import datetime as dt

import pytest
from contracts.uow import UnitOfWorkContract, UowFactory, store_loan

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryUnitOfWork,
    ManualClock,
    SimulatedUnderwriting,
)
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


def test_simulated_underwriting_is_deterministic_per_user_and_request() -> None:
    first: Underwriting = SimulatedUnderwriting(seed=3)
    second = SimulatedUnderwriting(seed=3)
    answers = [first.decide_loan(f"u{n}", requested_amount=80_000) for n in range(40)]
    assert answers == [second.decide_loan(f"u{n}", requested_amount=80_000) for n in range(40)]
    approved = [a for a in answers if a.approved]
    assert 0 < len(approved) < 40
    assert all(a.loan_amount == 50_000 for a in approved)
    assert all(a.adverse_actions for a in answers if not a.approved)


class TestSharedReads(UnitOfWorkContract):
    """With shared reads the contract still holds, but for sharing the read object."""

    @pytest.fixture
    def new_uow(self) -> UowFactory:
        database = InMemoryDatabase(
            ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)), shared_reads=True
        )
        return lambda: InMemoryUnitOfWork(database)

    @pytest.mark.skip(reason="shared reads hand out the committed object by design")
    def test_an_added_loan_reads_back_equal_but_not_shared(self, new_uow: UowFactory) -> None:
        """Skipped: sharing is the point of the mode."""


def test_shared_reads_never_leak_a_change_that_was_not_committed() -> None:
    database = InMemoryDatabase(
        ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)), shared_reads=True
    )
    store_loan(lambda: InMemoryUnitOfWork(database))
    with InMemoryUnitOfWork(database) as uow:
        loan = uow.loans.get("user-1", "loan-1")
        loan.apply_payment(
            "pay-1", 1_000, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
        )
        # a second unit of work meanwhile reads a copy, not the object being changed
        with InMemoryUnitOfWork(database) as other:
            assert other.loans.get("user-1", "loan-1").outstanding_balance == 31_500
    # left without commit: the change is gone, the next read is the committed state
    with InMemoryUnitOfWork(database) as uow:
        again = uow.loans.get("user-1", "loan-1")
        assert again is not loan
        assert (again.outstanding_balance, again.payments) == (31_500, {})
        again.apply_payment(
            "pay-2", 2_000, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
        )
        uow.loans.save(again)
        uow.commit(actor="test", request_id="pay-2")
    with InMemoryUnitOfWork(database) as uow:
        assert uow.loans.get("user-1", "loan-1") is again  # the committed object, shared
        assert again.outstanding_balance == 29_500


def test_a_bounded_live_set_drops_the_least_recently_used_and_reads_stay_correct() -> None:
    database = InMemoryDatabase(
        ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)), shared_reads=True, live_capacity=1
    )

    def make() -> UnitOfWork:
        return InMemoryUnitOfWork(database)

    first = store_loan(make)
    store_loan(make, loan_id="loan-2", user_id="user-2")  # the only one kept live now
    with make() as uow:
        again = uow.loans.get("user-1", "loan-1")
    assert again is not first  # dropped from the live set: read back from its bytes
    assert again.installments == first.installments


def test_audit_records_can_be_counted_without_being_kept() -> None:
    database = InMemoryDatabase(
        ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)), keep_audit=False
    )
    store_loan(lambda: InMemoryUnitOfWork(database))
    assert database.audit_count > 0
    assert database.audit_records("loan", "loan-1") == []


def test_compressed_rows_read_back_the_same() -> None:
    database = InMemoryDatabase(
        ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)), compress_rows=True
    )
    loan = store_loan(lambda: InMemoryUnitOfWork(database))
    with InMemoryUnitOfWork(database) as uow:
        again = uow.loans.get("user-1", "loan-1")
    assert again.installments == loan.installments
    assert again.outstanding_balance == loan.outstanding_balance


def test_only_aggregates_kept_live_are_shared() -> None:
    database = InMemoryDatabase(
        ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)),
        shared_reads=True,
        keep_live=lambda aggregate: aggregate.outstanding_balance > 0,  # type: ignore[attr-defined]  # loans only here
    )

    def make() -> UnitOfWork:
        return InMemoryUnitOfWork(database)

    open_loan = store_loan(make)
    with make() as uow:
        assert uow.loans.get("user-1", "loan-1") is open_loan  # kept live: shared
    paid = store_loan(make, loan_id="loan-2", user_id="user-2")
    with make() as uow:
        loan = uow.loans.get("user-2", "loan-2")
        loan.apply_payment(
            "pay", 31_500, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
        )
        uow.loans.save(loan)
        uow.commit(actor="test", request_id="pay")
    with make() as uow:
        closed = uow.loans.get("user-2", "loan-2")
    assert closed is not paid
    assert closed is not loan  # not kept live once closed: every read is a copy
    assert closed.outstanding_balance == 0
