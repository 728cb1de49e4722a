"""An operator's backdated payment: money already received, applied as of its own date.

A mailed check keyed days late, or a rail's payment the books never heard of: the money
is in, so no rail is asked. The payment is booked today as a MANUAL payment with the id
``backdated:<loan>:<idempotency key>`` (``<payment>:apply`` dated today, and a refund
due for what nothing was owed), its `submitted_on` is the effective date, and the loan is
corrected as of that day (`Loan.correct`): a late fee or a default the payment would have
prevented is reversed, the difference posted as ``<payment>:adjust`` dated today.
The borrower is told (``payment_succeeded``, with what the loan owes after the
correction): no rail will ever settle this payment, so it is COMPLETED when booked
(settled its effective day): it holds no autopay back, and its refund due is payable at
once (`RecordRefundPaid`).
"""

from __future__ import annotations

import attrs

from loc_core.errors import IdempotencyConflict, Ref
from loc_core.events import DomainEvent
from loc_core.installment import DAILY_JOB_AT
from loc_core.payments import Rail
from loc_core.ports import Clock, Lock, UnitOfWork
from loc_core.services.kit import (
    before_job_hour,
    leased,
    moment,
    refund_due_alert,
    refunds_raised,
    retry_on_conflict,
)
from loc_core.services.loans.notices import announce_received
from loc_core.services.loans.payments import PAYMENT_LEASE, payment_lease_key
from loc_core.services.loans.receipts import PaymentReceipt, receipt
from loc_core.services.messagebus import Command, Publisher
from loc_core.validation import Cents, Day, Id, Key, Text, validated

__all__ = ["BookBackdatedLoanPayment", "backdated_payment_id", "book_backdated_payment"]


def backdated_payment_id(loan_id: str, idempotency_key: str) -> str:
    """The id of the payment an operator's backdated entry books."""
    return f"backdated:{loan_id}:{idempotency_key}"


@attrs.frozen(field_transformer=validated)
class BookBackdatedLoanPayment(Command[PaymentReceipt]):
    """An operator books `amount` cents received for a loan on `effective_on`."""

    user_id: Id
    loan_id: Id
    amount: Cents
    effective_on: Day
    """The day the money counts from (within the product's correction reach)."""
    reason: Text
    """Why it is backdated, as the audit trail should say it."""
    idempotency_key: Key
    """Chosen by the operator's tool; the same key never books twice."""
    rail: Rail = Rail.ACH
    """How the money came (a later return or chargeback of it is settled as usual)."""


def book_backdated_payment(
    command: BookBackdatedLoanPayment,
    *,
    uow: UnitOfWork,
    lock: Lock,
    clock: Clock,
    publish: Publisher,
) -> PaymentReceipt:
    """Book the received payment as of `effective_on` and correct the loan; its receipt.

    Holds the loan's payment lease, so autopay cannot collect meanwhile. A repeat with the
    same idempotency key books nothing and returns the receipt of the one payment; the
    same key for another amount, day or rail is refused. A refund due the correction
    leaves (money nothing was owed for, on this payment or another it moved to) is
    alerted to operations (WARNING) in the correction's commit, as a booking's is.

    Raises:
        NotFound: for an unknown loan (or another borrower's).
        CorrectionTooOld: for an `effective_on` beyond the product's correction reach.
        InvalidTimestamp: for an `effective_on` after today or before disbursement.
        IdempotencyConflict: when the key booked another amount, day or rail.
        LockNotAcquired: while a payment on the loan is being collected.
    """
    _, today = moment(clock)
    payment_id = backdated_payment_id(command.loan_id, command.idempotency_key)

    def attempt() -> list[DomainEvent]:
        with uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            known = loan.payments.get(payment_id)
            if known is not None:
                booked = (known.amount, known.submitted_on, known.rail)
                asked = (command.amount, command.effective_on, command.rail)
                if booked != asked:
                    raise IdempotencyConflict(
                        f"idempotency key {command.idempotency_key!r} booked {known.amount} "
                        f"cents received {known.submitted_on} by {known.rail.value}, not "
                        f"{command.amount} cents received {command.effective_on} by "
                        f"{command.rail.value}",
                        about=Ref("payment", payment_id, command.user_id),
                        key=command.idempotency_key,
                    )
                return []
            before = loan.refunds_due_by_payment()
            loan.book_backdated_payment(
                payment_id,
                command.amount,
                rail=command.rail,
                effective_on=command.effective_on,
                today=today,
                posted=uow.journal.entries_for(command.loan_id),
                reason=command.reason,
                before_daily_job=before_job_hour(clock, today, DAILY_JOB_AT),
            )
            announce_received(loan, payment_id, today)
            for refund in refunds_raised(loan, before):  # as a booking does: to refund
                loan.outbox.events.append(
                    refund_due_alert(
                        refund, user_id=loan.user_id, owner=("loan_id", loan.loan_id), on=today
                    )
                )
            uow.loans.save(loan)
            return uow.commit(actor="operator", request_id=command.idempotency_key)

    with leased(
        lock,
        payment_lease_key(command.user_id, command.loan_id),
        owner=f"backdated:{command.idempotency_key}",
        ttl=PAYMENT_LEASE,
    ):
        events = retry_on_conflict(attempt)
    publish(events)
    with uow:
        loan = uow.loans.get(command.user_id, command.loan_id)
    return receipt(loan, payment_id, as_of=today)
