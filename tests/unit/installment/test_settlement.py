import copy
import datetime as dt

import pytest
from fakes import refused

from loc_core.errors import (
    PaymentAlreadyReversed,
    PaymentAlreadySettled,
    PaymentError,
    PaymentNotApplied,
)
from loc_core.events import EventType
from loc_core.installment import InstallmentStatus, Loan, LoanStatus, Process
from loc_core.ledger import Ledger, allowance
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.testing.installment import balances_and_statuses, ledger_problems

DAY = dt.date(2026, 1, 19)
RETURNED = SettlementOutcome.RETURNED
COMPLETED = SettlementOutcome.COMPLETED


def pay(
    loan: Loan, payment_id: str, amount: int, *, today: dt.date = DAY, rail: Rail = Rail.ACH
) -> None:
    loan.apply_payment(payment_id, amount, process=Process.AUTOPAY, rail=rail, today=today)


def post(loan: Loan, ledger: Ledger) -> None:
    ledger.post_all(loan.outbox.drain().entries)


def test_a_completion_changes_only_the_payment_status(loan: Loan) -> None:
    pay(loan, "pay-1", 5_250)
    loan.outbox.drain()
    before = balances_and_statuses(loan)
    payment = loan.settle("pay-1", COMPLETED, today=dt.date(2026, 1, 21))
    assert payment.status is PaymentStatus.COMPLETED
    assert payment.settled_on == dt.date(2026, 1, 21)
    assert balances_and_statuses(loan) == before
    recorded = loan.outbox.drain()
    assert recorded.entries == []
    assert [e.type for e in recorded.events] == [EventType.PAYMENT_SUCCEEDED]
    [change] = recorded.changes
    assert (change.entity, change.fields[0].field, change.fields[0].new) == (
        "payment",
        "status",
        "COMPLETED",
    )


def test_an_ach_return_takes_back_exactly_what_the_payment_paid(
    booked: tuple[Loan, Ledger],
) -> None:
    loan, ledger = booked
    pay(loan, "pay-1", 2_000)
    post(loan, ledger)
    before = balances_and_statuses(loan)
    before_ledger = ledger.balances()
    pay(loan, "pay-2", 8_000)
    post(loan, ledger)
    loan.settle("pay-2", RETURNED, today=dt.date(2026, 1, 23))
    recorded = loan.outbox.drain()
    ledger.post_all(recorded.entries)
    assert balances_and_statuses(loan) == before
    assert ledger.balances() == before_ledger | {"asset:cash:clearing": 2_000}
    assert loan.payments["pay-2"].status is PaymentStatus.RETURNED
    assert [a.payment_id for a in loan.installments[0].applications] == ["pay-1"]
    assert loan.installments[0].process is Process.UNAPPLY
    assert loan.installments[0].update_reason == "payment pay-2 RETURNED"
    [entry] = recorded.entries
    assert entry.entry_id == "pay-2:unapply"
    assert [e.type for e in recorded.events] == [EventType.PAYMENT_FAILED]
    assert {c.process for c in recorded.changes} == {"UNAPPLY"}
    assert ledger_problems(loan, ledger) == []


def test_a_pinless_chargeback_reverses_too(loan: Loan) -> None:
    pay(loan, "pay-1", 5_250, rail=Rail.PINLESS)
    loan.settle("pay-1", COMPLETED, today=DAY)
    loan.settle("pay-1", SettlementOutcome.CHARGED_BACK, today=dt.date(2026, 2, 20))
    assert loan.payments["pay-1"].status is PaymentStatus.CHARGED_BACK
    assert loan.outstanding_balance == 31_500


def test_a_return_must_fit_the_rail(loan: Loan) -> None:
    pay(loan, "pay-1", 5_250, rail=Rail.PINLESS)
    pay(loan, "pay-2", 100)
    before = copy.deepcopy(loan)
    with pytest.raises(
        PaymentError, match="pay-1 went by pinless: it can be CHARGED_BACK, not RETURNED"
    ):
        loan.settle("pay-1", RETURNED, today=DAY)
    with pytest.raises(
        PaymentError, match="pay-2 went by ach: it can be RETURNED, not CHARGED_BACK"
    ):
        loan.settle("pay-2", SettlementOutcome.CHARGED_BACK, today=DAY)
    assert loan == before


def test_returning_the_payoff_reopens_the_loan(booked: tuple[Loan, Ledger]) -> None:
    loan, ledger = booked
    pay(loan, "pay-1", 31_500)
    assert (loan.status, loan.completion_date) == (LoanStatus.CLOSED, DAY)
    loan.settle("pay-1", RETURNED, today=dt.date(2026, 1, 22))
    post(loan, ledger)
    assert loan.status is LoanStatus.OPEN
    assert loan.completion_date is None
    assert loan.outstanding_balance == 31_500
    assert all(i.status is InstallmentStatus.SCHEDULED for i in loan.installments)
    assert ledger_problems(loan, ledger) == []


