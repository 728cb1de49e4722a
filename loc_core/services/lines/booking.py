"""Taking a repayment from a borrower: pinless debit, then ACH, then record what was taken.

Every debit is a transfer intent committed first (`loc_core.services.moving`). The rails
are asked with the intent's keys: a declined debit, or
a rail that took nothing (`RailUnavailable`), falls back to the next rail; a rail failing
with its outcome unknown stops the attempt, because offering the same money to a second
rail could take it twice from a borrower; a retry with the same transfer keys is safe
instead. Money a rail took is always recorded: the payment id is the accepted transfer's
key, so a retry finds it, and a failure to record it is alerted to operations.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import (
    OVERDUE_JOB_AT,
    CreditLine,
    LocPayment,
)
from loc_core.intents import IntentKind, IntentStatus, TransferIntent
from loc_core.payments import Direction, Rail
from loc_core.ports import Alerter, Lease, UnitOfWork
from loc_core.services.kit import (
    booked_as_of_or_today,
    not_booked_alerted,
    refund_due_alert,
    refund_due_alerts,
)
from loc_core.services.lines._unit import LineWriter
from loc_core.services.moving import Movements, intent_details
from loc_core.services.rails import Transfer

__all__ = ["LineDebits"]


@attrs.frozen
class LineDebits:
    """Taking money from a line's borrower under a transfer intent: ask, then book.

    Handlers declare it like a port (``debits: LineDebits``); the bus builds it once.
    """

    lines: LineWriter
    alerter: Alerter
    movements: Movements

    def debit_intent(
        self,
        *,
        intent_id: str,
        kind: IntentKind,
        user_id: str,
        line_id: str,
        amount: int,
        order: tuple[Rail, ...],
        fingerprint: str,
        request_key: str,
    ) -> TransferIntent:
        """A debit of `amount` cents from the line's borrower, to commit before any rail."""
        now = self.movements.clock.now()
        return TransferIntent(
            intent_id=intent_id,
            user_id=user_id,
            kind=kind,
            account_id=line_id,
            direction=Direction.DEBIT,
            amount=amount,
            rails=order,
            fingerprint=fingerprint,
            request_key=request_key,
            created_at=now,
            updated_at=now,
        )

    def collect(self, intent: TransferIntent) -> tuple[Transfer | None, tuple[str, ...]]:
        """Offer the intent's debit to its rails in order; the first acceptance wins.

        When none accepted nothing moved, and the intent is ABANDONED.

        Returns:
            The acceptance (None when every rail declined) and each decline's reason.

        Raises:
            RailUnavailable: no rail accepted and one could not be reached (operations are
                alerted when none could).
            ExternalServiceError: a rail failed with its outcome unknown; no later rail was
                tried, and the intent stays PENDING.
        """
        answers = self.movements.send(intent)
        declines = tuple(f"{rail.value} declined ({why})" for rail, why in answers.declined.items())
        if answers.accepted is not None:
            return answers.accepted, declines
        if answers.unreachable:
            error = answers.failure(
                f"debit of {intent.amount} cents on line {intent.account_id}",
                alerter=self.alerter,
                details=intent_details(intent),
            )
            self.movements.abandon(intent, str(error))
            raise error
        self.movements.abandon(intent, "; ".join(declines))
        return None, declines

    def book(
        self,
        intent: TransferIntent,
        transfer: Transfer,
        *,
        actor: str,
        lease: Lease | None = None,
    ) -> tuple[LocPayment, TransferIntent]:
        """Apply the payment a rail accepted, with the intent BOOKED in the same commit.

        Applying it again returns the first payment. The caller finishes the intent
        (`Movements.finish`), which publishes the commit's events. What the line no longer
        owes is booked as a refund due and alerted (WARNING). With the line's debit `lease`,
        the commit is fenced: a lease taken over meanwhile fails it (`LeaseLost`).
        A debit its rail took on a day before the business date (`Transfer.taken_before`:
        a debit whose answer was lost, booked days later by the recovery job, a later
        debit or an operator) counts from then: applied as of that day (after its overdue
        job when taken after the job's hour), PENDING until its rail settles it, the line
        corrected as of then (`CreditLine.book_backdated_payment`). When the line cannot
        be corrected as of then (`kit.CANNOT_DATE_BACK`), it is applied as of today with a
        CRITICAL alert.

        Raises:
            Exception: whatever stopped the payment being recorded; operations were alerted
                (CRITICAL), and a retry (or the recovery job) records it without taking
                the money again.
        """
        booked: list[TransferIntent] = []
        key = transfer.idempotency_key

        def change(line: CreditLine, today: dt.date) -> LocPayment:
            known = line.payments.get(key)
            if known is not None:
                return known
            taken_at = transfer.taken_before(today)
            if taken_at is None:
                return self._book_today(line, intent, transfer, today)
            return self._book_as_of(line, intent, transfer, taken_at=taken_at, today=today)

        def also(uow: UnitOfWork, line: CreditLine, payment: LocPayment) -> None:
            if lease is not None:
                uow.fence(lease)
            stored = uow.intents.get(intent.user_id, intent.intent_id)
            if stored.status is IntentStatus.BOOKED:
                booked[:] = [stored]
                return
            booked[:] = [
                self.movements.booked(
                    uow,
                    stored,
                    transfer,
                    outcome=payment.payment_id,
                    events=list(line.outbox.events),
                )
            ]

        with not_booked_alerted(
            f"{transfer.rail.value} payment {key} on line {intent.account_id}",
            alerter=self.alerter,
            details={
                **intent_details(intent),
                "rail": transfer.rail.value,
                "transfer_key": key,
            },
        ):
            payment, _ = self.lines.change(
                intent.user_id,
                intent.account_id,
                change,
                actor=actor,
                request_id=intent.request_key,
                also=also,
            )
        return payment, booked[0]

    def _book_today(
        self, line: CreditLine, intent: TransferIntent, transfer: Transfer, today: dt.date
    ) -> LocPayment:
        """The payment, applied `today`; a refund due it makes is alerted in its commit."""
        # Money moved: never refused for the balance. A borrower's own payment is
        # booked with the bound, so a payoff past it takes the cycle's one such room.
        borrowers = intent.kind is IntentKind.LINE_PAYMENT
        payment = line.book_moved_payment(
            payment_id=transfer.idempotency_key,
            amount=intent.amount,
            rail=transfer.rail,
            on=today,
            bound=self.lines.product if borrowers else None,
        )
        if payment.refund is not None:  # committed with the payment it refunds
            line.outbox.events.append(
                refund_due_alert(
                    payment.refund, user_id=line.user_id, owner=("line_id", line.line_id), on=today
                )
            )
        return payment

    def _book_as_of(
        self,
        line: CreditLine,
        intent: TransferIntent,
        transfer: Transfer,
        *,
        taken_at: dt.datetime,
        today: dt.date,
    ) -> LocPayment:
        """The payment, effective `taken_at` (the line corrected as of then), booked `today`.

        Every refund due the correction leaves is alerted in its commit, as a booking's is.
        A line that cannot be corrected as of then (`kit.CANNOT_DATE_BACK`: nothing
        changed) takes the payment as of today, with a CRITICAL alert in the same commit:
        the money moved, so it is never refused.
        """
        taken_on = taken_at.date()

        def as_of() -> LocPayment:
            before = line.refunds_due_by_payment()
            payment = line.book_backdated_payment(
                payment_id=transfer.idempotency_key,
                amount=intent.amount,
                rail=transfer.rail,
                effective_on=taken_on,
                reason=f"{transfer.rail.value} took it on {taken_on.isoformat()}; booked late",
                today=today,
                product=self.lines.product,
                posted=self.lines.uow.journal.entries_for(line.line_id),
                before_overdue_job=self.lines.before_overdue_job(today),
                settled=False,
                after_job=taken_at.time() >= OVERDUE_JOB_AT,
            )
            line.outbox.events.extend(
                refund_due_alerts(
                    line, before, user_id=line.user_id, named=("line_id", line.line_id), on=today
                )
            )
            return payment

        return booked_as_of_or_today(
            as_of,
            lambda: self._book_today(line, intent, transfer, today),
            payment_id=transfer.idempotency_key,
            taken_on=taken_on,
            user_id=line.user_id,
            owner=("line_id", line.line_id),
            on=today,
            events=line.outbox.events,
        )
