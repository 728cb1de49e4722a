"""A borrower's manual payment: refused before any money moves, booked exactly once."""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.installment import Process
from loc_core.payments import REPAYMENT_RAILS, Rail
from loc_core.ports import Clock, IdempotencyStore, Lock
from loc_core.services.kit import leased, lock_key, moment, run_once
from loc_core.services.loans.booking import LoanDebit, LoanTransfers
from loc_core.services.loans.receipts import PaymentReceipt, receipt
from loc_core.services.messagebus import Command
from loc_core.validation import Cents, Id, Key, validated

__all__ = ["PAYMENT_LEASE", "MakePayment", "make_payment", "manual_payment_id", "payment_lease_key"]

PAYMENT_LEASE = dt.timedelta(minutes=2)
"""How long a worker or a manual payment holds a loan's payment lease (policy).

Longer than a rail call and two commits take, shorter than the queue's visibility
timeout, so a crashed worker's lease has run out when its message is delivered again.
"""


def payment_lease_key(user_id: str, loan_id: str) -> str:
    """The lease every payment on a loan holds (autopay and manual alike).

    The seed's collections key, ``loc-collections:user_id:<u>:item_id:<loan>``: holding
    it, nobody else takes money for the loan, so a payment decided on a read of the loan
    still fits when it is booked.
    """
    return lock_key("collections", user_id=user_id, item_id=loan_id)


def manual_payment_id(loan_id: str, idempotency_key: str, rail: Rail) -> str:
    """The rail key of a manual payment, which is also the id of the payment it books."""
    return f"manual:{loan_id}:{idempotency_key}:{rail.value}"


@attrs.frozen(field_transformer=validated)
class MakePayment(Command[PaymentReceipt]):
    """A borrower pays `amount` cents on a loan now."""

    user_id: Id
    loan_id: Id
    amount: Cents
    idempotency_key: Key
    """Chosen by the client; the same key never pays twice."""


def make_payment(
    command: MakePayment,
    *,
    transfers: LoanTransfers,
    lock: Lock,
    idempotency: IdempotencyStore,
    clock: Clock,
) -> PaymentReceipt:
    """Collect a manual payment (pinless debit first, then ACH), apply it, return a receipt.

    The amount is checked against the loan before any rail is asked: an overpayment, a
    CLOSED loan or a bad amount is refused with nothing collected. The payment holds the
    loan's payment lease, so autopay cannot collect at the same time. A repeat with the
    same idempotency key (even after the idempotency record expired) collects nothing
    and returns the receipt of the first payment, as the loan stands now.

    Raises:
        NotFound: for an unknown loan.
        InvalidAmount, Overpayment, InvalidTransition: refused before any money moved.
        RailDeclined: when every rail declined; nothing was booked.
        RailUnavailable: when no rail accepted and at least one could not be reached.
        ExternalServiceError: when a rail failed with its outcome unknown; no other
            rail was asked, and a retry uses the same transfer keys.
        LockNotAcquired: while another payment on the loan is being collected.
        IdempotencyConflict: when the key was used for another request.
    """
    _, today = moment(clock)
    payment_id = run_once(
        f"make_payment:{command.user_id}:{command.idempotency_key}",
        command,
        store=idempotency,
        clock=clock,
        work=lambda: _collect(command, transfers=transfers, lock=lock, clock=clock),
    )
    with transfers.uow as uow:
        loan = uow.loans.get(command.user_id, command.loan_id)
    return receipt(loan, payment_id, as_of=today)


def _collect(command: MakePayment, *, transfers: LoanTransfers, lock: Lock, clock: Clock) -> str:
    with leased(
        lock,
        payment_lease_key(command.user_id, command.loan_id),
        owner=f"payment:{command.idempotency_key}",
        ttl=PAYMENT_LEASE,
    ):
        _, today = moment(clock)
        with transfers.uow as uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            for rail in REPAYMENT_RAILS:
                known = manual_payment_id(command.loan_id, command.idempotency_key, rail)
                if known in loan.payments:
                    return known
            loan.check_payment(command.amount, today=today)
        debit = LoanDebit(
            user_id=command.user_id,
            loan_id=command.loan_id,
            amount=command.amount,
            process=Process.MANUAL,
            key=lambda rail: manual_payment_id(command.loan_id, command.idempotency_key, rail),
            details={
                "user_id": command.user_id,
                "loan_id": command.loan_id,
                "amount": command.amount,
                "idempotency_key": command.idempotency_key,
            },
        )
        transfer = transfers.accepted(
            transfers.collect(debit),
            f"payment on loan {command.loan_id}",
            details=debit.details,
            failed="loc.loans.payments.failed",
        )
        events = transfers.book(
            transfer,
            debit,
            what="manual payment",
            today=today,
            actor="api",
            request_id=command.idempotency_key,
        )
    transfers.publish(events)
    transfers.metrics.increment(
        "loc.loans.payments.collected", tags=(f"rail:{transfer.rail.value}",)
    )
    return transfer.idempotency_key
