"""Money a rail took that the loan did not owe is booked as a refund due, never refused."""

import datetime as dt

import pytest

from loc_core.events import EventType
from loc_core.installment import Loan, LoanStatus, Process
from loc_core.ledger import CLEARING, Ledger, refund_due
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.refunds import RefundStatus
from loc_core.testing.installment import ledger_problems, make_loan

DAY = dt.date(2026, 1, 19)
OWED = 31_500


def booked(loan: Loan) -> Ledger:
    return Ledger(loan.outbox.drain().entries)


def paid_off() -> tuple[Loan, Ledger]:
    loan = make_loan()
    loan.apply_payment("payoff", OWED, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    return loan, booked(loan)


def test_a_payment_on_a_closed_loan_is_a_refund_due_of_all_of_it() -> None:
    loan, ledger = paid_off()

    payment = loan.book_moved_payment(
        "autopay-1", 5_250, process=Process.AUTOPAY, rail=Rail.PINLESS, today=DAY
    )
    outbox = loan.outbox.drain()
    ledger.post_all(outbox.entries)

    assert loan.status is LoanStatus.CLOSED
    assert loan.completion_date == DAY
    assert loan.outstanding_balance == 0
    assert loan.payments["autopay-1"] is payment
    assert payment.applications == ()
    assert payment.refund is not None
    assert (payment.refund.amount, payment.refund.status) == (5_250, RefundStatus.DUE)
    assert loan.refunds_due == 5_250
    assert ledger.balance(refund_due(loan.loan_id)) == -5_250
    assert [e.type for e in outbox.events] == [EventType.REFUND_DUE]
    assert outbox.events[0].data["amount"] == 5_250
    assert ledger_problems(loan, ledger) == []


def test_a_payment_above_the_balance_pays_it_off_and_keeps_the_rest_as_a_refund() -> None:
    loan = make_loan()
    ledger = booked(loan)

    payment = loan.book_moved_payment(
        "autopay-1", OWED + 700, process=Process.AUTOPAY, rail=Rail.ACH, today=DAY
    )
    outbox = loan.outbox.drain()
    ledger.post_all(outbox.entries)

    assert loan.status is LoanStatus.CLOSED
    assert payment.applied_amount == OWED
    assert payment.refund is not None
    assert payment.refund.amount == 700
    assert ledger.balance(CLEARING) == OWED + 700
    assert {e.type for e in outbox.events} == {EventType.REFUND_DUE, EventType.LOAN_CLOSED}
    assert ledger_problems(loan, ledger) == []


def test_a_payment_the_loan_owes_books_exactly_like_apply_payment() -> None:
    moved, applied = make_loan(), make_loan()
    moved.book_moved_payment("pay-1", 6_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    applied.apply_payment("pay-1", 6_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)

    assert moved == applied
    assert moved.payments["pay-1"].refund is None


@pytest.mark.parametrize(
    ("rail", "outcome"),
    [(Rail.ACH, SettlementOutcome.RETURNED), (Rail.PINLESS, SettlementOutcome.CHARGED_BACK)],
)
def test_returning_a_refund_due_payment_cancels_the_refund_and_restores_balances(
    rail: Rail, outcome: SettlementOutcome
) -> None:
    loan = make_loan()
    ledger = booked(loan)
    loan.apply_payment("pay-1", 30_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    ledger.post_all(loan.outbox.drain().entries)
    loan.book_moved_payment("autopay-1", 2_000, process=Process.AUTOPAY, rail=rail, today=DAY)
    ledger.post_all(loan.outbox.drain().entries)
    assert loan.completion_date == DAY

    payment = loan.settle("autopay-1", outcome, today=DAY + dt.timedelta(days=3))
    ledger.post_all(loan.outbox.drain().entries)

    assert payment.status is PaymentStatus(outcome.value)
    assert payment.refund is not None
    assert payment.refund.status is RefundStatus.CANCELLED
    assert loan.refunds_due == 0
    assert loan.status is LoanStatus.OPEN
    assert loan.outstanding_balance == 1_500
    assert ledger.balance(refund_due(loan.loan_id)) == 0
    assert ledger_problems(loan, ledger) == []


def test_returning_a_payment_made_after_payoff_leaves_the_loan_closed() -> None:
    loan, ledger = paid_off()
    loan.book_moved_payment("late", 900, process=Process.AUTOPAY, rail=Rail.ACH, today=DAY)
    ledger.post_all(loan.outbox.drain().entries)

    loan.settle("late", SettlementOutcome.RETURNED, today=DAY)
    ledger.post_all(loan.outbox.drain().entries)

    assert loan.status is LoanStatus.CLOSED
    assert loan.refunds_due == 0
    assert ledger_problems(loan, ledger) == []


def test_completing_a_refund_due_payment_leaves_the_refund_due() -> None:
    loan, ledger = paid_off()
    loan.book_moved_payment("late", 900, process=Process.AUTOPAY, rail=Rail.ACH, today=DAY)

    loan.settle("late", SettlementOutcome.COMPLETED, today=DAY)

    assert loan.refunds_due == 900
    ledger.post_all(loan.outbox.drain().entries)
    assert ledger_problems(loan, ledger) == []
