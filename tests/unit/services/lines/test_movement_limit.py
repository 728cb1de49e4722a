"""A borrower's draws and payments per cycle are bounded, so a line's item stays storable.

A line's root item holds every activity line of its open and last cycles: without a
bound, 1-cent payments grow it past DynamoDB's 400 KB and every command on the line,
and its billing, fail for good (docs/credit-lines.md, "Movements per cycle"). The bound
refuses only what a borrower starts, before any rail is asked; money that already moved
(the due job's debit, a return) is always booked.
"""

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import settlement

from loc_core.creditline import CreditLine, CreditLineProduct
from loc_core.errors import MovementLimitReached
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.services.commands import ReconcileLine, SettlementHandling

BOUND = CreditLineProduct(max_movements_per_cycle=3)


@pytest.fixture
def world() -> Deployment:
    """The lines' deployment under a product that allows three movements a cycle."""
    return Deployment.build(now=LINES_OPENED, seed=11, overrides={CreditLineProduct: BOUND})


def test_a_borrowers_movement_past_the_bound_is_refused_and_changes_nothing(
    world: Deployment, drawn: CreditLine
) -> None:
    world.pay_line(drawn, 1, key="cent-1")
    world.pay_line(drawn, 1, key="cent-2")  # with the draw: three this cycle
    before, calls = world.line(drawn), len(world.rails.calls)

    with pytest.raises(MovementLimitReached) as refused:
        world.pay_line(drawn, 1, key="cent-3")
    with pytest.raises(MovementLimitReached):
        world.draw(drawn, 100, key="draw-2")

    assert refused.value.key == "max_movements_per_cycle"
    assert "allows 3 a cycle" in str(refused.value)
    assert "closes on 2026-04-05" in str(refused.value)
    assert world.line(drawn) == before
    assert len(world.rails.calls) == calls  # no rail was asked
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    world.at(dt.date(2026, 4, 5), 10)
    assert world.pay_line(drawn, 1, key="cent-3").amount == 1  # the next cycle takes it


def test_the_due_debit_and_a_return_past_the_bound_are_still_booked(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 6), 10)
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    first = world.pay_line(billed, 100, key="pay-1").payment_id
    world.pay_line(billed, 100, key="pay-2")
    world.pay_line(billed, 100, key="pay-3")
    with pytest.raises(MovementLimitReached):
        world.pay_line(billed, 100, key="pay-4")
    world.sim.down = set()

    world.at(dt.date(2026, 4, 27), 15)  # the due date: 1,989 - 300 left of the minimum
    assert billed.line_id in world.due().acted
    world.at(dt.date(2026, 4, 28), 10)
    event = settlement(first, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    assert world.settle(event) is SettlementHandling.REVERSED

    line = world.line(billed)
    debits = [p for p in line.payments.values() if p.submitted_on == dt.date(2026, 4, 27)]
    assert [p.amount for p in debits] == [1_689]
    assert line.payments[first].status is PaymentStatus.RETURNED
    assert world.bus.handle(ReconcileLine(billed.user_id, billed.line_id)).problems == ()


def test_a_failed_draw_takes_no_room_from_the_cycle(world: Deployment, drawn: CreditLine) -> None:
    world.sim.down = {Rail.RTP, Rail.PINLESS, Rail.ACH}  # every rail down: draws fail
    for attempt in ("draw-2", "draw-3", "draw-4"):
        assert world.draw(drawn, 100, key=attempt).status.value == "FAILED"
    world.sim.down = set()

    assert world.pay_line(drawn, 1, key="cent-1").amount == 1  # they stored no entry
    assert world.draw(drawn, 100, key="draw-5").status.value == "DISBURSED"
    with pytest.raises(MovementLimitReached):  # the draw, the payment and the draw
        world.pay_line(drawn, 1, key="cent-2")


def test_a_borrower_at_the_bound_can_pay_the_line_off_once_a_cycle(
    world: Deployment, drawn: CreditLine
) -> None:
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    world.pay_line(drawn, 1, key="cent-1")
    world.pay_line(drawn, 1, key="cent-2")  # with the draw: three this cycle
    before, calls = world.line(drawn), len(world.rails.calls)
    owed = before.total_balance

    with pytest.raises(MovementLimitReached):  # less than everything owed is refused
        world.pay_line(drawn, owed - 1, key="part")
    assert world.line(drawn) == before
    assert len(world.rails.calls) == calls  # no rail was asked

    payoff = world.pay_line(drawn, owed, key="payoff")  # paying it all off never is
    assert payoff.amount == owed
    assert world.line(drawn).total_balance == 0
    assert world.bus.handle(ReconcileLine(drawn.user_id, drawn.line_id)).problems == ()

    world.at(dt.date(2026, 3, 20), 10)
    event = settlement(payoff.payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    assert world.settle(event) is SettlementHandling.REVERSED
    assert world.line(drawn).total_balance == owed  # owed again
    with pytest.raises(MovementLimitReached, match="already took its one"):  # once a cycle
        world.pay_line(drawn, owed, key="payoff-2")

    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    world.at(dt.date(2026, 4, 5), 10)
    owed = world.line(drawn).total_balance
    assert world.pay_line(drawn, owed, key="payoff-2").amount == owed  # the next cycle takes it
