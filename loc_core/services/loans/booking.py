"""Moving a loan's money: ask the rails in order, then book what one accepted, never lost.

The rails are asked with `loc_core.services.rails.submit_in_order` (a decline or a rail
that took nothing moves on to the next rail; an unknown outcome stops at once). Once a
rail accepted a transfer the money has moved, so booking it must not be refused by a
concurrent writer: each try re-reads the loan and books on what is stored, and a failure
is a CRITICAL alert before it is raised. Payments on one loan are serialised by its
collections lease, so a re-read loan can only owe more (a late fee, a return), never
less, and the payment still fits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping

import attrs

from loc_core.events import AuditValue, DomainEvent
from loc_core.installment import Loan, Process
from loc_core.payments import REPAYMENT_RAILS, Direction, Rail
from loc_core.ports import Alerter, Metrics, PaymentRails, UnitOfWork
from loc_core.services.kit import alert_refund_due, not_booked_alerted, retry_on_conflict
from loc_core.services.messagebus import Publisher
from loc_core.services.rails import RailAnswers, Transfer, submit_in_order

__all__ = ["LoanDebit", "LoanTransfers"]


@attrs.frozen(kw_only=True)
class LoanDebit:
    """A debit of a borrower's money for a loan: offered to the rails, booked as a payment."""

    user_id: str
    loan_id: str
    amount: int
    process: Process
    """Which process takes the money (autopay or a manual payment)."""
    key: Callable[[Rail], str]
    """The transfer key on each rail, which is also the id of the payment it books."""
    details: Mapping[str, AuditValue]
    """Whose money it is, for the alerts about it."""


@attrs.frozen
class LoanTransfers:
    """What moving a loan's money shares: the rails in order, and booking what they took.

    Handlers declare it like a port (``transfers: LoanTransfers``); the bus builds it once
    from the registered adapters.
    """

    uow: UnitOfWork
    rails: PaymentRails
    alerter: Alerter
    metrics: Metrics
    publish: Publisher

    def collect(self, debit: LoanDebit) -> RailAnswers:
        """Offer `debit` to each repayment rail in order (pinless, then ACH) until one accepts.

        Raises:
            ExternalServiceError: a rail failed with its outcome unknown; no later rail
                was asked.
        """
        return submit_in_order(
            self.rails,
            order=REPAYMENT_RAILS,
            key=debit.key,
            direction=Direction.DEBIT,
            user_id=debit.user_id,
            amount=debit.amount,
            reference=debit.loan_id,
        )

    def accepted(
        self, answers: RailAnswers, what: str, *, details: Mapping[str, AuditValue], failed: str
    ) -> Transfer:
        """The transfer a rail accepted; when none did, count the `failed` metric and raise.

        Raises:
            RailDeclined: every rail declined.
            RailUnavailable: no rail accepted and one could not be reached (operations are
                alerted when none could).
        """
        if answers.accepted is None:
            self.metrics.increment(failed)
            raise answers.failure(what, alerter=self.alerter, details=details)
        return answers.accepted

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
        transfer: Transfer,
        debit: LoanDebit,
        *,
        what: str,
        today: dt.date,
        actor: str,
        request_id: str,
        before: Callable[[Loan], None] | None = None,
    ) -> list[DomainEvent]:
        """Apply the accepted `debit` to the loan as payment `transfer.idempotency_key`.

        What the loan no longer owes (paid off meanwhile) is booked as a refund due and
        alerted (WARNING), never refused.

        `before` runs on the freshly read loan first (the worker records its attempt there).
        The caller publishes the events returned; none when an earlier try had booked it.

        Raises:
            Exception: whatever stopped the payment being recorded; operations were alerted
                (CRITICAL), and a retry with the same keys books it without taking the
                money again.
        """
        uow = self.uow

        def attempt() -> list[DomainEvent]:
            with uow:
                loan = uow.loans.get(debit.user_id, debit.loan_id)
                if transfer.idempotency_key in loan.payments:
                    return []
                if before is not None:
                    before(loan)
                payment = loan.book_moved_payment(  # money moved: never refused for the balance
                    transfer.idempotency_key,
                    debit.amount,
                    process=debit.process,
                    rail=transfer.rail,
                    today=today,
                )
                uow.loans.save(loan)
                events = uow.commit(actor=actor, request_id=request_id)
            if payment.refund is not None:
                alert_refund_due(
                    self.alerter,
                    payment.refund,
                    user_id=loan.user_id,
                    owner=("loan_id", loan.loan_id),
                )
            return events

        with self.booking(transfer, what=what, details=debit.details):
            return retry_on_conflict(attempt)
