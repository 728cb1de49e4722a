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
from loc_core.installment import DAILY_JOB_AT, Loan, Payment, Process
from loc_core.intents import IntentStatus, TransferIntent
from loc_core.ports import Alerter, Lease, Metrics, UnitOfWork
from loc_core.services.kit import (
    before_job_hour,
    booked_as_of_or_today,
    not_booked_alerted,
    refund_due_alert,
    refund_due_alerts,
    retry_on_conflict,
)
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
        A debit its rail took on a day before `today` (`Transfer.taken_before`: a debit
        whose answer was lost, booked days later by the recovery job, a later debit or an
        operator) counts from then: booked as of that day (after its daily job when taken
        after the job's hour), PENDING until its rail settles it, the loan corrected as of
        then (`Loan.book_backdated_payment`). When the loan cannot be corrected as of then
        (`kit.CANNOT_DATE_BACK`), it is booked as of today with a CRITICAL alert.
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
                    taken_at = transfer.taken_before(today)
                    if taken_at is None:
                        self._book_today(loan, intent, transfer, process, today)
                    else:
                        self._book_as_of(
                            loan, intent, transfer, process=process, taken_at=taken_at, today=today
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

    def _book_today(
        self,
        loan: Loan,
        intent: TransferIntent,
        transfer: Transfer,
        process: Process,
        today: dt.date,
    ) -> Payment:
        """The payment, booked `today`; a refund due it makes is alerted in its commit."""
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
                    payment.refund, user_id=loan.user_id, owner=("loan_id", loan.loan_id), on=today
                )
            )
        return payment

    def _book_as_of(
        self,
        loan: Loan,
        intent: TransferIntent,
        transfer: Transfer,
        *,
        process: Process,
        taken_at: dt.datetime,
        today: dt.date,
    ) -> Payment:
        """The payment, effective `taken_at` (the loan corrected as of then), booked `today`.

        Every refund due the correction leaves (on this payment or another it moved to)
        is alerted in its commit, as a booking's is. A loan that cannot be corrected as of
        then (`kit.CANNOT_DATE_BACK`: nothing changed) takes the payment as of today, with
        a CRITICAL alert in the same commit: the money moved, so it is never refused.
        """
        taken_on = taken_at.date()

        def as_of() -> Payment:
            before = loan.refunds_due_by_payment()
            payment = loan.book_backdated_payment(
                transfer.idempotency_key,
                intent.amount,
                rail=transfer.rail,
                effective_on=taken_on,
                today=today,
                posted=self.uow.journal.entries_for(loan.loan_id),
                reason=f"{transfer.rail.value} took it on {taken_on.isoformat()}; booked late",
                before_daily_job=before_job_hour(self.movements.clock, today, DAILY_JOB_AT),
                process=process,
                settled=False,
                after_job=taken_at.time() >= DAILY_JOB_AT,
            )
            loan.outbox.events.extend(
                refund_due_alerts(
                    loan, before, user_id=loan.user_id, named=("loan_id", loan.loan_id), on=today
                )
            )
            return payment

        return booked_as_of_or_today(
            as_of,
            lambda: self._book_today(loan, intent, transfer, process, today),
            payment_id=transfer.idempotency_key,
            taken_on=taken_on,
            user_id=loan.user_id,
            owner=("loan_id", loan.loan_id),
            on=today,
            events=loan.outbox.events,
        )
