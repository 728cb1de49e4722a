"""Another debit on a loan whose rail outcome was lost, as the next debit finds it.

Until it is booked the loan does not show money the rail took; another debit sized to
what the loan shows would take it twice. The next debit, holding the loan's lease, books
one its rail answers for first; one its rail cannot tell about holds it back.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import Crash, Silent, dying_before, timing_out

from loc_core.errors import DebitUnconfirmed, ExternalServiceError
from loc_core.installment import Loan, LoanStatus
from loc_core.payments import Direction, Rail
from loc_core.ports import PaymentRails
from loc_core.services.commands import CollectionOutcome, MakePayment

DUE = dt.date(2026, 1, 20)  # the first installment's due date (`due_loan`'s)


@pytest.fixture
def loan(due_loan: Loan) -> Loan:
    """The loan, the clock at 10:00 on its first due date (`DUE`)."""
    return due_loan


def debits(world: Deployment) -> list[int]:
    return [r.amount for r in world.sim.submitted if r.direction is Direction.DEBIT]


def lost_payoff(world: Deployment, loan: Loan) -> int:
    """The borrower pays the loan off; the rail takes it and the answer is lost."""
    owed = world.loan(loan.loan_id).outstanding_balance
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_loan(loan, owed, key="payoff")
    return owed


def test_autopay_books_a_payoff_the_rail_took_first_and_the_loan_is_debited_once(
    world: Deployment, loan: Loan
) -> None:
    owed = lost_payoff(world, loan)
    world.at(DUE, 15)
    skipped = world.collect(loan)
    assert (skipped.outcome, skipped.reason) == (CollectionOutcome.SKIPPED, "LOAN_CLOSED")
    paid = world.loan(loan.loan_id)
    assert (paid.status, paid.refunds_due) == (LoanStatus.CLOSED, 0)
    assert world.pay_loan(loan, owed, key="payoff").amount == owed  # the retry: as booked
    assert debits(world) == [owed]


def test_autopay_waits_while_a_rail_cannot_tell_what_became_of_a_payoff(
    world: Deployment, loan: Loan
) -> None:
    owed = lost_payoff(world, loan)
    world.at(DUE, 15)
    silent = world.using(PaymentRails, Silent(world.sim.submit))
    skipped = silent.collect(loan)
    assert (skipped.outcome, skipped.reason) == (CollectionOutcome.SKIPPED, "DEBIT_UNCONFIRMED")
    with pytest.raises(DebitUnconfirmed, match=r"earlier debit of \$[\d.,]+ on loan .* not conf"):
        silent.bus.handle(MakePayment("user-1", loan.loan_id, 1_000, "by-hand"))
    assert debits(world) == [owed]
    assert world.loan(loan.loan_id).payments == {}


def test_a_payment_books_the_autopay_the_rail_took_first_and_each_is_taken_once(
    world: Deployment, loan: Loan
) -> None:
    world.at(DUE, 15)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.collect(loan)
    (autopay,) = debits(world)
    world.pay_loan(loan, 1_000, key="by-hand")
    assert debits(world) == [autopay, 1_000]
    stored = world.loan(loan.loan_id)
    assert len(stored.payments) == 2
    assert (stored.outstanding_balance, stored.refunds_due) == (31_500 - autopay - 1_000, 0)
    assert world.collect(loan).reason == "PAID"  # redelivered: booked already
    assert debits(world) == [autopay, 1_000]


def test_a_payment_that_died_before_any_rail_holds_nothing_back_and_books_what_came_after(
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
    world.pay_loan(loan, 1_000, key="by-hand")  # its retry books the autopay first
    assert debits(world) == [autopay, 1_000]
    assert world.loan(loan.loan_id).outstanding_balance == 31_500 - autopay - 1_000
