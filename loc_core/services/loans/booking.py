"""Moving a loan's money under its transfer intent: ask the rails in order, book what one took.

The rails are asked with the intent's keys (`loc_core.services.moving.Movements.send`): a
decline or a rail that took nothing moves on to the next rail; an unknown outcome stops at
once and leaves the intent PENDING. Once a rail accepted a transfer the money has moved,
so booking it must not be refused by a concurrent writer: each try re-reads the loan and
books on what is stored, together with the intent's move to BOOKED, and a failure is a
CRITICAL alert before it is raised. Payments on one loan are serialised by its
collections lease, so a re-read loan can only owe more (a late fee, a return), never
less, and the payment still fits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping

import attrs

from loc_core.events import AuditValue
from loc_core.installment import Loan, Process
from loc_core.intents import IntentStatus, TransferIntent
from loc_core.ports import Alerter, Lease, Metrics, UnitOfWork
from loc_core.services.kit import not_booked_alerted, refund_due_alert, retry_on_conflict
from loc_core.services.moving import Movements, intent_details
from loc_core.services.rails import Transfer

__all__ = ["LoanTransfers", "intent_details"]


@attrs.frozen
class LoanTransfers:
    """What moving a loan's money shares: the intent steps, and booking what a rail took.

    Handlers declare it like a port (``transfers: LoanTransfers``); the bus builds it once
    from the registered adapters.
    """

    uow: UnitOfWork
    alerter: Alerter
    metrics: Metrics
    movements: Movements

    def move(self, intent: TransferIntent, what: str, *, failed: str) -> Transfer:
        """Offer the intent's transfer to its rails; the transfer one accepted.

        When none accepted nothing moved: the intent is ABANDONED and the `failed` metric
        counted before the error is raised.

        Raises:
            RailDeclined: every rail declined.
            RailUnavailable: no rail accepted and one could not be reached (operations are
                alerted when none could).
            ExternalServiceError: a rail failed with its outcome unknown; the intent stays
                PENDING for a retry or the recovery job.
        """
        answers = self.movements.send(intent)
        if answers.accepted is not None:
            return answers.accepted
        self.metrics.increment(failed)
        error = answers.failure(what, alerter=self.alerter, details=intent_details(intent))
        self.movements.abandon(intent, str(error))
        raise error

    @contextlib.contextmanager
    def booking(
        self, transfer: Transfer, *, what: str, details: Mapping[str, AuditValue]
    ) -> Iterator[None]:
        """Around booking money `transfer` moved: a failure is alerted (CRITICAL), then raised."""
        with not_booked_alerted(
            what,
            alerter=self.alerter,
            details={
                **details,
                "rail": transfer.rail.value,
                "idempotency_key": transfer.idempotency_key,
                "confirmation_id": transfer.confirmation_id,
            },
        ):
            yield

    def book(
        self,
        intent: TransferIntent,
        transfer: Transfer,
        *,
        process: Process,
        what: str,
        today: dt.date,
        actor: str,
        before: Callable[[Loan], None] | None = None,
        after: Callable[[Loan], object] | None = None,
        lease: Lease | None = None,
    ) -> TransferIntent:
        """Apply the debit `transfer` took to the loan as payment `transfer.idempotency_key`.

        The intent becomes BOOKED in the same commit. What the loan no longer owes (paid
        off meanwhile) is booked as a refund due and alerted (WARNING), never refused.
        `before` runs on the freshly read loan first (the worker records its attempt there),
        `after` once the payment is applied (the worker's notice of what autopay left).
        With the payment `lease` the command holds, the commit is fenced: a lease taken
        over meanwhile fails it (`LeaseLost`) and the next holder books it. Returns the
        booked intent, for `Movements.finish`; one booked already is returned as stored.

        Raises:
            Exception: whatever stopped the payment being recorded; operations were alerted
                (CRITICAL), and a retry (or the recovery job) books it without taking the
                money again.
        """
        uow = self.uow

        def attempt() -> TransferIntent:
            with uow:
                if lease is not None:
                    uow.fence(lease)
                stored = uow.intents.get(intent.user_id, intent.intent_id)
                if stored.status is IntentStatus.BOOKED:
                    return stored
                loan = uow.loans.get(intent.user_id, intent.account_id)
                if transfer.idempotency_key not in loan.payments:
                    if before is not None:
                        before(loan)
                    payment = loan.book_moved_payment(  # money moved: never refused
                        transfer.idempotency_key,
                        intent.amount,
                        process=process,
                        rail=transfer.rail,
                        today=today,
                    )
                    if payment.refund is not None:  # committed with the payment it refunds
                        loan.outbox.events.append(
                            refund_due_alert(
                                payment.refund,
                                user_id=loan.user_id,
                                owner=("loan_id", loan.loan_id),
                                on=today,
                            )
                        )
                    if after is not None:
                        after(loan)
                    uow.loans.save(loan)
                booked = self.movements.booked(
                    uow,
                    stored,
                    transfer,
                    outcome=transfer.idempotency_key,
                    events=list(loan.outbox.events),
                )
                uow.commit(actor=actor, request_id=intent.request_key)
            return booked

        with self.booking(transfer, what=what, details=intent_details(intent)):
            return retry_on_conflict(attempt)
