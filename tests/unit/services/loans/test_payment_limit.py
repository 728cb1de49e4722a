"""A borrower's manual payments on a loan are bounded, so its installment items stay storable.

Every installment item keeps each payment applied to it (and a replay can put all of a
loan's payments on one), so without a bound one-cent payments grow it past DynamoDB's
400 KB and every command on the loan fails for good (docs/installment-loans.md, "Manual
payments per loan"). The bound refuses only a borrower's payment, before any rail is
asked; money that already moved (a return, an operator's backdated payment, autopay) is
always booked.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import settlement

from loc_core.errors import PaymentLimitReached
from loc_core.installment import InstallmentProduct, manual_payments
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.services.commands import BookBackdatedLoanPayment, CollectionOutcome, SettleTransfer
from loc_core.services.messagebus import MessageBus

BOUND = InstallmentProduct(max_manual_payments_per_loan=3)


@pytest.fixture
def bounded() -> Deployment:
    """A deployment whose loans take three manual payments each."""
    made = Deployment.build(overrides={InstallmentProduct: BOUND})
    made.users.add("user-1")
    return made


def _return(bus: MessageBus, world: Deployment, payment_id: str) -> None:
    event = settlement(payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    bus.handle(SettleTransfer(event))


def test_a_manual_payment_past_the_bound_is_refused_and_what_moved_is_still_booked(
    bounded: Deployment,
) -> None:
    world = bounded
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 6), 10)
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    first = world.pay_loan(loan, 100, key="pay-1").payment_id
    world.pay_loan(loan, 100, key="pay-2")
    world.pay_loan(loan, 100, key="pay-3")
    before, calls = world.loan(loan.loan_id), len(world.rails.calls)

    with pytest.raises(PaymentLimitReached) as refused:
        world.pay_loan(loan, 100, key="pay-4")

    assert refused.value.key == "max_manual_payments_per_loan"
    assert refused.value.entity_id == loan.loan_id
    assert "allows 3 a loan" in str(refused.value)
    assert world.loan(loan.loan_id) == before
    assert len(world.rails.calls) == calls  # no rail was asked

    world.bus.handle(  # an operator's backdated payment past the bound is booked
        BookBackdatedLoanPayment("user-1", loan.loan_id, 100, world.today, "check", "chk-1")
    )
    _return(world.bus, world, first)  # and so is a return
    assert world.loan(loan.loan_id).payments[first].status is PaymentStatus.RETURNED
    with pytest.raises(PaymentLimitReached):  # three still stand, the backdated one too
        world.pay_loan(loan, 100, key="pay-4")
    world.sim.down = set()
    world.at(loan.installments[0].due_date, 10)
    world.settle_due()  # the ACH payments complete
    collected = world.collect(loan)  # and so is autopay
    assert collected.outcome is CollectionOutcome.CHARGED

    paid = world.sound_loan(loan.loan_id)
    assert manual_payments(paid) == 3  # the returned one no longer counts
    assert paid.installments[0].is_paid


def test_the_bound_never_refuses_a_payoff_nor_counts_a_returned_payment(
    bounded: Deployment,
) -> None:
    world = bounded
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 6), 10)
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    first = world.pay_loan(loan, 100, key="pay-1").payment_id
    world.pay_loan(loan, 100, key="pay-2")
    world.pay_loan(loan, 100, key="pay-3")

    _return(world.bus, world, first)  # it left nothing on the installments
    world.pay_loan(loan, 100, key="pay-4")  # so the borrower may pay again
    with pytest.raises(PaymentLimitReached):  # three stand: a part payment is refused
        world.pay_loan(loan, 100, key="pay-5")

    owed = world.loan(loan.loan_id).outstanding_balance
    world.pay_loan(loan, owed, key="payoff")  # paying it off never is

    paid = world.sound_loan(loan.loan_id)
    assert paid.outstanding_balance == 0
    assert paid.status.value == "CLOSED"
