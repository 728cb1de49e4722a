"""Review of the unconfirmed-debit rule on lines: what the due job takes beside one.

A payment whose money the rail already gave back does not pay the minimum, and a due
debit tried again after a decline takes what is left of the minimum, not what it first
asked for.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import CrashingOnBooking, declining, settlement, timing_out

from loc_core.creditline import CreditLine
from loc_core.errors import ExternalServiceError
from loc_core.payments import Direction, PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import UnitOfWork
from loc_core.services.commands import CollectDueMinimums

DUE = dt.date(2026, 4, 27)  # `billed`'s due date: a 1,989 minimum


def debits(world: Deployment) -> list[tuple[str, int]]:
    return [
        (r.idempotency_key.rsplit(":", 1)[-1], r.amount)
        for r in world.sim.submitted
        if r.direction is Direction.DEBIT
    ]


def disputed_before_booking(world: Deployment, line: CreditLine, amount: int) -> str:
    """A payment the rail took at 10:00 (its answer lost) and the cardholder disputed at
    11:00, the chargeback held on the unbooked payment; the clock at 15:00. Its key."""
    world.at(DUE, 10)
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_line(line, amount)
    key = f"pay:{line.line_id}:pay-1:pinless"
    world.at(DUE, 11)
    world.settle(settlement(key, SettlementOutcome.CHARGED_BACK, world.clock.now(), Rail.PINLESS))
    world.at(DUE, 15)
    return key


def test_a_payment_the_rail_charged_back_before_it_was_booked_is_booked_reversed_and_stops_autopay(
    world: Deployment, billed: CreditLine
) -> None:
    key = disputed_before_booking(world, billed, 1_989)
    world.due()  # books the payment, whose held chargeback reverses it and stops autopay
    assert debits(world) == [("pinless", 1_989)]  # a disputed debit is never presented again
    line = world.line(billed)
    assert line.payments[key].status is PaymentStatus.CHARGED_BACK
    assert not line.autopay_enabled
    assert (line.minimum_payment_outstanding, line.refunds_due) == (1_989, 0)


def test_a_due_debit_tried_again_after_a_decline_takes_what_an_unconfirmed_payment_leaves(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE, 15)
    world.rails.handler = declining(world.sim, {Rail.PINLESS})
    world.sim.down.add(Rail.ACH)
    assert world.due().failed  # pinless said no to 1,989; ACH never got it
    world.sim.down.clear()
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.pay_line(billed, 1_500)  # the rail took it; nobody booked it
    world.rails.handler = declining(world.sim, {Rail.PINLESS})
    world.due()  # the operator's re-run: pinless keeps its answer for 1,989 on its key
    assert debits(world) == [("pinless", 1_500), ("ach", 489)]
    world.pay_line(billed, 1_500)
    line = world.line(billed)
    assert (line.minimum_payment_outstanding, line.refunds_due) == (0, 0)
    assert line.principal_balance == 40_000 - (1_500 + 489 - 789)


def test_a_chargeback_held_on_a_payment_a_dead_due_job_booked_stops_the_jobs_retry(
    world: Deployment, billed: CreditLine
) -> None:
    key = disputed_before_booking(world, billed, 1_000)
    dying = CrashingOnBooking(world.bus.get(UnitOfWork), after_commit=True)
    world.replacing(UnitOfWork, dying).handle(CollectDueMinimums())
    assert dying.crashed  # as the payment's booking committed: its chargeback unapplied
    assert world.line(billed).autopay_enabled
    world.at(DUE, 15)  # the job's retry, minutes later, before any recovery run
    world.due()
    assert debits(world) == [("pinless", 1_000)]  # the disputed account is not debited again
    line = world.line(billed)
    assert line.payments[key].status is PaymentStatus.CHARGED_BACK
    assert not line.autopay_enabled