def test_an_overdue_installment_goes_back_to_overdue_without_a_second_late_fee(
    booked: tuple[Loan, Ledger],
) -> None:
    loan, ledger = booked
    loan.run_daily(dt.date(2026, 1, 25))
    assert [i.status for i in loan.installments[:2]] == [
        InstallmentStatus.OVERDUE,
        InstallmentStatus.SCHEDULED,
    ]
    pay(loan, "pay-1", 5_513, today=dt.date(2026, 1, 26))
    assert [i.status for i in loan.installments[:1]] == [InstallmentStatus.COMPLETED]
    loan.settle("pay-1", RETURNED, today=dt.date(2026, 1, 29))
    loan.run_daily(dt.date(2026, 1, 29))
    post(loan, ledger)
    first = loan.installments[0]
    assert first.status is InstallmentStatus.OVERDUE
    assert (first.late_fee, first.total_amount, first.outstanding_balance) == (263, 5_513, 5_513)
    assert loan.late_fees_assessed == 263
    assert ledger_problems(loan, ledger) == []


def test_a_return_after_the_grace_period_leaves_the_late_fee_to_the_daily_job(loan: Loan) -> None:
    pay(loan, "pay-1", 5_250, today=dt.date(2026, 1, 20))
    loan.run_daily(dt.date(2026, 1, 26))
    assert [i.status for i in loan.installments[:1]] == [InstallmentStatus.COMPLETED]
    loan.settle("pay-1", RETURNED, today=dt.date(2026, 1, 27))
    assert [i.status for i in loan.installments[:1]] == [InstallmentStatus.SCHEDULED]
    loan.run_daily(dt.date(2026, 1, 27))
    first = loan.installments[0]
    assert first.status is InstallmentStatus.OVERDUE
    assert first.overdue_on == dt.date(2026, 1, 25)
    assert first.late_fee == 263


def test_returning_the_payoff_of_a_defaulted_loan_defaults_it_again(
    booked: tuple[Loan, Ledger],
) -> None:
    loan, ledger = booked
    loan.run_daily(dt.date(2026, 3, 26))
    assert (loan.status, loan.defaulted_on) == (LoanStatus.DEFAULTED, dt.date(2026, 3, 26))
    owed = loan.outstanding_balance
    pay(loan, "pay-1", owed, today=dt.date(2026, 4, 1))
    assert (loan.status, loan.completion_date) == (LoanStatus.CLOSED, dt.date(2026, 4, 1))
    loan.settle("pay-1", RETURNED, today=dt.date(2026, 4, 6))
    post(loan, ledger)
    assert loan.status is LoanStatus.DEFAULTED
    assert loan.completion_date is None
    assert all(i.status is InstallmentStatus.DEFAULTED for i in loan.installments)
    assert ledger.balance(allowance("loan-1")) == -owed
    assert ledger_problems(loan, ledger) == []


def test_a_payment_returned_after_the_loan_defaulted_is_reserved_again(
    booked: tuple[Loan, Ledger],
) -> None:
    loan, ledger = booked
    pay(loan, "pay-1", 5_250)
    loan.run_daily(dt.date(2026, 4, 20))
    assert loan.status is LoanStatus.DEFAULTED
    assert [i.status for i in loan.installments[:2]] == [
        InstallmentStatus.COMPLETED,
        InstallmentStatus.DEFAULTED,
    ]
    loan.settle("pay-1", RETURNED, today=dt.date(2026, 4, 21))
    post(loan, ledger)
    assert loan.installments[0].status is InstallmentStatus.DEFAULTED
    assert ledger.balance(allowance("loan-1")) == -loan.outstanding_balance
    assert ledger_problems(loan, ledger) == []


@pytest.mark.parametrize(
    ("outcome", "error", "message"),
    [
        (RETURNED, PaymentAlreadyReversed, "pay-1 was already RETURNED on 2026-01-19"),
        (COMPLETED, PaymentAlreadySettled, "already COMPLETED on 2026-01-19"),
    ],
)
def test_the_same_outcome_twice_is_refused_and_changes_nothing(
    loan: Loan, outcome: SettlementOutcome, error: type[Exception], message: str
) -> None:
    pay(loan, "pay-1", 5_250)
    loan.settle("pay-1", outcome, today=DAY)
    with refused(loan, error, match=message):
        loan.settle("pay-1", outcome, today=DAY)


def test_a_completion_after_the_return_is_refused_and_changes_nothing(loan: Loan) -> None:
    pay(loan, "pay-1", 5_250)
    loan.settle("pay-1", RETURNED, today=DAY)  # the return overtook the completion
    with refused(loan, PaymentAlreadyReversed, match="COMPLETED changes nothing"):
        loan.settle("pay-1", COMPLETED, today=dt.date(2026, 1, 20))
    assert loan.outstanding_balance == 31_500


def test_a_return_after_completion_still_reverses(loan: Loan) -> None:
    pay(loan, "pay-1", 5_250)
    loan.settle("pay-1", COMPLETED, today=DAY)
    loan.settle("pay-1", RETURNED, today=dt.date(2026, 1, 30))
    assert loan.payments["pay-1"].status is PaymentStatus.RETURNED
    assert loan.outstanding_balance == 31_500


def test_an_unknown_payment_cannot_be_settled(loan: Loan) -> None:
    before = copy.deepcopy(loan)
    with pytest.raises(PaymentNotApplied, match="pay-9 was never applied to loan loan-1"):
        loan.settle("pay-9", RETURNED, today=DAY)
    with pytest.raises(PaymentError, match="outcome must be a SettlementOutcome"):
        loan.settle("pay-9", "RETURNED", today=DAY)  # type: ignore[arg-type]  # wrong type on purpose
    assert loan == before
