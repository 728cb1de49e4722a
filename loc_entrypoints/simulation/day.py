"""The schedule of a simulated day: the production jobs at their production hours (UTC).

    08:00  credit-line billing                 (loc_billing)
    10:00  borrowers act: apply, accept or let the offer expire, pay by hand, prepay,
           draw, turn autopay off; offers from yesterday expire (the TTL handler)
    12:00  the rails' settlement events that fell due are delivered
    14:00  upcoming-payment notices            (loc_upcoming)
    15:00  installment collections: job, then the worker drains the queue;
           credit-line minimum payments        (loc_due)
    16:00  credit-line overdue                 (loc_overdue)
    17:00  installment late fees, overdue, default
    18:00  invariant checks on everything written that day

Each job is a command sent through the bus, as its scheduled Lambda would send it; the
collections worker takes the queue's messages through the bus too.
"""

from __future__ import annotations

import datetime as dt

from loc_core.errors import InvariantViolation, LocError
from loc_core.services.commands import (
    BillClosedCycles,
    CollectDueMinimums,
    CollectInstallment,
    EnqueueDueInstallments,
    MarkOverdueLines,
    RunDailyLoanJob,
    SendUpcomingNotices,
    SettleTransfer,
)
from loc_entrypoints.simulation.borrowers import Book
from loc_entrypoints.simulation.checks import check_day

__all__ = ["live_one_day"]

_VISIBILITY = dt.timedelta(minutes=5)


def live_one_day(book: Book) -> None:
    """The production jobs at their hours, the borrowers' acts, then the checks."""
    world, today = book.world, book.today
    bus = world.bus
    world.at(today, 8)
    bus.handle(BillClosedCycles())
    world.at(today, 10)
    book.act_today()
    world.at(today, 12)
    for event in world.sim_rails.due_events():
        settled = bus.handle(SettleTransfer(event))
        book.tally.settled(settled.product, event.outcome, settled.handling.value)
    world.at(today, 14)
    bus.handle(SendUpcomingNotices())
    world.at(today, 15)
    _collect_installments(book)
    with book.charging():
        bus.handle(CollectDueMinimums())
    world.at(today, 16)
    bus.handle(MarkOverdueLines())
    world.at(today, 17)
    bus.handle(RunDailyLoanJob())
    world.at(today, 18)
    check_day(book)
    book.tally.close_day(today, world, book.products)


def _collect_installments(book: Book) -> None:
    """The collections job, then the worker drains the queue through the bus."""
    world = book.world
    world.bus.handle(EnqueueDueInstallments())
    while batch := world.queue.receive(max_messages=10, visibility=_VISIBILITY):
        for received in batch:
            command = world.bus.command_for(received.message)
            if not isinstance(command, CollectInstallment):  # the only kind the job sends
                raise InvariantViolation(f"unexpected work on the collections queue: {command!r}")
            try:
                with book.charging(command.installment_id):
                    world.bus.handle(command)
            except LocError as exc:  # left on the queue: delivered again tomorrow
                book.tally.refused("collect_installment", exc)
                continue
            world.queue.ack(received)
