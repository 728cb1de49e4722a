"""A loan debit whose rail outcome is unknown holds back every other debit on the loan.

Until its retry or the recovery job books it, the loan does not show money the rail may
have taken; another debit sized to what the loan shows would take it twice.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import Crash, dying_before, timing_out

from loc_core.errors import DebitUnconfirmed, ExternalServiceError
from loc_core.installment import Loan, LoanStatus
from loc_core.payments import Direction, Rail
from loc_core.services.commands import CollectionOutcome

DUE = dt.date(2026, 1, 20)  # the first installment's due date


@pytest.fixture
def loan(world: Deployment) -> Loan:
    made = world.open_loan()
    world.at(DUE, 10)
    return made


def debits(world: Deployment) -> list[int]:
    return [r.amount for r in world.sim.submitted if r.direction is Direction.DEBIT]


def test_autopay_waits_while_a_payoff_is_unconfirmed_and_the_loan_is_debited_once(
    world: Deployment, loan: Loan
) -> None:
    owed = world.loan(loan.loan_id).outstanding_balance
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})  # the rail took it
    with pytest.raises(ExternalServiceError):
        world.pay_loan(loan, owed, key="payoff")
    world.at(DUE, 15)
    skipped = world.collect(loan)
    assert (skipped.outcome, skipped.reason) == (CollectionOutcome.SKIPPED, "DEBIT_UNCONFIRMED")
    assert debits(world) == [owed]
    world.pay_loan(loan, owed, key="payoff")  # the borrower's retry books what the rail took
    paid = world.loan(loan.loan_id)
    assert (paid.status, paid.refunds_due) == (LoanStatus.CLOSED, 0)
    assert debits(world) == [owed]


def test_a_payment_is_refused_while_autopay_is_unconfirmed_and_taken_once_it_is_booked(
    world: Deployment, loan: Loan
) -> None:
    world.at(DUE, 15)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.collect(loan)
    (autopay,) = debits(world)
    with pytest.raises(DebitUnconfirmed, match=r"earlier debit of \$[\d.,]+ on loan .* not conf"):
        world.pay_loan(loan, 1_000, key="by-hand")
    assert debits(world) == [autopay]
    assert world.loan(loan.loan_id).payments == {}
    assert world.collect(loan).outcome is CollectionOutcome.CHARGED  # redelivered: booked
    world.pay_loan(loan, 1_000, key="by-hand")
    assert debits(world) == [autopay, 1_000]
    assert world.loan(loan.loan_id).refunds_due == 0


def test_a_payment_that_died_before_any_rail_holds_nothing_back_and_is_held_back_itself(
    world: Deployment, loan: Loan
) -> None:
    world.rails.handler = dying_before(world.sim)
    with pytest.raises(Crash):
        world.pay_loan(loan, 1_000, key="by-hand")  # PENDING, but no rail has it
    world.at(DUE, 15)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.collect(loan)  # not held back by the payment no rail took
    (autopay,) = debits(world)
    with pytest.raises(DebitUnconfirmed):
        world.pay_loan(loan, 1_000, key="by-hand")  # its retry waits for the autopay
    assert debits(world) == [autopay]
    assert world.collect(loan).outcome is CollectionOutcome.CHARGED
    world.pay_loan(loan, 1_000, key="by-hand")
    assert debits(world) == [autopay, 1_000]
