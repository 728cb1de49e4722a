"""The schedule of a simulated day: the production jobs at their production hours (UTC).

    07:00  the recovery job: books what a dead process left half done (RecoverTransfers)
    08:00  credit-line billing                 (loc_billing)
    10:00  borrowers act: apply, accept or let the offer expire, pay by hand, prepay,
           draw, turn autopay off; offers from yesterday expire (the TTL handler)
    12:00  the rails' settlement events that fell due are delivered
    14:00  upcoming-payment notices            (loc_upcoming)
    15:00  installment collections: job, then the worker drains the queue;
           credit-line minimum payments        (loc_due)
    15:45  the recovery job again, after the money-moving jobs and before overdue and late
           fees, so a minimum or installment paid by a process that died is never taken
           for a missed one
    16:00  credit-line overdue                 (loc_overdue)
    17:00  installment late fees, overdue, default
    18:00  invariant checks on everything written that day

Each job is a command sent through the bus, as its scheduled Lambda would send it; the
collections worker takes the queue's messages through the bus too. A process that dies
after a rail's answer (`crashes.ProcessCrashed`) is counted where its command was sent
and everything is left as it died: a job's run ends, a queue message stays unacknowledged.
"""

from __future__ import annotations

import datetime as dt

from loc_core.errors import InvariantViolation, LocError
from loc_core.payments import Direction
from loc_core.services.commands import (
    BillClosedCycles,
    CollectDueMinimums,
    CollectInstallment,
    EnqueueDueInstallments,
    MarkOverdueLines,
    RecoverTransfers,
    RunDailyLoanJob,
    SendUpcomingNotices,
    SettleTransfer,
)
from loc_core.services.moving import RECOVERY_AFTER
from loc_entrypoints.simulation.borrowers import Book
from loc_entrypoints.simulation.checks import check_day
from loc_entrypoints.simulation.crashes import ProcessCrashed

__all__ = ["close_the_run", "live_one_day", "recover"]

_VISIBILITY = dt.timedelta(minutes=5)
_A_MOMENT = dt.timedelta(seconds=1)


def live_one_day(book: Book) -> None:
    """The production jobs at their hours, the borrowers' acts, then the checks."""
    world, today = book.world, book.today
    bus = world.bus
    world.at(today, 7)
    recover(book)
    world.at(today, 8)
    bus.handle(BillClosedCycles())
    world.at(today, 10)
    book.act_today()
    world.at(today, 12)
    for event in world.sim_rails.due_events():
        settled = bus.handle(SettleTransfer(event))
        sent = world.sim_rails.request(event.idempotency_key)  # a credit's return is no ACH return
        credit = sent is not None and sent.direction is Direction.CREDIT
        book.tally.settled(settled.product, event.outcome, settled.handling.value, credit=credit)
    world.at(today, 14)
    bus.handle(SendUpcomingNotices())
    world.at(today, 15)
    _collect_installments(book)
    try:
        with book.charging():
            bus.handle(CollectDueMinimums())
    except ProcessCrashed:  # the job's run ends with the process; tomorrow's run goes on
        book.tally.crashed("collect_due_minimums")
    world.at(today, 15, 45)
    recover(book)
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
            except ProcessCrashed:  # unacknowledged: delivered again when it is visible
                book.tally.crashed("collect_installment")
                continue
            world.queue.ack(received)


def close_the_run(book: Book) -> None:
    """After the last day: past `RECOVERY_AFTER`, the recovery job once more, then the checks.

    Whatever a process that died on the last day left open is finished before the report
    counts the intents still open.
    """
    book.world.clock.advance(RECOVERY_AFTER + _A_MOMENT)
    recover(book)
    check_day(book)


def recover(book: Book) -> None:
    """The recovery job, its report added to the tally."""
    book.tally.recovered(book.world.bus.handle(RecoverTransfers()))
