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

from loc_core.creditline import CreditLine, CreditLineProduct, Statement
from loc_core.errors import InvariantViolation
from loc_core.events import DomainEvent
from loc_core.ports import Clock, UnitOfWork
from loc_core.services.kit import business_date, retry_on_conflict
from loc_core.services.messagebus import Publisher

__all__ = ["LEASE_TTL", "bill_through", "change_line"]

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
                entity="line",
                entity_id=line.line_id,
                user_id=line.user_id,
                invariant="open_cycle_unbilled",
            )
        statements.append(statement)
    return statements


def change_line(
    uow: UnitOfWork,
    *,
    user_id: str,
    line_id: str,
    change: Callable[[CreditLine, dt.date], T],
    clock: Clock,
    product: CreditLineProduct,
    publish: Publisher,
    actor: str,
    request_id: str,
    bill_first: bool = True,
) -> tuple[T, list[Statement]]:
    """Apply `change` to the stored line in one unit of work and publish what it produced.

    With `bill_first`, the closed cycles are billed before `change` runs and their
    statements are stored in the same commit. Nothing is written when nothing changed.

    Returns:
        What `change` returned, and the statements billed on the way.

    Raises:
        NotFound: no such line.
        ConcurrencyConflict: the line kept changing under us for `CONFLICT_ATTEMPTS` reads.
        DomainError: whatever `change` raised; nothing was written.
    """

    def attempt() -> tuple[tuple[T, list[Statement]], list[DomainEvent]]:
        today = business_date(clock)
        with uow:
            line = uow.lines.get(user_id, line_id)
            statements = bill_through(line, today=today, product=product) if bill_first else []
            result = change(line, today)
            if not line.outbox:
                return (result, statements), []
            uow.lines.save(line)
            for statement in statements:
                uow.statements.add(statement)
            return (result, statements), uow.commit(actor=actor, request_id=request_id)

    answer, events = retry_on_conflict(attempt)
    publish(events)
    return answer
