"""How every credit-line use case changes a line: read, bill what closed, change, commit, publish.

A line's days happen in order (`OutOfOrder`), so a command that records activity first
bills every cycle that closed up to the business date; billing is idempotent, so the
08:00 job later finds nothing left to do. A commit that loses a version race is retried
on a fresh read: the change is a function of the line, so running it again is safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import attrs

from loc_core.creditline import OVERDUE_JOB_AT, CreditLine, CreditLineProduct, Statement
from loc_core.errors import InvariantViolation
from loc_core.events import DomainEvent
from loc_core.ports import Clock, UnitOfWork
from loc_core.services.kit import before_job_hour, business_date, retry_on_conflict
from loc_core.services.messagebus import Publisher

__all__ = ["LEASE_TTL", "LineWriter", "bill_through"]

T = TypeVar("T")

LEASE_TTL = dt.timedelta(seconds=60)
"""How long a per-user lease is held: far longer than a rail call (policy)."""


def bill_through(
    line: CreditLine, *, today: dt.date, product: CreditLineProduct
) -> list[Statement]:
    """Bill every cycle of `line` that closed on or before `today`, oldest first."""
    statements: list[Statement] = []
    while line.next_close_date <= today:
        statement = line.bill_cycle(close_date=line.next_close_date, today=today, product=product)
        if statement is None:
            raise InvariantViolation(
                f"line {line.line_id}'s open cycle closing {line.next_close_date} "
                "reads as billed already",
                about=line,
                invariant="open_cycle_unbilled",
            )
        statements.append(statement)
    return statements


@attrs.frozen
class LineWriter:
    """What every command that changes a line shares: the ports, and one way to change it.

    Handlers declare it like a port (``lines: LineWriter``); the bus builds it once from
    the registered adapters.
    """

    uow: UnitOfWork
    clock: Clock
    product: CreditLineProduct
    publish: Publisher

    @property
    def today(self) -> dt.date:
        """The business date."""
        return business_date(self.clock)

    def before_overdue_job(self, today: dt.date) -> bool:
        """Whether it is still before `today`'s overdue job's hour (`OVERDUE_JOB_AT`, UTC).

        A correction booked then leaves today's overdue job to its run
        (docs/corrections.md, "Today's job").
        """
        return before_job_hour(self.clock, today, OVERDUE_JOB_AT)

    def change(
        self,
        user_id: str,
        line_id: str,
        change: Callable[[CreditLine, dt.date], T],
        *,
        actor: str,
        request_id: str,
        bill_first: bool = True,
        also: Callable[[UnitOfWork, CreditLine, T], None] | None = None,
        today: dt.date | None = None,
    ) -> tuple[T, list[Statement]]:
        """Apply `change` to the stored line in one unit of work and publish what it produced.

        With `bill_first`, the closed cycles are billed before `change` runs and their
        statements are stored in the same commit. Nothing is written when nothing changed.
        `also` writes more in the same commit (a transfer intent's new status) and takes
        over the events: it keeps them to publish itself, so nothing is published here.
        `today` is the date the change is for (a scheduled job's); the business date when
        None.

        Returns:
            What `change` returned, and the statements billed on the way.

        Raises:
            NotFound: no such line.
            ConcurrencyConflict: the line kept changing under us for `CONFLICT_ATTEMPTS`
                reads.
            DomainError: whatever `change` raised; nothing was written.
        """
        uow, product = self.uow, self.product

        def attempt() -> tuple[tuple[T, list[Statement]], list[DomainEvent]]:
            on = self.today if today is None else today
            with uow:
                line = uow.lines.get(user_id, line_id)
                statements = bill_through(line, today=on, product=product) if bill_first else []
                result = change(line, on)
                if also is not None:
                    also(uow, line, result)
                elif not line.outbox:
                    return (result, statements), []
                uow.lines.save(line)
                for statement in statements:
                    uow.statements.add(statement)
                return (result, statements), uow.commit(actor=actor, request_id=request_id)

        answer, events = retry_on_conflict(attempt)
        if also is None:
            self.publish(events)
        return answer
