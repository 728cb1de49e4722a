"""Taking a repayment from a borrower: pinless debit, then ACH, then record what was taken.

The rails are asked with `loc_core.services.rails.submit_in_order`: a declined debit, or
a rail that took nothing (`RailUnavailable`), falls back to the next rail; a rail failing
with its outcome unknown stops the attempt, because offering the same money to a second
rail could take it twice from a borrower; a retry with the same transfer keys is safe
instead. Money a rail took is always recorded: the payment id is the accepted transfer's
key, so a retry finds it, and a failure to record it is alerted to operations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs

from loc_core.creditline import (
    CreditLine,
    LocPayment,
)
from loc_core.payments import REPAYMENT_RAILS, Direction, Rail
from loc_core.ports import (
    Alerter,
    PaymentRails,
)
from loc_core.services.kit import alert_refund_due, not_booked_alerted
from loc_core.services.lines._unit import LineWriter
from loc_core.services.rails import submit_in_order

__all__ = ["Collected", "LineDebits"]


@attrs.frozen
class Collected:
    """A rail accepted the debit: the payment to record."""

    rail: Rail
    payment_id: str
    """The accepted transfer's idempotency key; its settlement events carry it."""
    amount: int


@attrs.frozen
class LineDebits:
    """Taking money from a line's borrower: ask the rails in order, then book what one took.

    Handlers declare it like a port (``debits: LineDebits``); the bus builds it once.
    """

    lines: LineWriter
    rails: PaymentRails
    alerter: Alerter

    def collect(
        self,
        *,
        user_id: str,
        line_id: str,
        amount: int,
        key_for: Callable[[Rail], str],
        order: tuple[Rail, ...] = REPAYMENT_RAILS,
    ) -> tuple[Collected | None, tuple[str, ...]]:
        """Offer the debit to each rail in `order`; the first acceptance wins.

        Returns:
            The acceptance (None when every rail declined) and each decline's reason.

        Raises:
            RailUnavailable: no rail accepted and one could not be reached (operations are
                alerted when none could).
            ExternalServiceError: a rail failed with its outcome unknown; no later rail was
                tried.
        """
        answers = submit_in_order(
            self.rails,
            order=order,
            key=key_for,
            direction=Direction.DEBIT,
            user_id=user_id,
            amount=amount,
            reference=line_id,
        )
        declines = tuple(f"{rail.value} declined ({why})" for rail, why in answers.declined.items())
        if answers.accepted is not None:
            accepted = answers.accepted
            return Collected(accepted.rail, accepted.idempotency_key, amount), declines
        if answers.unreachable:
            raise answers.failure(
                f"debit of {amount} cents on line {line_id}",
                alerter=self.alerter,
                details={"user_id": user_id, "line_id": line_id, "amount": amount},
            )
        return None, declines

    def book(
        self, collected: Collected, *, user_id: str, line_id: str, actor: str, request_id: str
    ) -> LocPayment:
        """Apply the payment a rail accepted; applying it again returns the first one.

        What the line no longer owes is booked as a refund due and alerted (WARNING).

        Raises:
            Exception: whatever stopped the payment being recorded; operations were alerted
                (CRITICAL), and a retry with the same keys records it without taking the
                money again.
        """
        fresh: list[LocPayment] = []

        def change(line: CreditLine, today: dt.date) -> LocPayment:
            fresh.clear()
            known = line.payments.get(collected.payment_id)
            if known is not None:
                return known
            fresh.append(  # money moved: never refused for the balance
                line.book_moved_payment(
                    payment_id=collected.payment_id,
                    amount=collected.amount,
                    rail=collected.rail,
                    on=today,
                )
            )
            return fresh[0]

        with not_booked_alerted(
            f"{collected.rail.value} payment {collected.payment_id} on line {line_id}",
            alerter=self.alerter,
            details={
                "user_id": user_id,
                "line_id": line_id,
                "amount": collected.amount,
                "rail": collected.rail.value,
                "idempotency_key": collected.payment_id,
            },
        ):
            payment, _ = self.lines.change(
                user_id, line_id, change, actor=actor, request_id=request_id
            )
        if fresh and payment.refund is not None:
            alert_refund_due(
                self.alerter, payment.refund, user_id=user_id, owner=("line_id", line_id)
            )
        return payment
