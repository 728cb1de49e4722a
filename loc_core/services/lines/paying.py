"""A borrower pays their line: pinless debit, then ACH, applied on submission.

Replaces the seed's manual-payment endpoint for lines. The amount is checked against the
balance before any rail is called (`Overpayment`), under the line's debit lease
``loc-due:user_id:<u>:item_id:<line>`` that the due job also holds, so a manual payment
and the due job never take money from the same line at once.

The payment id is the accepted transfer's key, ``pay:<line>:<key>:<rail>``, so the rail's
settlement events find it (`CreditLineRepository.find_payment`) and a retry of the
command finds the payment it made. Balances change on submission: fees, then interest,
then principal. Repeating the command returns the receipt of the payment made first.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLine
from loc_core.errors import (
    DebitUnconfirmed,
    IdempotencyConflict,
    MovementLimitReached,
    Overpayment,
    RailDeclined,
    Ref,
)
from loc_core.intents import IntentKind, IntentStatus, TransferIntent, request_fingerprint
from loc_core.money import format_cents, positive_cents
from loc_core.payments import REPAYMENT_RAILS, Rail
from loc_core.ports import (
    IdGenerator,
    Lease,
    Lock,
)
from loc_core.services.kit import leased, lock_key
from loc_core.services.lines._unit import LEASE_TTL
from loc_core.services.lines.booking import LineDebits
from loc_core.services.lines.receipts import (
    GetLinePaymentReceipt,
    LinePaymentReceipt,
    get_line_payment_receipt,
)
from loc_core.services.messagebus import Command
from loc_core.validation import Cents, Id, Key, validated

__all__ = ["DEBIT_LOCK_PROCESS", "PayLine", "pay_line"]

DEBIT_LOCK_PROCESS = "due"
"""Every debit of a line's borrower holds ``lock_key("due", user_id=..., item_id=line)``."""


@attrs.frozen(field_transformer=validated)
class PayLine(Command[LinePaymentReceipt]):
    """A borrower pays an amount toward their line."""

    user_id: Id
    line_id: Id
    amount: Cents
    idempotency_key: Key
    """Chosen by the client, unique per line: the same key always means this same payment."""

    def payment_id(self, rail: Rail) -> str:
        """The payment's id (and its transfer's key) when `rail` takes it."""
        return f"pay:{self.line_id}:{self.idempotency_key}:{rail.value}"


def pay_line(
    command: PayLine, *, debits: LineDebits, lock: Lock, ids: IdGenerator
) -> LinePaymentReceipt:
    """Take a payment by pinless debit, falling back to ACH, and apply it at once.

    Returns:
        The payment's receipt (PENDING until the rail settles it).

    Raises:
        NotFound: no such line.
        InvalidAmount: not positive integer cents.
        Overpayment: more than the line's total balance; no rail was called (also for a
            repeat whose earlier attempt moved no money, checked again).
        MovementLimitReached: the cycle already holds the product's
            `max_movements_per_cycle` draws and payments and the amount is not
            everything the line owes (a payoff, taken once a cycle past the bound); no
            rail was called (checked again, like `Overpayment`, for a repeat whose
            earlier attempt moved no money).
        RailDeclined: every rail declined; nothing was taken. Use a new key to try again.
        ExternalServiceError: a rail could not be reached; retrying with the same key is
            safe.
        LockNotAcquired: the due job is collecting from this line right now.
        IdempotencyConflict: the key already paid another amount on this line.
    """
    with leased(
        lock,
        lock_key(DEBIT_LOCK_PROCESS, user_id=command.user_id, item_id=command.line_id),
        owner=ids.new_id(),
        ttl=LEASE_TTL,
    ) as lease:
        payment_id = _pay(command, debits, lease)
    return get_line_payment_receipt(
        GetLinePaymentReceipt(command.user_id, command.line_id, payment_id), uow=debits.lines.uow
    )


