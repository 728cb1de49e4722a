"""The `UnitOfWork` and repository contract: atomic commits, versions, indexes, audit."""

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fakes import line_offer, opened_line

from loc_core.bookkeeping import Product
from loc_core.creditline import (
    CreditLine,
    CreditLineProduct,
)
from loc_core.errors import (
    ConcurrencyConflict,
    InvalidConfiguration,
    InvalidRequest,
    InvariantViolation,
    NotFound,
)
from loc_core.events import EventType
from loc_core.installment import InstallmentStatus, Loan, LoanStatus, Process
from loc_core.ledger import Bucket, receivable
from loc_core.payments import Rail
from loc_core.ports import InstallmentRef, LineRef, LoanRef, PaymentOwner, RefPage, UnitOfWork
from loc_core.testing.installment import make_loan

UowFactory = Callable[[], UnitOfWork]
OPENED = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)


def make_line(line_id: str = "line-1", user_id: str = "user-1") -> CreditLine:
    offer = line_offer(OPENED, application_id=f"app-{line_id}", user_id=user_id)
    return opened_line(offer, line_id=line_id, cycle_day=5)


def store_loan(new_uow: UowFactory, **kwargs: object) -> Loan:
    loan = make_loan(**kwargs)  # type: ignore[arg-type]  # keyword arguments pass through
    with new_uow() as uow:
        uow.loans.add(loan)
        uow.commit(actor="test", request_id="setup")
    return loan


def pay(
    uow: UnitOfWork,
    payment_id: str,
    amount: int,
    *,
    on: dt.date = dt.date(2026, 1, 6),
    process: Process = Process.MANUAL,
    user_id: str = "user-1",
    loan_id: str = "loan-1",
) -> Loan:
    """Apply an ACH payment to a stored loan and save it in `uow` (the caller commits)."""
    loan = uow.loans.get(user_id, loan_id)
    loan.apply_payment(payment_id, amount, process=process, rail=Rail.ACH, today=on)
    uow.loans.save(loan)
    return loan


def every(page: Callable[[str | None, int], RefPage[Any]], size: int) -> list[Any]:
    """Every ref a listing gives, page after page, each page at most `size` (sorted)."""
    found: list[Any] = []
    cursor = None
    while True:
        listed = page(cursor, size)
        assert len(listed.refs) <= size
        found.extend(listed.refs)
        if listed.cursor is None:
            return sorted(found, key=str)  # a duplicate would show up twice here
        cursor = listed.cursor


