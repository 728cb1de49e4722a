"""Booking money a rail already moved: retried on conflicts, never lost without an alert.

Once a rail accepted a transfer the money has moved, so booking it must not be refused by
a concurrent writer: each try re-reads the loan and books on what is stored. Payments on
one loan are serialised by its collections lease, so a re-read loan can only owe more
(a late fee, a return), never less, and the payment still fits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping

from loc_core.events import AuditValue, DomainEvent
from loc_core.installment import Loan, Process
from loc_core.ports import Alerter, UnitOfWork
from loc_core.services.kit import not_booked_alerted, retry_on_conflict
from loc_core.services.rails import Transfer

__all__ = ["book_payment", "booking"]


@contextlib.contextmanager
def booking(
    transfer: Transfer, *, what: str, alerter: Alerter, details: Mapping[str, AuditValue]
) -> Iterator[None]:
    """Around booking money `transfer` moved: a failure is alerted (CRITICAL), then raised."""
    with not_booked_alerted(
        what,
        alerter=alerter,
        details={
            **details,
            "rail": transfer.rail.value,
            "idempotency_key": transfer.idempotency_key,
            "confirmation_id": transfer.confirmation_id,
        },
    ):
        yield


def book_payment(
    transfer: Transfer,
    *,
    uow: UnitOfWork,
    user_id: str,
    loan_id: str,
    amount: int,
    process: Process,
    today: dt.date,
    actor: str,
    request_id: str,
    before: Callable[[Loan], None] | None = None,
) -> list[DomainEvent]:
    """Apply the accepted transfer to the loan as payment `transfer.idempotency_key`.

    `before` runs on the freshly read loan first (the worker records its attempt there).
    Returns the committed events; none when an earlier try had already booked it.
    """

    def attempt() -> list[DomainEvent]:
        with uow:
            loan = uow.loans.get(user_id, loan_id)
            if transfer.idempotency_key in loan.payments:
                return []
            if before is not None:
                before(loan)
            loan.apply_payment(
                transfer.idempotency_key,
                amount,
                process=process,
                rail=transfer.rail,
                today=today,
            )
            uow.loans.save(loan)
            return uow.commit(actor=actor, request_id=request_id)

    return retry_on_conflict(attempt)
