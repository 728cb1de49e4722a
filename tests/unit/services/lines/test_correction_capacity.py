"""A return whose correction is too large for one commit is still booked, once.

The replay rewrites every later payment whose split it changes (and audits each): after
a payment that paid the billed interest, 60 one-cent payments paid principal (more than
`max_movements_per_cycle` lets a borrower start in one cycle, so booked behind the
services here; spread over the cycles a correction reaches back, as many can be); returned,
the first payment paid nothing, and each cent now pays interest. The corrected commit
would write 127 items, more than one DynamoDB transaction takes, on every delivery. So
the return is reversed as of the day it is learned and operations are told to correct
the rest by hand; the next delivery is a duplicate.
"""

import datetime as dt
from collections.abc import Callable

from deployment import Deployment
from fakes import settlement

from loc_core.creditline import CreditLine
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import ReconcileLine, SettlementHandling


def test_a_return_too_large_to_correct_in_one_commit_is_reversed_as_of_today(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 6), 10)
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    first = world.pay_line(billed, 2_000, key="pay-first").payment_id  # the 789 interest first

    def cent(n: int) -> Callable[[CreditLine], object]:
        return lambda line: line.submit_payment(
            payment_id=f"cent-{n}", amount=1, rail=Rail.ACH, on=dt.date(2026, 4, 6)
        )

    for n in range(60):  # more than a borrower may start in a cycle: booked by hand
        world.edit_line(billed, cent(n))
    owed = world.line(billed).total_balance
    world.at(dt.date(2026, 4, 8), 10)
    event = settlement(first, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)

    assert world.settle(event) is SettlementHandling.REVERSED

    line = world.line(billed)
    assert line.payments[first].status is PaymentStatus.RETURNED
    assert line.total_balance == owed + 2_000  # exactly what it paid is owed again
    assert f"{first}:reverse" in {entry.entry_id for entry in world.ledger(billed.line_id)}
    [alert] = world.alerts(Severity.CRITICAL)
    assert "too large for one commit" in alert.title
    assert "loc_payment_failed" in world.sent()
    assert world.bus.handle(ReconcileLine(billed.user_id, billed.line_id)).problems == ()
    assert world.settle(event) is SettlementHandling.DUPLICATE
    assert len(world.alerts(Severity.CRITICAL)) == 1
