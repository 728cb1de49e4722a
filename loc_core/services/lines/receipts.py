"""Payment receipts: what a line payment paid and what the borrower owed right after it.

Like the seed's ``receipts/`` for loans. The balances after the payment are proven from
the journal (the line's receivables as of the payment's ``<payment id>:apply`` entry), not
read from a field, so a receipt can be produced for any payment at any later time.

A backdated payment (an operator's, `BookBackdatedLinePayment`) is booked with the
correction it makes: its ``<payment id>:adjust`` entry, posted in the same commit right
after it, takes away the interest and fees the payment's effective date means were never
owed. Its receipt counts that entry too, so it shows what the line owed once the payment
was booked, not today's balances less the payment with the undone charges still in.

A payment that took more than the line owed keeps the rest as its refund due, and its
receipt shows it (`LinePaymentReceipt.refund`): what it paid and its refund add up to
its amount. The refund's part applied to what the line came to owe later (a draw, the
cycle's interest), sent back, or still owed back is shown as it stands when the receipt
is made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from loc_core.creditline import Balances, LocPayment
from loc_core.errors import InvariantViolation, Ref
from loc_core.ledger import Bucket, JournalEntry, Side, receivable
from loc_core.payments import PaymentStatus, Rail
from loc_core.ports import UnitOfWork
from loc_core.refunds import ReceiptRefund
from loc_core.services.kit import payment_not_found
from loc_core.services.messagebus import Command
from loc_core.validation import Id, TransferKey, validated

__all__ = ["GetLinePaymentReceipt", "LinePaymentReceipt", "get_line_payment_receipt", "receipt_for"]

_LINE_BUCKETS = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.FEE)
# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_DEBIT = Side.DEBIT


@attrs.frozen(kw_only=True)
class LinePaymentReceipt:
    """One line payment as the borrower sees it."""

    payment_id: str
    line_id: str
    user_id: str
    amount: int
    rail: Rail
    submitted_on: dt.date
    status: PaymentStatus
    """PENDING until the rail settles it; RETURNED or CHARGED_BACK once reversed."""
    settled_on: dt.date | None
    paid: Balances
    """What it paid, bucket by bucket: fees, then interest, then principal. With
    `refund`'s amount it adds up to `amount`; a RETURNED or CHARGED_BACK payment keeps
    what it paid (owed again since) and its refund (CANCELLED)."""
    balances_after: Balances
    """What the line owed right after the payment was applied."""
    refund: ReceiptRefund | None = None
    """What became of the part of `amount` the line did not owe (None: it owed it all):
    applied to later charges, sent back, or still owed back."""


@attrs.frozen(field_transformer=validated)
class GetLinePaymentReceipt(Command["LinePaymentReceipt"]):
    """A borrower asks for the receipt of one payment on their line."""

    user_id: Id
    line_id: Id
    payment_id: TransferKey
    """The payment's id: the key of the transfer that paid it, as the library built it."""


def _balances_after(entries: Iterable[JournalEntry], payment: LocPayment) -> Balances:
    # one walk of each entry's postings, the buckets by position (principal, interest, fee)
    slots = {receivable(payment.line_id, bucket): i for i, bucket in enumerate(_LINE_BUCKETS)}
    owed = [0, 0, 0]
    prefix = f"{payment.payment_id}:"
    # Its booking: the first of its own entries. A payment that paid nothing owed (all of
    # it a refund due) posted only its refund. A later correction (a draw returned or
    # backdated before it) may change what it applies and post its other entry then:
    # the booking stays the first, never what that correction posted.
    own = (f"{prefix}apply", f"{prefix}refund_due")
    adjusted = f"{prefix}adjust"  # a backdated payment's correction, booked with it
    booked = False
    for entry in entries:
        moves = [
            (
                slots[posting.account],
                posting.amount if posting.side is _DEBIT else -posting.amount,
            )
            for posting in entry.postings
            if posting.account in slots
        ]
        if booked and entry.entry_id != adjusted and moves:
            break  # what came after the payment's booking
        for slot, amount in moves:
            owed[slot] += amount
        if entry.entry_id == adjusted and booked:
            break
        booked = booked or entry.entry_id in own
    if booked:
        return Balances(*owed)
    raise InvariantViolation(
        f"payment {payment.payment_id} has no journal entry {' or '.join(own)}",
        about=Ref("payment", payment.payment_id, payment.user_id),
        invariant="payment_journaled",
    )


def receipt_for(payment: LocPayment, entries: Iterable[JournalEntry]) -> LinePaymentReceipt:
    """The receipt of `payment`, given its line's journal entries in posting order."""
    return LinePaymentReceipt(
        payment_id=payment.payment_id,
        line_id=payment.line_id,
        user_id=payment.user_id,
        amount=payment.amount,
        rail=payment.rail,
        submitted_on=payment.submitted_on,
        status=payment.status,
        settled_on=payment.settled_on,
        paid=payment.applied,
        balances_after=_balances_after(entries, payment),
        refund=None if payment.refund is None else ReceiptRefund.of(payment.refund),
    )


def get_line_payment_receipt(
    query: GetLinePaymentReceipt, *, uow: UnitOfWork
) -> LinePaymentReceipt:
    """The receipt of a payment on the borrower's line.

    Raises:
        NotFound: no such line for the user, or no such payment on it.
    """
    with uow:
        line = uow.lines.get(query.user_id, query.line_id)
        payment = line.payments.get(query.payment_id)
        if payment is None:
            raise payment_not_found(
                query.payment_id, f"line {query.line_id}", user_id=query.user_id
            )
        return receipt_for(payment, uow.journal.entries_for(query.line_id))