class UnitOfWorkContract:
    def test_an_added_loan_reads_back_equal_but_not_shared(self, new_uow: UowFactory) -> None:
        loan = store_loan(new_uow)
        with new_uow() as uow:
            again = uow.loans.get("user-1", "loan-1")
        assert again is not loan
        assert again.installments == loan.installments
        assert (again.outstanding_balance, again.version) == (31_500, 1)
        again.outstanding_balance = 0  # a stray mutation of a copy changes nothing stored
        with new_uow() as uow:
            assert uow.loans.get("user-1", "loan-1").outstanding_balance == 31_500

    def test_a_missing_aggregate_is_not_found(self, new_uow: UowFactory) -> None:
        with new_uow() as uow, pytest.raises(NotFound, match="no loan loan-9 for user user-1"):
            uow.loans.get("user-1", "loan-9")

    def test_a_missing_aggregate_names_its_kind_id_and_owner(self, new_uow: UowFactory) -> None:
        with new_uow() as uow, pytest.raises(NotFound) as loan:
            uow.loans.get("user-1", "loan-9")
        with new_uow() as uow, pytest.raises(NotFound) as line:
            uow.lines.get("user-1", "line-9")
        assert loan.value.context == {"entity": "loan", "entity_id": "loan-9", "user_id": "user-1"}
        assert line.value.context == {"entity": "line", "entity_id": "line-9", "user_id": "user-1"}

    def test_commit_posts_the_journal_stores_audit_and_returns_events(
        self, new_uow: UowFactory
    ) -> None:
        store_loan(new_uow)
        with new_uow() as uow:
            loan = pay(uow, "pay-1", 5_250, on=dt.date(2026, 1, 10))
            events = uow.commit(actor="api", request_id="req-7")
        assert events == []  # a partial payment closes nothing; events come from settlement
        with new_uow() as uow:
            entries = uow.journal.entries_for("loan-1")
            assert [e.entry_id for e in entries] == ["loan-1:disburse", "pay-1:apply"]
            records = uow.audit.records_for("installment", "loan-1:1")
            assert records[-1].actor == "api"
            assert records[-1].request_id == "req-7"
            assert records[-1].change.process == "MANUAL"
            stored = uow.loans.get("user-1", "loan-1")
            assert stored.version == 2
            assert stored.outbox.entries == []
        assert loan.version == 2

    def test_a_stale_save_conflicts_and_nothing_of_the_commit_is_written(
        self, new_uow: UowFactory
    ) -> None:
        store_loan(new_uow)
        store_loan(new_uow, loan_id="loan-2", user_id="user-2")
        with new_uow() as first, new_uow() as second:
            mine = first.loans.get("user-1", "loan-1")
            theirs = second.loans.get("user-1", "loan-1")
            other = second.loans.get("user-2", "loan-2")
            mine.apply_payment(
                "pay-a", 100, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
            )
            first.loans.save(mine)
            first.commit(actor="a", request_id="a")
            theirs.apply_payment(
                "pay-b", 200, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
            )
            other.apply_payment(
                "pay-c", 300, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
            )
            second.loans.save(other)
            second.loans.save(theirs)
            with pytest.raises(ConcurrencyConflict, match="changed since it was read"):
                second.commit(actor="b", request_id="b")
        with new_uow() as uow:
            assert uow.loans.get("user-1", "loan-1").outstanding_balance == 31_400
            assert uow.loans.get("user-2", "loan-2").outstanding_balance == 31_500
            assert [e.entry_id for e in uow.journal.entries_for("loan-2")] == ["loan-2:disburse"]

    def test_adding_an_existing_key_conflicts(self, new_uow: UowFactory) -> None:
        store_loan(new_uow)
        with new_uow() as uow:
            uow.loans.add(make_loan())
            with pytest.raises(ConcurrencyConflict, match="already exists"):
                uow.commit(actor="test", request_id="dup")

    def test_leaving_without_commit_rolls_back(self, new_uow: UowFactory) -> None:
        with new_uow() as uow:
            uow.loans.add(make_loan())
        with new_uow() as uow, pytest.raises(NotFound):
            uow.loans.get("user-1", "loan-1")

    def test_a_with_block_inside_another_on_the_same_unit_of_work_is_refused(
        self, new_uow: UowFactory
    ) -> None:
        """Entering starts clean and leaving rolls back: a nested block would drop the
        outer block's pending writes and its commit would write nothing, silently."""
        uow = new_uow()
        with uow:
            uow.loans.add(make_loan())
            with pytest.raises(InvalidConfiguration, match="already open") as refused, uow:
                pass
            assert refused.value.invariant == "one_block_per_unit_of_work"
            uow.commit(actor="test", request_id="outer")
        with uow:  # left: open again
            assert uow.loans.get("user-1", "loan-1").outstanding_balance == 31_500

    def test_a_changed_aggregate_that_was_never_saved_refuses_the_commit(
        self, new_uow: UowFactory
    ) -> None:
        store_loan(new_uow)
        with new_uow() as uow:
            loan = uow.loans.get("user-1", "loan-1")
            loan.apply_payment(
                "pay-1", 100, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
            )
            with pytest.raises(InvariantViolation, match="never saved"):
                uow.commit(actor="test", request_id="forgot")

    def test_installment_index_finds_due_and_past_due_scheduled_installments(
        self, new_uow: UowFactory
    ) -> None:
        loan = store_loan(new_uow)
        first, second = loan.installments[0], loan.installments[1]
        with new_uow() as uow:
            due = uow.loans.installments(InstallmentStatus.SCHEDULED, due_through=first.due_date)
            before_second = second.due_date - dt.timedelta(days=1)
            late = uow.loans.installments(InstallmentStatus.SCHEDULED, due_through=before_second)
            both = uow.loans.installments(InstallmentStatus.SCHEDULED, due_through=second.due_date)
        ref = InstallmentRef("user-1", "loan-1", first.installment_id, first.due_date)
        assert due == [ref]
        assert late == [ref]
        assert [r.installment_id for r in both] == [first.installment_id, second.installment_id]
        with new_uow() as uow:
            stored = uow.loans.get("user-1", "loan-1")
            stored.apply_payment(
                "pay-1",
                first.total_amount,
                process=Process.AUTOPAY,
                rail=Rail.PINLESS,
                today=first.due_date,
            )
            uow.loans.save(stored)
            uow.commit(actor="test", request_id="pay")
        with new_uow() as uow:
            assert (
                uow.loans.installments(InstallmentStatus.SCHEDULED, due_through=first.due_date)
                == []
            )
            completed = uow.loans.installments(
                InstallmentStatus.COMPLETED, due_through=dt.date(2026, 12, 31)
            )
            assert [r.installment_id for r in completed] == [first.installment_id]
            assert uow.loans.find_payment("pay-1") == PaymentOwner(
                Product.INSTALLMENT, "user-1", "loan-1"
            )
            assert uow.lines.find_payment("pay-1") is None
            assert uow.loans.by_application("user-1", "app-loan-1") is not None
            assert [
                loan.loan_id for loan in uow.loans.for_user("user-1", status=LoanStatus.OPEN)
            ] == ["loan-1"]
            assert uow.loans.for_user("user-1", status=LoanStatus.CLOSED) == []

    def test_lines_are_found_by_cycle_day_and_due_date_and_statements_kept(
        self, new_uow: UowFactory
    ) -> None:
        line = make_line()
        with new_uow() as uow:
            uow.lines.add(line)
            uow.commit(actor="test", request_id="open")
        with new_uow() as uow:
            assert uow.lines.by_cycle_day(5) == [LineRef("user-1", "line-1")]
            assert uow.lines.by_cycle_day(6) == []
            stored = uow.lines.get("user-1", "line-1")
            statement = stored.bill_cycle(
                close_date=dt.date(2026, 2, 5),
                today=dt.date(2026, 2, 5),
                product=CreditLineProduct(),
            )
            assert statement is not None
            uow.lines.save(stored)
            uow.statements.add(statement)
            events = uow.commit(actor="billing", request_id="2026-02-05")
        assert [e.type for e in events] == [EventType.LOC_STATEMENT_READY]
        with new_uow() as uow:
            due = statement.due_date
            assert uow.lines.due_between(due, due) == [LineRef("user-1", "line-1")]
            assert uow.statements.for_line("user-1", "line-1") == [statement]
            assert uow.statements.get("user-1", "line-1", statement.statement_date) == statement
            uow.statements.add(statement)
            with pytest.raises(ConcurrencyConflict, match="already exists"):
                uow.commit(actor="billing", request_id="again")

    def test_line_refs_carry_the_hints_of_the_line_as_stored(self, new_uow: UowFactory) -> None:
        """Billing and upcoming pass over a line on its ref's hints: they must be the line's."""
        line = make_line()
        with new_uow() as uow:
            uow.lines.add(line)
            uow.commit(actor="test", request_id="open")
        with new_uow() as uow:
            (ref,) = uow.lines.by_cycle_day(5)
            assert ref.next_close == line.next_close_date == dt.date(2026, 2, 5)
            assert not ref.reminder_pending  # nothing billed: nothing to remind of
            stored = uow.lines.get("user-1", "line-1")
            stored.request_draw(draw_id="draw-1", amount=40_000, on=dt.date(2026, 1, 20))
            stored.disburse_draw(draw_id="draw-1", rail=Rail.ACH, on=dt.date(2026, 1, 20))
            statement = stored.bill_cycle(
                close_date=dt.date(2026, 2, 5),
                today=dt.date(2026, 2, 5),
                product=CreditLineProduct(),
            )
            assert statement is not None
            assert stored.minimum_payment_outstanding > 0
            uow.lines.save(stored)
            uow.statements.add(statement)
            uow.commit(actor="billing", request_id="2026-02-05")
        with new_uow() as uow:
            (billed,) = uow.lines.by_cycle_day(5)
            (due,) = uow.lines.due_between(statement.due_date, statement.due_date)
            for found in (billed, due):
                assert found.next_close == dt.date(2026, 3, 5)
                assert found.reminder_pending  # billed, owing, not reminded yet
            stored = uow.lines.get("user-1", "line-1")
            assert stored.send_upcoming_notice(
                today=statement.due_date - dt.timedelta(days=3), product=CreditLineProduct()
            ).notify
            uow.lines.save(stored)
            uow.commit(actor="loc_upcoming", request_id="reminded")
        with new_uow() as uow:
            (due,) = uow.lines.due_between(statement.due_date, statement.due_date)
            assert not due.reminder_pending
            assert due == LineRef("user-1", "line-1")  # hints are not part of a ref's identity

    def test_paging_lists_every_loan_and_line_once_whatever_the_page_size(
        self, new_uow: UowFactory
    ) -> None:
        loans = {LoanRef(f"user-{n % 3}", f"loan-{n}") for n in range(7)}
        lines = {LineRef(f"user-{n % 2}", f"line-{n}") for n in range(5)}
        for ref in loans:
            store_loan(new_uow, loan_id=ref.loan_id, user_id=ref.user_id)
        with new_uow() as uow:
            for line in lines:
                uow.lines.add(make_line(line.line_id, line.user_id))
            uow.commit(actor="test", request_id="setup")
        for size in (1, 2, 50):
            with new_uow() as uow:
                assert every(uow.loans.page, size) == sorted(loans, key=str)
                assert every(uow.lines.page, size) == sorted(lines, key=str)

    def test_a_cursor_not_from_a_listing_is_refused(self, new_uow: UowFactory) -> None:
        with new_uow() as uow, pytest.raises(InvalidRequest):
            uow.loans.page("not a cursor", 10)

    def test_reads_by_look_alike_ids_find_nothing_of_the_owner(self, new_uow: UowFactory) -> None:
        store_loan(new_uow)
        with new_uow() as uow:
            pay(uow, "pay-1", 2_000)
            uow.lines.add(make_line())
            uow.commit(actor="test", request_id="setup")
        look_alikes = [
            "user-",
            "user-10",
            "USER-1",
            "user-1#",
            "USER#user-1",
            "user-1#LOAN#loan-1",
            "",
        ]
        with new_uow() as uow:
            for user in look_alikes:
                for get, entity_id in (
                    (uow.loans.get, "loan-1"),
                    (uow.lines.get, "line-1"),
                    (uow.loan_applications.get, "app-loan-1"),
                ):
                    with pytest.raises(NotFound) as missing:
                        get(user, entity_id)
                    assert missing.value.user_id == user
                with pytest.raises(NotFound):
                    uow.statements.get(user, "line-1", dt.date(2026, 2, 5))
                assert uow.loans.for_user(user) == []
                assert uow.lines.for_user(user) == []
                assert uow.loan_applications.for_user(user) == []
                assert uow.statements.for_line(user, "line-1") == []
                assert uow.loans.by_application(user, "app-loan-1") is None
            for loan_id in ("loan-", "loan-10", "loan-1#", "loan-1#PAYMENT#pay-1"):
                with pytest.raises(NotFound):
                    uow.loans.get("user-1", loan_id)
            assert uow.loans.find_payment("pay-1#") is None
            assert uow.journal.entries_for("loan-1#") == []
            assert uow.loans.get("user-1", "loan-1").payments.keys() == {"pay-1"}

    def test_a_journal_entry_is_never_posted_twice(self, new_uow: UowFactory) -> None:
        loan = store_loan(new_uow)
        assert receivable("loan-1", Bucket.PRINCIPAL)  # the disbursement posted once
        with new_uow() as uow:
            twin = make_loan(loan_id="loan-1", user_id="user-9")  # same ids, other borrower
            uow.loans.add(twin)
            with pytest.raises(ConcurrencyConflict, match="already posted"):
                uow.commit(actor="test", request_id="twin")
        with new_uow() as uow, pytest.raises(NotFound):
            uow.loans.get("user-9", "loan-1")
        assert loan.loan_id == "loan-1"

    def test_two_threads_paying_the_same_loan_apply_exactly_one(self, new_uow: UowFactory) -> None:
        store_loan(new_uow)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def pay_in_thread(payment_id: str) -> None:
            with new_uow() as uow:
                loan = uow.loans.get("user-1", "loan-1")
                loan.apply_payment(
                    payment_id,
                    1_000,
                    process=Process.MANUAL,
                    rail=Rail.ACH,
                    today=dt.date(2026, 1, 6),
                )
                uow.loans.save(loan)
                barrier.wait()
                try:
                    uow.commit(actor=payment_id, request_id=payment_id)
                    outcomes.append("committed")
                except ConcurrencyConflict:
                    outcomes.append("conflict")

        threads = [threading.Thread(target=pay_in_thread, args=(f"pay-{n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["committed", "conflict"]
        with new_uow() as uow:
            loan = uow.loans.get("user-1", "loan-1")
            assert loan.outstanding_balance == 31_500 - 1_000
            assert sum(i.outstanding_balance for i in loan.installments) == loan.outstanding_balance
            (payment_id,) = loan.payments
            entries = uow.journal.entries_for("loan-1")
            assert [e.entry_id for e in entries] == ["loan-1:disburse", f"{payment_id}:apply"]
            assert uow.loans.find_payment(payment_id) == PaymentOwner(
                Product.INSTALLMENT, "user-1", "loan-1"
            )
