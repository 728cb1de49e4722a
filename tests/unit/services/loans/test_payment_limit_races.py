"""Two manual payments racing for a loan's last place cannot both pass its bound.

A payment is on the loan only once a rail took its money, so the bound holds under
concurrent requests because every payment on a loan holds its payment lease from the
check to the booking (`payment_lease_key`): a second one meanwhile is refused
(`LockNotAcquired`) and, retried, finds the place taken.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import meanwhile

from loc_core.errors import LockNotAcquired, PaymentLimitReached
from loc_core.installment import InstallmentProduct, manual_payments
from loc_core.ports import TransferRequest
from loc_core.services.commands import MakePayment
from loc_core.services.messagebus import MessageBus

BOUND = InstallmentProduct(max_manual_payments_per_loan=3)


@pytest.fixture
def world() -> Deployment:
    """A deployment whose loans take three manual payments each; user-1 is a borrower."""
    made = Deployment.build(overrides={InstallmentProduct: BOUND})
    made.users.add("user-1")
    return made


@pytest.fixture
def second_process(world: Deployment) -> MessageBus:
    """Another process on the world's store (its own unit of work), sharing its leases."""
    return world.another_process()


def test_two_manual_payments_racing_for_the_loans_last_place_take_it_once(
    world: Deployment, second_process: MessageBus
) -> None:
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 6), 10)
    world.pay_loan(loan, 100, key="pay-1")
    world.pay_loan(loan, 100, key="pay-2")  # room for one more
    refused: list[Exception] = []

    def race(_: TransferRequest) -> None:
        try:
            second_process.handle(MakePayment("user-1", loan.loan_id, 100, "pay-b"))
        except LockNotAcquired as exc:
            refused.append(exc)

    world.rails.handler = meanwhile(world.sim, race)
    world.pay_loan(loan, 100, key="pay-a")
    world.rails.handler = world.sim.submit

    assert len(refused) == 1
    with pytest.raises(PaymentLimitReached):  # the racing request, retried
        world.pay_loan(loan, 100, key="pay-b")
    assert manual_payments(world.loan(loan.loan_id)) == 3
    assert not [s for s in world.sim.submitted if ":pay-b:" in s.idempotency_key]
