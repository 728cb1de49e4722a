"""The simulation's store keeps the unit-of-work contract while sharing what it reads."""

import datetime as dt
import gc
import pickle
import weakref
import zlib

import pytest
from contracts.uow import UnitOfWorkContract, UowFactory, pay, store_loan

from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork, ManualClock
from loc_core.creditline import CreditLine
from loc_core.errors import NotFound
from loc_core.installment import InstallmentStatus, Loan, LoanStatus, Process
from loc_core.payments import Rail
from loc_core.ports import UnitOfWork
from loc_entrypoints.simulation import Scenario, Simulation
from loc_entrypoints.simulation.clone import assert_independent
from loc_entrypoints.simulation.store import SimulationDatabase

NOW = dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)
PAID_ON = dt.date(2026, 1, 6)


def _factory(database: SimulationDatabase) -> UowFactory:
    def make() -> UnitOfWork:
        return InMemoryUnitOfWork(database)

    return make


class TestSimulationDatabase(UnitOfWorkContract):
    """The contract holds, but for sharing the read object, which is the point of the store."""

    @pytest.fixture
    def new_uow(self) -> UowFactory:
        return _factory(SimulationDatabase(ManualClock(NOW)))

    def test_an_added_loan_reads_back_equal_but_not_shared(self, new_uow: UowFactory) -> None:
        """Overridden: a read hands out the committed object itself."""
        loan = store_loan(new_uow)
        with new_uow() as uow:
            assert uow.loans.get("user-1", "loan-1") is loan


def test_shared_reads_never_leak_a_change_that_was_not_committed() -> None:
    database = SimulationDatabase(ManualClock(NOW))
    make = _factory(database)
    store_loan(make)
    with make() as uow:
        loan = uow.loans.get("user-1", "loan-1")
        loan.apply_payment("pay-1", 1_000, process=Process.MANUAL, rail=Rail.ACH, today=PAID_ON)
        # a second unit of work meanwhile reads a copy, not the object being changed
        with make() as other:
            assert other.loans.get("user-1", "loan-1").outstanding_balance == 31_500
    # left without commit: the change is gone, the next read is the committed state
    with make() as uow:
        again = uow.loans.get("user-1", "loan-1")
        assert again is not loan
        assert (again.outstanding_balance, again.payments) == (31_500, {})
        again.apply_payment("pay-2", 2_000, process=Process.MANUAL, rail=Rail.ACH, today=PAID_ON)
        uow.loans.save(again)
        uow.commit(actor="test", request_id="pay-2")
    with make() as uow:
        assert uow.loans.get("user-1", "loan-1") is again  # the committed object, shared
        assert again.outstanding_balance == 29_500


def test_a_bounded_live_set_drops_the_least_recently_used_and_reads_stay_correct() -> None:
    make = _factory(SimulationDatabase(ManualClock(NOW), live_capacity=1))
    first = store_loan(make)
    store_loan(make, loan_id="loan-2", user_id="user-2")  # the only one kept live now
    with make() as uow:
        again = uow.loans.get("user-1", "loan-1")
    assert again is not first  # dropped from the live set: read back from its row
    assert again.installments == first.installments


def test_audit_records_are_counted_not_kept() -> None:
    """Without `keep_audit` the count is the one a store keeping every record reaches."""
    database = SimulationDatabase(ManualClock(NOW), keep_audit=False)
    keeping = SimulationDatabase(ManualClock(NOW))
    for store in (database, keeping):
        store_loan(_factory(store))
        with InMemoryUnitOfWork(store) as uow:
            pay(uow, "pay-1", 1_000)
            uow.commit(actor="test", request_id="pay-1")
    assert database.audit_count == keeping.audit_count == len(keeping.user_audit_records("user-1"))
    assert keeping.audit_count > 1
    assert database.audit_records("loan", "loan-1") == []


def test_compressed_rows_are_smaller_and_read_back_the_same() -> None:
    database = SimulationDatabase(ManualClock(NOW), compress_rows=True, live_capacity=0)
    loan = store_loan(_factory(database))
    plain = InMemoryDatabase(ManualClock(NOW))
    assert len(database.freeze_row(loan)) < len(plain.freeze_row(loan)) / 2
    with InMemoryUnitOfWork(database) as uow:
        again = uow.loans.get("user-1", "loan-1")
    assert again is not loan
    assert again.installments == loan.installments
    assert again.outstanding_balance == loan.outstanding_balance