def _pay(command: PayLine, debits: LineDebits, lease: Lease) -> str:
    intent_id = f"pay:{command.line_id}:{command.idempotency_key}"

    def check(line: CreditLine, _today: dt.date) -> str | None:
        for rail in REPAYMENT_RAILS:
            known = line.payments.get(command.payment_id(rail))
            if known is not None:
                if known.amount != command.amount:
                    raise IdempotencyConflict(
                        f"payment key {command.idempotency_key!r} was used for "
                        f"{format_cents(known.amount)}, not {format_cents(command.amount)}",
                        about=Ref("payment", known.payment_id, command.user_id),
                        key=command.idempotency_key,
                    )
                return known.payment_id
        return None

    known, _ = debits.lines.change(
        command.user_id, command.line_id, check, actor="api", request_id=command.idempotency_key
    )
    if known is not None:
        return known
    wanted = debits.debit_intent(
        intent_id=intent_id,
        kind=IntentKind.LINE_PAYMENT,
        user_id=command.user_id,
        line_id=command.line_id,
        amount=command.amount,
        order=REPAYMENT_RAILS,
        fingerprint=request_fingerprint(
            "pay_line", command.user_id, command.line_id, command.amount
        ),
        request_key=command.idempotency_key,
    )
    with debits.lines.uow as uow:
        line = uow.lines.get(command.user_id, command.line_id)
        resumed = uow.intents.find(intent_id) is not None
    if not resumed:
        _refuse_new_payment(command, wanted, line, debits, lease)
    intent = debits.movements.open(wanted)
    if intent.status is IntentStatus.BOOKED:
        debits.movements.finish(intent)
        return intent.outcome
    if resumed and debits.movements.look_up(intent) is None:
        _refuse_resumed_overpayment(command, intent, debits, lease)
    collected, declines = debits.collect(intent)
    if collected is None:
        raise RailDeclined(
            f"every rail declined the payment of {format_cents(command.amount)} on line "
            f"{command.line_id}: " + "; ".join(declines),
            about=Ref("line", command.line_id, command.user_id),
        )
    payment, booked = debits.book(intent, collected, actor="api", lease=lease)
    debits.movements.finish(booked)
    return payment.payment_id


def _refuse_new_payment(
    command: PayLine, wanted: TransferIntent, line: CreditLine, debits: LineDebits, lease: Lease
) -> None:
    """Check a new payment: other debits on the line first, then what the line owes.

    Another debit a rail took and nobody booked is booked now, and the line read again.

    Raises:
        DebitUnconfirmed: another debit on the line is unconfirmed; nothing moved.
        Overpayment: more than the line owes; nothing moved.
        MovementLimitReached: the cycle holds the most draws and payments; nothing moved.
    """
    if debits.movements.refuse_while_unconfirmed(wanted, lease=lease):
        with debits.lines.uow as uow:  # an earlier debit was booked: the line changed
            line = uow.lines.get(command.user_id, command.line_id)
    _refuse_overpayment(line, command.amount, debits)


def _refuse_overpayment(line: CreditLine, amount: int, debits: LineDebits) -> None:
    cents = positive_cents(amount, field="payment amount")
    # Past the cycle's bound, a payoff (everything the line owes) is still taken, once.
    line.check_movement_room(on=debits.lines.today, product=debits.lines.product, payment=cents)
    if cents > line.total_balance:
        raise Overpayment(
            f"a payment of {format_cents(cents)} is above the "
            f"{format_cents(line.total_balance)} owed on line {line.line_id}",
            about=line,
        )


def _refuse_resumed_overpayment(
    command: PayLine, intent: TransferIntent, debits: LineDebits, lease: Lease
) -> None:
    """Check again a resumed payment whose money no rail has taken yet.

    The earlier attempt died before a rail took the money (or every rail declined), so
    the retry is a new collection and must fit the line as it stands now: a line paid
    down or off meanwhile refuses it (`Overpayment`) and the intent is ABANDONED, rather
    than taking money the borrower no longer owes and owing it back as a refund due; so
    does another debit on the line whose outcome is not known yet (`DebitUnconfirmed`).

    Raises:
        Overpayment: more than the line owes now; nothing moved.
        DebitUnconfirmed: another debit on the line is unconfirmed; nothing moved.
        MovementLimitReached: the cycle holds the most draws and payments; nothing moved.
    """
    try:
        debits.movements.refuse_while_unconfirmed(intent, lease=lease)
        with debits.lines.uow as uow:
            line = uow.lines.get(command.user_id, command.line_id)
            _refuse_overpayment(line, command.amount, debits)
    except (Overpayment, DebitUnconfirmed, MovementLimitReached) as refused:
        debits.movements.abandon(intent, f"refused when resumed: {refused}")
        raise
