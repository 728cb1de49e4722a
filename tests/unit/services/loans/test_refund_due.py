"""Money a rail took for a loan already paid off is booked as a refund due, and alerted."""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import meanwhile, settlement

from loc_adapters.memory import InMemoryUnitOfWork
from loc_core.installment import Loan, LoanStatus, Process
from loc_core.ledger import refund_due
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity, TransferRequest
from loc_core.refunds import RefundStatus
from loc_core.testing.installment import ledger_problems

DUE = dt.date(2026, 1, 20)  # the first installment's due date


@pytest.fixture
def loan(world: Deployment) -> Loan:
    made = world.open_loan()
    world.at(DUE)
    return made


def paid_off_meanwhile(world: Deployment, loan: Loan) -> None:
    """While the autopay charge is at the rail, a manual payment pays the loan off.

    The autopay's rail answer outlasted its payment lease, so the manual payment committed
    first; written straight to storage, as that other process did.
    """

    def pay_off(_: TransferRequest) -> None:
        uow = InMemoryUnitOfWork(world.database)
        with uow:
            stored = uow.loans.get(loan.user_id, loan.loan_id)
            stored.apply_payment(
                "manual-payoff",
                stored.outstanding_balance,
                process=Process.MANUAL,
                rail=Rail.ACH,
                today=DUE,
            )
            uow.loans.save(stored)
            uow.commit(actor="borrower", request_id="manual")

    world.rails.handler = meanwhile(world.sim, pay_off)


def test_autopay_accepted_after_a_manual_payoff_is_a_refund_due_with_an_alert(
    world: Deployment, loan: Loan
) -> None:
    paid_off_meanwhile(world, loan)

    world.collect(loan)

    stored = world.loan(loan.loan_id)
    assert stored.status is LoanStatus.CLOSED
    charges = [p for p in stored.payments.values() if p.process is Process.AUTOPAY]
    assert len(charges) == 1
    charge = charges[0]
    assert charge.refund is not None
    assert charge.refund.amount == charge.amount == 5_250
    assert stored.refunds_due == 5_250
    ledger = world.ledger(loan.loan_id)
    assert ledger.balance(refund_due(loan.loan_id)) == -5_250
    assert ledger_problems(stored, ledger) == []
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.title == "refund due"
    assert alert.details == {
        "user_id": loan.user_id,
        "loan_id": loan.loan_id,
        "payment_id": charge.payment_id,
        "amount": 5_250,
    }
    assert world.alerts(Severity.CRITICAL) == []


def test_the_charge_back_of_that_charge_is_found_and_cancels_the_refund(
    world: Deployment, loan: Loan
) -> None:
    paid_off_meanwhile(world, loan)
    world.collect(loan)
    (charge,) = (p for p in world.loan(loan.loan_id).payments.values() if p.refund)
    at = dt.datetime(2026, 1, 22, 12, tzinfo=dt.UTC)

    world.settle(settlement(charge.payment_id, _reversal(charge.rail), at, charge.rail))

    stored = world.loan(loan.loan_id)
    refund = stored.payments[charge.payment_id].refund
    assert refund is not None
    assert refund.status is RefundStatus.CANCELLED
    assert stored.status is LoanStatus.CLOSED
    assert stored.outstanding_balance == 0
    ledger = world.ledger(loan.loan_id)
    assert ledger.balance(refund_due(loan.loan_id)) == 0
    assert ledger_problems(stored, ledger) == []


def _reversal(rail: Rail) -> SettlementOutcome:
    return SettlementOutcome.RETURNED if rail is Rail.ACH else SettlementOutcome.CHARGED_BACK
