"""A line from application to closing, every outside command delivered twice.

The body uses only the services, the `new_uow` factory and the simulated rails, so a suite
for another store runs it by overriding the `new_uow` fixture.
"""

import datetime as dt

import attrs
from unit.services.lines.world import QUIET, UowFactory, World

from loc_core.applications import ApplicationStatus
from loc_core.creditline import Balances, CreditLine, LineStatus, LocPayment
from loc_core.ledger import Bucket, Ledger, receivable
from loc_core.payments import PaymentStatus, Rail
from loc_core.services.lines import ReconcileLine, reconcile_line


def open_and_draw(world: World) -> CreditLine:
    """Apply, accept and draw $400.00 by RTP on 03-12, each command sent twice."""
    world.users.add("user-1")
    offer = world.apply()
    assert world.apply() == offer
    assert offer.status is ApplicationStatus.APPROVED
    line = world.accept(offer.application_id)
    assert world.accept(offer.application_id) == line
    world.at(dt.date(2026, 3, 12), 7)
    draw = world.draw(line, 40_000)
    assert world.draw(line, 40_000) == draw
    return line


def miss_the_first_due_date(world: World, line: CreditLine) -> dt.date:
    """ACH takes the 04-27 minimum and the bank returns it; returns the day after the return."""
    world.rails.declining = {Rail.PINLESS}
    world.sim.behaviour = attrs.evolve(QUIET, nsf_return_probability=1)
    world.run_day(dt.date(2026, 4, 27), twice=True)
    (collected,) = world.line(line).payments.values()
    assert (collected.rail, collected.amount) == (Rail.ACH, 1_989)
    world.rails.declining = set()
    world.sim.behaviour = QUIET

    def status() -> PaymentStatus:
        payment: LocPayment = world.line(line).payments[collected.payment_id]
        return payment.status

    day = dt.date(2026, 4, 28)
    while status() is not PaymentStatus.RETURNED:
        world.run_day(day, twice=True)
        day += dt.timedelta(days=1)
    return day


def test_a_line_from_application_to_closing(world: World, new_uow: UowFactory) -> None:
    line = open_and_draw(world)
    world.run_days(dt.date(2026, 3, 12), dt.date(2026, 4, 26), twice=True)
    first = world.line(line)
    assert first.last_statement is not None
    assert (first.last_statement.minimum_payment, first.next_due_date) == (
        1_989,
        dt.date(2026, 4, 27),
    )
    assert first.upcoming_notice_cycle == dt.date(2026, 4, 5)

    day = miss_the_first_due_date(world, line)
    suspended = world.line(line)
    assert (suspended.status, suspended.fee_balance) == (LineStatus.SUSPENDED, 500)
    assert {"loc_payment_failed", "loc_past_due"} <= set(world.sent())

    # Before the day's jobs, the borrower pays the past-due minimum, the late fee first.
    # The line is cured at once.
    world.at(day, 7)
    cure = world.pay(line, 1_989, key="cure")
    assert world.pay(line, 1_989, key="cure") == cure
    assert (cure.paid.fees, cure.paid.total) == (500, 1_989)
    assert world.line(line).status is LineStatus.ACTIVE

    # Cycles 2 and 3 are billed, reminded and collected by pinless on time.
    world.run_days(day, dt.date(2026, 6, 5), twice=True)
    billed = world.line(line)
    assert (billed.last_billing_cycle_date, billed.status) == (
        dt.date(2026, 6, 5),
        LineStatus.ACTIVE,
    )

    # Paid off on the close date itself, nothing accrues after billing, so it can close.
    world.at(dt.date(2026, 6, 5), 17)
    payoff = world.pay(line, billed.total_balance, key="payoff")
    assert world.pay(line, billed.total_balance, key="payoff") == payoff
    assert payoff.balances_after == Balances()
    closed = world.close(line)
    assert world.close(line) == closed
    assert closed.status is LineStatus.CLOSED
    world.run_days(dt.date(2026, 6, 6), dt.date(2026, 7, 6), twice=True)

    final = world.line(line)
    assert (final.status, final.balances) == (LineStatus.CLOSED, Balances())
    with new_uow() as uow:
        ledger = Ledger(entries=uow.journal.entries_for(line.line_id))
        statements = uow.statements.for_line(line.user_id, line.line_id)
    assert [s.statement_date.isoformat() for s in statements] == [
        "2026-04-05",
        "2026-05-05",
        "2026-06-05",
    ]
    buckets = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.FEE)
    owed = [ledger.balance(receivable(line.line_id, bucket)) for bucket in buckets]
    assert owed == [final.principal_balance, final.interest_balance, final.fee_balance]
    assert ledger.trial_balance() == 0
    reconciled = reconcile_line(
        ReconcileLine(line.user_id, line.line_id), uow=new_uow(), alerter=world.alerter
    )
    assert reconciled.matches
    assert world.alerter.posted == []
    assert all(
        p.status is PaymentStatus.COMPLETED or p.status.reversed for p in final.payments.values()
    )
    sent = world.sent()
    # The third statement was paid off at once: nothing was due, so no reminder.
    assert [sent.count(name) for name in ("loc_statement_ready", "loc_payment_upcoming")] == [3, 2]
    assert [sent.count(name) for name in ("loc_draw_disbursed", "loc_payment_failed")] == [1, 1]
    assert len(world.rails.submitted) == 1 + len(final.payments)
