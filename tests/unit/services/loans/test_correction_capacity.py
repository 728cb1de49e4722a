"""A loan return whose correction is too large for one commit is still booked, once.

After a $30.00 payment, 95 one-cent payments paid the first installment's principal;
returned, the first payment paid nothing and each cent's split moves to the origination
fee: the replay rewrites 97 payments, 105 items, more than one DynamoDB transaction takes,
on every delivery. The return is reversed as of the day it is learned (as for a loan
adopted from the Go service) and operations are told to correct the rest by hand.
"""

import datetime as dt

from deployment import Deployment
from fakes import settlement

from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import SettlementHandling


def test_a_return_too_large_to_correct_in_one_commit_is_reversed_as_of_today(
    world: Deployment,
) -> None:
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 8), 10)
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    first = world.pay_loan(loan, 3_000, key="pay-first").payment_id
    for n in range(95):
        world.clock.set(dt.datetime(2026, 1, 8, 11, tzinfo=dt.UTC) + dt.timedelta(minutes=n))
        world.pay_loan(loan, 1, key=f"cent-{n}")
    owed = world.loan(loan.loan_id).outstanding_balance
    world.at(dt.date(2026, 1, 9), 10)
    event = settlement(first, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)

    assert world.settle(event) is SettlementHandling.REVERSED

    stored = world.sound_loan(loan.loan_id)  # verified, its books and reconciliation agree
    assert stored.payments[first].status is PaymentStatus.RETURNED
    assert stored.outstanding_balance == owed + 3_000
    [alert] = world.alerts(Severity.CRITICAL)
    assert "too large for one commit" in alert.title
    assert "payment_failed" in world.sent()
    assert world.settle(event) is SettlementHandling.DUPLICATE
    assert len(world.alerts(Severity.CRITICAL)) == 1
