"""What borrowers are told, through the real use cases (audit of notifications).

Each test drives the bus of an in-memory `Deployment` and compares what the notifier was
given with the state the commit left.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import settlement

from loc_core.events import DomainEvent, EventType
from loc_core.installment import InstallmentStatus, Loan, LoanStatus
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import SettlementEvent
from loc_core.services.commands import BookBackdatedLoanPayment

PAID_ON = dt.date(2026, 1, 12)


@pytest.fixture
def world() -> Deployment:
    world = Deployment.build()
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    return world


def returned(payment_id: str, day: dt.date) -> SettlementEvent:
    at = dt.datetime.combine(day, dt.time(12, tzinfo=dt.UTC))
    return settlement(payment_id, SettlementOutcome.RETURNED, at, Rail.ACH)


def sent(world: Deployment, kind: EventType) -> list[DomainEvent]:
    return [event for event in world.notifier.sent if event.type is kind]


def owed_now(loan: Loan, today: dt.date) -> dict[str, object]:
    """What the borrower owes after the commit, as the notice must say it."""
    unpaid = [i for i in loan.installments if i.status is not InstallmentStatus.COMPLETED]
    coming = [i for i in unpaid if i.due_date > today]
    return {
        "loan_id": loan.loan_id,
        "loan_status": loan.status.value,
        "outstanding_balance": loan.outstanding_balance,
        "amount_due": sum(i.outstanding_balance for i in unpaid if i.due_date <= today),
        "next_due_date": coming[0].due_date.isoformat() if coming else None,
    }


def test_a_returned_payoff_tells_the_borrower_the_loan_is_owed_again(world: Deployment) -> None:
    # The borrower was told "loan closed"; the payoff comes back before the first due date.
    loan = world.open_loan()
    world.at(PAID_ON)
    paid = world.pay_loan(loan, 31_500)
    assert world.sent() == ["loan_disbursed", "loan_closed"]
    world.settle(returned(paid.payment_id, dt.date(2026, 1, 14)))
    [notice] = sent(world, EventType.PAYMENT_FAILED)
    stored = world.loan(loan.loan_id)
    assert stored.status is LoanStatus.OPEN
    assert dict(notice.data) == {
        "amount": 31_500,
        "outcome": "RETURNED",
        **owed_now(stored, world.today),
    }
    assert notice.data["outstanding_balance"] == 31_500
    assert notice.data["next_due_date"] == "2026-01-20"


def test_a_late_return_names_what_is_owed_after_its_correction(world: Deployment) -> None:
    # Returned weeks later (unauthorized): the correction makes two installments overdue
    # with late fees; the payment_failed notice names the amounts the commit left.
    loan = world.open_loan()
    world.at(PAID_ON)
    paid = world.pay_loan(loan, 31_500)
    world.settle(returned(paid.payment_id, dt.date(2026, 2, 20)))
    [notice] = sent(world, EventType.PAYMENT_FAILED)
    stored = world.loan(loan.loan_id)
    assert dict(notice.data) == {
        "amount": 31_500,
        "outcome": "RETURNED",
        **owed_now(stored, world.today),
    }
    assert notice.data["outstanding_balance"] == 31_500 + 2 * 263
    assert notice.data["amount_due"] == 2 * (5_250 + 263) + 5_250  # the third is in grace
    assert notice.data["next_due_date"] == "2026-03-02"
    assert world.sent().count("payment_failed") == 1


def test_a_backdated_payment_is_told_with_what_it_leaves_owed(world: Deployment) -> None:
    # A mailed check received on 22 January is keyed on 3 February, after the daily job
    # told the borrower their first installment was overdue with a late fee. The money is
    # booked and the late fee reversed: the borrower must hear of the payment (no rail
    # will ever settle it), with what is owed now.
    loan = world.open_loan(autopay=False)
    for day in range(20, 32):
        world.at(dt.date(2026, 1, day), 17)
        world.run_daily_loan_job()
    [overdue] = sent(world, EventType.INSTALLMENT_OVERDUE)
    assert overdue.data["late_fee"] == 263
    world.at(dt.date(2026, 2, 3), 10)
    receipt = world.bus.handle(
        BookBackdatedLoanPayment(
            loan.user_id, loan.loan_id, 5_250, dt.date(2026, 1, 22), "check keyed late", "chk-1"
        )
    )
    stored = world.loan(loan.loan_id)
    assert stored.installments[0].late_fee == 0
    [notice] = sent(world, EventType.PAYMENT_SUCCEEDED)
    assert (notice.subject_id, notice.occurred_on) == (receipt.payment_id, world.today)
    assert dict(notice.data) == {
        "amount": 5_250,
        "received_on": "2026-01-22",
        **owed_now(stored, world.today),
    }
    assert notice.data["outstanding_balance"] == 26_250
    world.bus.handle(  # the operator's tool sends it again: nothing new is told
        BookBackdatedLoanPayment(
            loan.user_id, loan.loan_id, 5_250, dt.date(2026, 1, 22), "check keyed late", "chk-1"
        )
    )
    assert world.sent().count("payment_succeeded") == 1
