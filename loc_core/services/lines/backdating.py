"""An operator books a line payment received, or a draw sent, earlier: as of its effective date.

For money already received that the line never recorded (a rail that reported late, a
mailed payment keyed days later), entered by an operator with a reason. No rail is called
and no money moves: the line is corrected (`CreditLine.book_backdated_payment`). What it
books, all dated the business date: the payment's entry ``<payment id>:apply`` (DR
CLEARING, CR the buckets it paid as of its effective date), a refund due for any part the
line did not owe then, and one adjustment entry ``<payment id>:adjust`` for what the
corrected history changes (interest not owed, a late fee never due, delinquency undone).
The payment id is ``backdated:<line>:<key>``, so repeating the command books nothing
more and returns the first payment's receipt. No rail will ever settle it, so it is
COMPLETED when booked (settled its effective day): its refund due is payable at once.

A draw sent earlier (`BookBackdatedDraw`: money already sent outside the draw command, or
by a rail that reported late) is recorded DISBURSED as of its effective date in the same
way: its entry ``<draw id>:disburse`` and one adjustment ``<draw id>:adjust`` (the interest
since then, and whatever else the corrected history changes), dated the business date.
The draw id is ``backdated-draw:<line>:<key>``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import TypeVar

import attrs

from loc_core.creditline import CreditLine, Draw, LocPayment
from loc_core.errors import IdempotencyConflict
from loc_core.money import format_cents
from loc_core.payments import Rail
from loc_core.services.kit import refund_due_alerts
from loc_core.services.lines._unit import LineWriter
from loc_core.services.lines.receipts import (
    GetLinePaymentReceipt,
    LinePaymentReceipt,
    get_line_payment_receipt,
)
from loc_core.services.messagebus import Command
from loc_core.validation import Cents, Day, Id, Key, Text, validated

__all__ = [
    "BookBackdatedDraw",
    "BookBackdatedLinePayment",
    "book_backdated_draw",
    "book_backdated_line_payment",
]


@attrs.frozen(field_transformer=validated)
class BookBackdatedLinePayment(Command[LinePaymentReceipt]):
    """An operator records money received on `effective_on` that the line never applied."""

    user_id: Id
    line_id: Id
    amount: Cents
    effective_on: Day
    """The day the money was received: the payment counts from then."""
    reason: Text
    """Why it is backdated (audited with the payment)."""
    idempotency_key: Key
    """Chosen by the operator's tool, unique per line: the same key is the same payment."""
    rail: Rail = Rail.ACH
    """How the money came in."""

    @property
    def payment_id(self) -> str:
        """The payment's id on the line."""
        return f"backdated:{self.line_id}:{self.idempotency_key}"


def book_backdated_line_payment(
    command: BookBackdatedLinePayment, *, lines: LineWriter
) -> LinePaymentReceipt:
    """Apply the payment as of its effective date and post the difference today.

    Raises:
        NotFound: no such line.
        InvalidTransition: `effective_on` is before the line opened or after today.
        CorrectionTooOld: `effective_on` is beyond the product's correction reach.
        IdempotencyConflict: the key already booked another amount, effective day or rail
            on this line.
    """
    payment_id = command.payment_id

    def change(line: CreditLine, today: dt.date) -> LocPayment:
        before = line.refunds_due_by_payment()
        booked = _book_once(
            line.payments.get(payment_id),
            functools.partial(line.book_backdated_payment, payment_id=payment_id),
            command,
            today=today,
            lines=lines,
            line_id=line.line_id,
        )
        # Money nothing was owed for, as a booking's: alerted in the correction's commit.
        line.outbox.events.extend(
            refund_due_alerts(
                line, before, user_id=line.user_id, named=("line_id", line.line_id), on=today
            )
        )
        return booked

    lines.change(
        command.user_id,
        command.line_id,
        change,
        actor="operator",
        request_id=command.idempotency_key,
    )
    return get_line_payment_receipt(
        GetLinePaymentReceipt(command.user_id, command.line_id, payment_id), uow=lines.uow
    )


@attrs.frozen(field_transformer=validated)
class BookBackdatedDraw(Command[Draw]):
    """An operator records a draw sent on `effective_on` that the line never held."""

    user_id: Id
    line_id: Id
    amount: Cents
    effective_on: Day
    """The day the money was sent: the draw owes interest from then."""
    reason: Text
    """Why it is backdated (audited with the draw)."""
    idempotency_key: Key
    """Chosen by the operator's tool, unique per line: the same key is the same draw."""
    rail: Rail = Rail.ACH
    """How the money went out."""

    @property
    def draw_id(self) -> str:
        """The draw's id on the line."""
        return f"backdated-draw:{self.line_id}:{self.idempotency_key}"


def book_backdated_draw(command: BookBackdatedDraw, *, lines: LineWriter) -> Draw:
    """Record the draw as of its effective date and post the difference today.

    Raises:
        NotFound: no such line.
        InvalidTransition: `effective_on` is before the line opened or after today.
        CorrectionTooOld: `effective_on` is beyond the product's correction reach.
        IdempotencyConflict: the key already booked another amount, effective day or rail
            on this line.
    """
    draw_id = command.draw_id

    def change(line: CreditLine, today: dt.date) -> Draw:
        return _book_once(
            line.draws.get(draw_id),
            functools.partial(line.book_backdated_draw, draw_id=draw_id),
            command,
            today=today,
            lines=lines,
            line_id=line.line_id,
        )

    draw, _ = lines.change(
        command.user_id,
        command.line_id,
        change,
        actor="operator",
        request_id=command.idempotency_key,
    )
    return draw


Booked = TypeVar("Booked", LocPayment, Draw)


def _book_once(
    known: Booked | None,
    book: Callable[..., Booked],
    command: BookBackdatedLinePayment | BookBackdatedDraw,
    *,
    today: dt.date,
    lines: LineWriter,
    line_id: str,
) -> Booked:
    """What the command's key already booked, or `book` it now as of its effective date."""
    if known is not None:
        return _same_booking(known, command)
    return book(
        amount=command.amount,
        rail=command.rail,
        effective_on=command.effective_on,
        reason=command.reason,
        today=today,
        product=lines.product,
        posted=lines.uow.journal.entries_for(line_id),
        before_overdue_job=lines.before_overdue_job(today),
    )


def _same_booking(known: Booked, command: BookBackdatedLinePayment | BookBackdatedDraw) -> Booked:
    """What an operator's key already booked, when the repeat asks for the same money.

    Raises:
        IdempotencyConflict: the key booked another amount, effective day or rail.
    """
    day = known.submitted_on if isinstance(known, LocPayment) else known.settled_on
    if (known.amount, day, known.rail) != (command.amount, command.effective_on, command.rail):
        rail = "?" if known.rail is None else known.rail.value
        raise IdempotencyConflict(
            f"key {command.idempotency_key!r} booked {format_cents(known.amount)} effective "
            f"{day} by {rail}, not {format_cents(command.amount)} effective "
            f"{command.effective_on} by {command.rail.value}",
            about=known,
            key=command.idempotency_key,
        )
    return known
