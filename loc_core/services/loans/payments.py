"""A borrower's manual payment: refused before any money moves, booked exactly once."""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.errors import DomainError, IdempotencyConflict, Ref
from loc_core.installment import Process
from loc_core.intents import IntentKind, IntentStatus, TransferIntent, request_fingerprint
from loc_core.payments import REPAYMENT_RAILS, Direction, Rail
from loc_core.ports import Clock, Lease, Lock
from loc_core.services.kit import leased, lock_key, moment
from loc_core.services.loans.booking import LoanTransfers
from loc_core.services.loans.receipts import PaymentReceipt, receipt
from loc_core.services.messagebus import Command
from loc_core.validation import Cents, Id, Key, validated

__all__ = [
    "PAYMENT_LEASE",
    "MakePayment",
    "make_payment",
    "manual_payment_id",
    "manual_payment_intent",
    "payment_lease_key",
]

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


def manual_payment_intent(command: MakePayment, *, amount: int, now: dt.datetime) -> TransferIntent:
    """The intent a manual payment commits before asking any rail."""
    return TransferIntent(
        intent_id=f"manual:{command.loan_id}:{command.idempotency_key}",
        user_id=command.user_id,
        kind=IntentKind.LOAN_PAYMENT,
        account_id=command.loan_id,
        direction=Direction.DEBIT,
        amount=amount,
        rails=REPAYMENT_RAILS,
        fingerprint=request_fingerprint(
            "make_payment", command.user_id, command.loan_id, command.amount
        ),
        request_key=command.idempotency_key,
        created_at=now,
        updated_at=now,
    )


def make_payment(
    command: MakePayment,
    *,
    transfers: LoanTransfers,
    lock: Lock,
    clock: Clock,
) -> PaymentReceipt:
    """Collect a manual payment (pinless debit first, then ACH), apply it, return a receipt.

    The amount is checked against the loan before any rail is asked: an overpayment, a
    CLOSED loan, a CANCELLED one (`LoanCancelled`: its disbursement came back) or a bad
    amount is refused with nothing collected. The payment holds the
    loan's payment lease, so autopay cannot collect at the same time. The payment's
    transfer intent is committed before any rail is asked: a repeat with the same
    idempotency key resumes it (after a crash, a second or a day later) and returns the
    receipt of the one payment, as the loan stands now; the same key for another amount
    is refused. A repeat whose earlier attempt moved no money is checked against the
    loan again first (`_require_still_payable`).

    Raises:
        NotFound: for an unknown loan (or another borrower's).
        InvalidAmount, Overpayment, InvalidTransition: refused before any money moved.
        PaymentLimitReached: the loan took the most manual payments its product allows
            (`max_manual_payments_per_loan`); no rail was asked (checked again, like
            `Overpayment`, for a repeat whose earlier attempt moved no money).
        DebitUnconfirmed: another debit on the loan (a payment or autopay whose rail
            failed with its outcome unknown) is not confirmed yet; nothing moved.
        RailDeclined: when every rail declined; nothing was booked.
        RailUnavailable: when no rail accepted and at least one could not be reached.
        ExternalServiceError: when a rail failed with its outcome unknown; no other
            rail was asked, and a retry uses the same transfer keys.
        LockNotAcquired: while another payment on the loan is being collected.
        IdempotencyConflict: when the key was used for another request.
    """
    with leased(
        lock,
        payment_lease_key(command.user_id, command.loan_id),
        owner=f"payment:{command.idempotency_key}",
        ttl=PAYMENT_LEASE,
    ) as lease:
        payment_id = _collect(command, transfers=transfers, clock=clock, lease=lease)
    _, today = moment(clock)
    with transfers.uow as uow:
        loan = uow.loans.get(command.user_id, command.loan_id)
    return receipt(loan, payment_id, as_of=today)


def _collect(command: MakePayment, *, transfers: LoanTransfers, clock: Clock, lease: Lease) -> str:
    now, today = moment(clock)
    wanted = manual_payment_intent(command, amount=command.amount, now=now)
    with transfers.uow as uow:
        loan = uow.loans.get(command.user_id, command.loan_id)
        resumed = uow.intents.find(wanted.intent_id) is not None
        if not resumed:
            for key in wanted.transfer_keys:
                known = loan.payments.get(key)
                if known is not None:  # booked before intents were kept
                    if known.amount != command.amount:
                        raise IdempotencyConflict(
                            f"idempotency key {command.idempotency_key!r} paid "
                            f"{known.amount} cents, not {command.amount}",
                            about=Ref("payment", key, command.user_id),
                            key=command.idempotency_key,
                        )
                    return key
    if not resumed:
        if transfers.movements.refuse_while_unconfirmed(wanted, lease=lease):
            with transfers.uow as uow:  # an earlier debit was booked: the loan changed
                loan = uow.loans.get(command.user_id, command.loan_id)
        loan.check_payment(command.amount, today=today)
        loan.check_payment_room(command.amount)
    intent = transfers.movements.open(wanted)
    if intent.status is IntentStatus.BOOKED:
        transfers.movements.finish(intent)  # a crash may have left its events unsent
        return intent.outcome
    if resumed:
        _require_still_payable(command, intent, transfers=transfers, today=today, lease=lease)
    transfer = transfers.move(
        intent, f"payment on loan {command.loan_id}", failed="loc.loans.payments.failed"
    )
    booked = transfers.book(
        intent,
        transfer,
        process=Process.MANUAL,
        what="manual payment",
        today=today,
        actor="api",
        lease=lease,
    )
    transfers.movements.finish(booked)
    transfers.metrics.increment(
        "loc.loans.payments.collected", tags=(f"rail:{transfer.rail.value}",)
    )
    return transfer.idempotency_key


def _require_still_payable(
    command: MakePayment,
    intent: TransferIntent,
    *,
    transfers: LoanTransfers,
    today: dt.date,
    lease: Lease,
) -> None:
    """Check a resumed payment again when no rail has taken its money yet.

    An earlier attempt that died before any rail took the money (or whose rails all
    declined) moved nothing, so its retry is a new collection and must fit the loan as it
    stands now: a loan paid off meanwhile, or paid down below the amount, refuses it
    (`InvalidTransition`, `Overpayment`) and the intent is ABANDONED, rather than taking
    money the borrower no longer owes and owing it back as a refund due. Money a rail
    already took under the intent's keys is booked whatever the loan owes now.

    Raises:
        InvalidTransition, LoanCancelled, Overpayment, DebitUnconfirmed,
            PaymentLimitReached: refused; nothing moved.
        ExternalServiceError: a rail could not tell what it did; retry later.
    """
    if transfers.movements.look_up(intent) is not None:
        return  # money moved: the booking wins over any later state
    try:
        transfers.movements.refuse_while_unconfirmed(intent, lease=lease)
        with transfers.uow as uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            loan.check_payment(command.amount, today=today)
            loan.check_payment_room(command.amount)
    except DomainError as refused:
        transfers.movements.abandon(intent, f"refused when resumed: {refused}")
        raise
