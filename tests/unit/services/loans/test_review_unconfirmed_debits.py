"""Review of the unconfirmed-debit rule on loans.

A debit whose money the rail already gave back (a chargeback held on its unbooked
intent) holds nothing back; an autopay attempt tried again after a decline takes what the
installment owes now.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import declining, settlement, timing_out

from loc_core.errors import ExternalServiceError, RailUnavailable
from loc_core.installment import Loan, LoanStatus
from loc_core.payments import Direction, PaymentStatus, Rail, SettlementOutcome
from loc_core.services.commands import CollectionOutcome

DUE = dt.date(2026, 1, 20)  # the first installment's due date (`due_loan`'s)


@pytest.fixture
def loan(due_loan: Loan) -> Loan:
    """The loan, the clock at 10:00 on its first due date (`DUE`)."""
    return due_loan


def debits(world: Deployment) -> list[tuple[str, int]]:
    return [
        (r.idempotency_key.rsplit(":", 1)[-1], r.amount)
        for r in world.sim.submitted
        if r.direction is Direction.DEBIT
    ]


def test_a_payoff_the_rail_charged_back_before_it_was_booked_holds_nothing_back(
    world: Deployment, loan: Loan
) -> None:
    owed = world.loan(loan.loan_id).outstanding_balance
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})  # the rail took it
    with pytest.raises(ExternalServiceError):
        world.pay_loan(loan, owed, key="payoff")
    key = f"manual:{loan.loan_id}:payoff:pinless"
    world.at(DUE, 11)  # disputed: held on the unbooked payoff
    world.settle(settlement(key, SettlementOutcome.CHARGED_BACK, world.clock.now(), Rail.PINLESS))
    world.pay_loan(loan, owed, key="payoff-again")  # not refused: nothing stays taken
    world.pay_loan(loan, owed, key="payoff")  # the first one's retry books it, reversed
    paid = world.loan(loan.loan_id)
    assert debits(world) == [("pinless", owed), ("pinless", owed)]
    assert paid.payments[key].status is PaymentStatus.CHARGED_BACK
    assert (paid.status, paid.outstanding_balance, paid.refunds_due) == (LoanStatus.CLOSED, 0, 0)


def test_an_autopay_attempt_tried_again_after_a_decline_takes_what_the_installment_owes_now(
    world: Deployment, loan: Loan
) -> None:
    scheduled = world.loan(loan.loan_id).installments[0].outstanding_balance
    world.at(DUE, 15)
    world.rails.handler = declining(world.sim, {Rail.PINLESS})
    world.sim.down.add(Rail.ACH)
    with pytest.raises(RailUnavailable):
        world.collect(loan)  # pinless said no to the installment; ACH never got it
    world.sim.down.clear()
    world.rails.handler = world.sim.submit
    world.pay_loan(loan, 1_000, key="by-hand")
    world.at(DUE + dt.timedelta(days=5), 12)
    world.settle_due()
    world.at(DUE + dt.timedelta(days=5), 15)
    world.rails.handler = declining(world.sim, {Rail.PINLESS})
    charged = world.collect(loan)  # the same attempt: pinless keeps its answer on its key
    assert (charged.outcome, charged.amount) == (CollectionOutcome.CHARGED, scheduled - 1_000)
    assert debits(world) == [("pinless", 1_000), ("ach", scheduled - 1_000)]
    assert world.loan(loan.loan_id).installments[0].outstanding_balance == 0
