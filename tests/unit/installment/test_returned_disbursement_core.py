"""`Loan.cancel_returned_disbursement`: the aggregate's rule, its books and its invariant."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.bookkeeping import EntryKind
from loc_core.corrections import account_balances
from loc_core.errors import CorrectionTooOld, LoanCancelled
from loc_core.events import EventType
from loc_core.installment import InstallmentStatus, Loan, LoanStatus, Process, _invariants
from loc_core.ledger import CLEARING, Ledger, refund_due
from loc_core.payments import Rail
from loc_core.testing.installment import make_loan

LEARNED = dt.date(2026, 1, 9)


def cancelled(loan: Loan, ledger: Ledger, today: dt.date = LEARNED) -> None:
    loan.cancel_returned_disbursement(today=today, posted=list(ledger), reason="R03")
    ledger.post_all(loan.outbox.drain().entries)


def test_a_cancelled_loan_owes_nothing_and_its_books_hold_only_refunds(
    booked: tuple[Loan, Ledger],
) -> None:
    loan, ledger = booked
    loan.apply_payment("pay-1", 7_000, process=Process.MANUAL, rail=Rail.ACH, today=LEARNED)
    ledger.post_all(loan.outbox.drain().entries)
    loan.cancel_returned_disbursement(today=LEARNED, posted=list(ledger), reason="R03")
    outbox = loan.outbox.drain()
    ledger.post_all(outbox.entries)
    assert [e.entry_id for e in outbox.entries] == ["loan-1:returned", "loan-1:returned:adjust"]
    assert outbox.entries[0].kind == EntryKind.DISBURSEMENT_RETURNED
    assert [e.type for e in outbox.events] == [EventType.REFUND_DUE, EventType.LOAN_CANCELLED]
    assert account_balances(ledger) == {CLEARING: 7_000, refund_due("loan-1"): -7_000}
    assert (loan.status, loan.outstanding_balance, loan.refunds_due) == (
        LoanStatus.CANCELLED,
        0,
        7_000,
    )
    assert all(
        (i.status, i.total_amount, i.outstanding_balance, i.applications)
        == (InstallmentStatus.CANCELLED, 0, 0, [])
        for i in loan.installments
    )


def test_a_cancelled_loan_takes_no_payment_and_no_correction(booked: tuple[Loan, Ledger]) -> None:
    loan, ledger = booked
    cancelled(loan, ledger)
    with pytest.raises(LoanCancelled):
        loan.check_payment(100, today=LEARNED)
    with pytest.raises(LoanCancelled):
        loan.apply_payment("pay-2", 100, process=Process.MANUAL, rail=Rail.ACH, today=LEARNED)
    with pytest.raises(LoanCancelled):
        loan.correct(
            cause="c", effective=LEARNED, today=LEARNED, posted=list(ledger), reason="test"
        )
    with pytest.raises(LoanCancelled):
        cancelled(loan, ledger)
    assert loan.outbox.drain().entries == []
    # Money a rail already took (an autopay in flight) is booked, all of it owed back.
    loan.book_moved_payment("auto-1", 900, process=Process.AUTOPAY, rail=Rail.ACH, today=LEARNED)
    ledger.post_all(loan.outbox.drain().entries)
    assert (loan.outstanding_balance, loan.refunds_due) == (0, 900)
    assert account_balances(ledger) == {CLEARING: 900, refund_due("loan-1"): -900}


def test_a_return_beyond_the_reach_or_of_an_adopted_loan_changes_nothing(
    booked: tuple[Loan, Ledger],
) -> None:
    loan, ledger = booked
    with pytest.raises(CorrectionTooOld):
        cancelled(loan, ledger, today=loan.disbursement_date + dt.timedelta(days=121))
    with pytest.raises(CorrectionTooOld, match="adopted"):
        loan.cancel_returned_disbursement(today=LEARNED, posted=[], reason="R03")
    assert (loan.status, loan.outbox.drain().entries) == (LoanStatus.OPEN, [])


edits = st.lists(
    st.one_of(
        st.tuples(st.just("outstanding_balance"), st.integers(-1, 300)),
        st.tuples(st.just("total_amount"), st.integers(-1, 300)),
        st.tuples(st.just("principal"), st.integers(-1, 300)),
        st.tuples(st.just("status"), st.sampled_from(list(InstallmentStatus))),
        st.tuples(st.just("loan_status"), st.sampled_from(list(LoanStatus))),
        st.tuples(st.just("completion_date"), st.sampled_from([None, LEARNED])),
        st.tuples(st.just("autopay_enabled"), st.booleans()),
    ),
    max_size=2,
)


@settings(max_examples=60)
@given(changes=edits)
def test_the_fast_and_full_checks_agree_on_a_cancelled_loan(
    changes: list[tuple[str, object]],
) -> None:
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    cancelled(loan, ledger)
    assert loan.problems() == []
    for name, value in changes:
        if name in {"outstanding_balance", "total_amount", "principal", "status"}:
            setattr(loan.installments[0], name, value)
        else:
            object.__setattr__(loan, name.removeprefix("loan_"), value)
    found = _invariants._problems_found(loan)
    assert _invariants._consistent(loan) == (not found)
