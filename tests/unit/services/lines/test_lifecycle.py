"""A line from application to closing, every outside command delivered twice.

The body goes through the deployment's bus only, so a suite for another store runs it by
overriding the `world` fixture with a deployment over that store.
"""

import datetime as dt

import attrs
from deployment import QUIET, Deployment
from fakes import declining

from loc_core.applications import ApplicationStatus
from loc_core.creditline import Balances, CreditLine, LineStatus, LocPayment
from loc_core.ledger import Bucket, receivable
from loc_core.payments import PaymentStatus, Rail
from loc_core.services.commands import ListLineStatements, ReconcileLine


def open_and_draw(world: Deployment) -> CreditLine:
    """Apply, accept and draw $400.00 by RTP on 03-12, each command sent twice."""
    world.users.add("user-1")
    offer = world.apply_line()
    assert world.apply_line() == offer
    assert offer.status is ApplicationStatus.APPROVED
    line = world.accept_line(offer.application_id)
    assert world.accept_line(offer.application_id) == line
    world.at(dt.date(2026, 3, 12), 7)
    draw = world.draw(line, 40_000)
    assert world.draw(line, 40_000) == draw
    return line


def miss_the_first_due_date(world: Deployment, line: CreditLine) -> dt.date:
    """ACH takes the 04-27 minimum and the bank returns it; returns the day after the return."""
    world.rails.handler = declining(world.sim, {Rail.PINLESS})
    world.sim.behaviour = attrs.evolve(QUIET, nsf_return_probability=1)
    world.run_day(dt.date(2026, 4, 27), twice=True)
    (collected,) = world.line(line).payments.values()
    assert (collected.rail, collected.amount) == (Rail.ACH, 1_989)
    world.rails.handler = world.sim.submit
    world.sim.behaviour = QUIET

    def status() -> PaymentStatus:
        payment: LocPayment = world.line(line).payments[collected.payment_id]
        return payment.status

    day = dt.date(2026, 4, 28)
    while status() is not PaymentStatus.RETURNED:
        world.run_day(day, twice=True)
        day += dt.timedelta(days=1)
    return day


def test_a_line_from_application_to_closing(world: Deployment) -> None:
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
    cure = world.pay_line(line, 1_989, key="cure")
    assert world.pay_line(line, 1_989, key="cure") == cure
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
    payoff = world.pay_line(line, billed.total_balance, key="payoff")
    assert world.pay_line(line, billed.total_balance, key="payoff") == payoff
    assert payoff.balances_after == Balances()
    closed = world.close(line)
    assert world.close(line) == closed
    assert closed.status is LineStatus.CLOSED
    world.run_days(dt.date(2026, 6, 6), dt.date(2026, 7, 6), twice=True)

    final = world.line(line)
    assert (final.status, final.balances) == (LineStatus.CLOSED, Balances())
    statements = world.bus.handle(ListLineStatements(line.user_id, line.line_id))
    assert [s.statement_date.isoformat() for s in statements] == [
        "2026-04-05",
        "2026-05-05",
        "2026-06-05",
    ]
    ledger = world.ledger(line.line_id)
    buckets = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.FEE)
    owed = [ledger.balance(receivable(line.line_id, bucket)) for bucket in buckets]
    assert owed == [final.principal_balance, final.interest_balance, final.fee_balance]
    assert world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches
    assert world.alerts() == []
    assert all(
        p.status is PaymentStatus.COMPLETED or p.status.reversed for p in final.payments.values()
    )
    sent = world.sent()
    # The third statement was paid off at once: nothing was due, so no reminder.
    assert [sent.count(name) for name in ("loc_statement_ready", "loc_payment_upcoming")] == [3, 2]
    assert [sent.count(name) for name in ("loc_draw_disbursed", "loc_payment_failed")] == [1, 1]
    assert len(world.sim.submitted) == 1 + len(final.payments)