def test_a_book_keeps_only_aggregates_in_service_live() -> None:
    database = SimulationDatabase.for_book(ManualClock(NOW), borrowers=10)
    make = _factory(database)
    open_loan = store_loan(make)
    with make() as uow:
        assert uow.loans.get("user-1", "loan-1") is open_loan  # in service: shared
    paid = store_loan(make, loan_id="loan-2", user_id="user-2")
    with make() as uow:
        loan = uow.loans.get("user-2", "loan-2")
        loan.apply_payment("pay", 31_500, process=Process.MANUAL, rail=Rail.ACH, today=PAID_ON)
        uow.loans.save(loan)
        uow.commit(actor="test", request_id="pay")
    with make() as uow:
        closed = uow.loans.get("user-2", "loan-2")
    assert closed.status is LoanStatus.CLOSED
    assert closed is not paid
    assert closed is not loan  # closed: out of service, so every read is a copy
    assert database.peek(("loan", "user-2", "loan-2")) is not closed


def test_touched_keys_are_handed_out_once() -> None:
    database = SimulationDatabase(ManualClock(NOW))
    store_loan(_factory(database))
    assert database.take_touched() == [("loan", "user-1", "loan-1")]
    assert database.take_touched() == []


def _paid_loan(database: SimulationDatabase) -> Loan:
    """A stored loan with one payment committed on it."""
    make = _factory(database)
    store_loan(make)
    with make() as uow:
        loan = pay(uow, "pay-1", 1_000)
        uow.commit(actor="test", request_id="pay-1")
    return loan


def test_rows_are_copies_that_share_nothing_changeable_with_the_live_object() -> None:
    database = SimulationDatabase(ManualClock(NOW))
    loan = _paid_loan(database)
    row = database.freeze_row(loan)
    assert row is not loan
    assert row == loan
    assert_independent(loan, row)
    again = database.thaw_row(row)
    assert again is not row
    assert again == loan


def test_compressed_rows_are_compact_tuples_that_thaw_to_the_same_object() -> None:
    """Compressed rows pickle attrs classes as field tuples: every nested field comes back."""
    database = SimulationDatabase(ManualClock(NOW), compress_rows=True)
    loan = _paid_loan(database)
    row = database.freeze_row(loan)
    assert (
        len(zlib.decompress(row)) < len(InMemoryDatabase(ManualClock(NOW)).freeze_row(loan)) * 3 / 4
    )
    again = database.thaw_row(row)
    assert again is not loan
    assert again == loan
    assert pickle.dumps(again, pickle.HIGHEST_PROTOCOL) == pickle.dumps(
        loan, pickle.HIGHEST_PROTOCOL
    )


def test_a_discarded_store_reads_nothing_and_keeps_no_journal_or_counts() -> None:
    database = SimulationDatabase(ManualClock(NOW))
    _paid_loan(database)
    assert (len(database.ledger), database.audit_count, database.commits) != (0, 0, 0)
    database.discard()
    with InMemoryUnitOfWork(database) as uow, pytest.raises(NotFound):
        uow.loans.get("user-1", "loan-1")
    assert (len(database.ledger), database.audit_count, database.commits) == (0, 0, 0)
    assert database.installments(InstallmentStatus.SCHEDULED, None) == []
    assert database.take_touched() == []


def test_a_discarded_store_frees_its_aggregates_without_the_garbage_collector() -> None:
    """What a finished partition held goes at once, not when the cyclic collector walks it."""
    database = SimulationDatabase(ManualClock(NOW))
    live = weakref.ref(_paid_loan(database))
    gc.disable()
    try:
        assert live() is not None  # the store shares the committed object
        database.discard()
        assert live() is None
    finally:
        gc.enable()


def test_the_index_queries_of_a_lived_book_agree_with_its_rows() -> None:
    """Due dates and installment days, added and moved over 120 days, are found in order.

    The indexes keep their days in order as they change (a query bisects them); every
    query over the days the book holds gives what a scan of the rows gives.
    """
    simulation = Simulation.build(Scenario().resized(borrowers=40, days=120))
    simulation.run()
    database = simulation.world.database
    rows = [database.peek(key) for key in list(database._rows)]  # the rows are the oracle
    due = sorted(
        (row.next_due_date, row.user_id, row.line_id)
        for row in rows
        if isinstance(row, CreditLine) and row.next_due_date is not None
    )
    installments = sorted(
        (i.due_date, i.installment_id, i.status)
        for row in rows
        if isinstance(row, Loan)
        for i in row.installments
    )
    due_dates = sorted({on for on, _, _ in due})
    days = sorted({on for on, _, _ in installments})
    assert len(due_dates) > 5
    assert len(days) > 5
    for first, last in [(d, d) for d in due_dates] + [(due_dates[1], due_dates[-2])]:
        found = [(ref.user_id, ref.line_id) for ref in database.lines_due_between(first, last)]
        assert found == [(user, line) for on, user, line in due if first <= on <= last]
    for status in InstallmentStatus:
        for through in [None, days[0] - dt.timedelta(days=1), *days]:
            listed = database.installments(status, through)
            assert [(ref.due_date, ref.installment_id) for ref in listed] == [
                (on, installment)
                for on, installment, now in installments
                if now is status and (through is None or on <= through)
            ]
