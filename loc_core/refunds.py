"""Money a rail took that nothing was owed for: a refund due to the borrower.

Once a rail has accepted a repayment the money has moved, so booking it is never refused
(`Loan.book_moved_payment`, `CreditLine.book_moved_payment`). What the loan or line still
owes is applied as usual; the excess (all of it on a paid-off loan or line) is kept as a
`RefundDue` on the payment, posted DR CLEARING, CR `refund_due(<loan or line>)`: a
liability, the borrower's credit balance. A return or chargeback of that payment cancels
the refund first (the entry reversed), since the money to give back never arrived.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from loc_core.audit import Fields
from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.ledger import CLEARING, JournalEntry, refund_due

__all__ = ["RefundDue", "RefundStatus", "refund_audit", "refund_entry"]


class RefundStatus(enum.Enum):
    """Where a refund due stands; the values are the stored strings."""

    DUE = "DUE"
    """The borrower is owed the amount back."""
    CANCELLED = "CANCELLED"
    """The payment was returned or charged back: the money never stayed, nothing is owed."""


@attrs.define(kw_only=True)
class RefundDue:
    """The part of a payment that paid nothing owed, owed back to the borrower."""

    payment_id: str
    amount: int
    """Positive cents: the payment's amount less what it applied."""
    recorded_on: dt.date
    status: RefundStatus = RefundStatus.DUE
    cancelled_on: dt.date | None = None
    """The day the payment's return or chargeback cancelled the refund."""

    @property
    def is_due(self) -> bool:
        """Whether the borrower is still owed the amount."""
        return self.status is RefundStatus.DUE

    def cancel(self, on: dt.date) -> None:
        """Mark the refund CANCELLED on `on` (its payment was returned or charged back)."""
        self.status, self.cancelled_on = RefundStatus.CANCELLED, on


def refund_entry(
    refund: RefundDue, *, owner: str, product: Product, cancel_on: dt.date | None = None
) -> JournalEntry:
    """DR CLEARING, CR the owner's refund-due liability; with `cancel_on`, its mirror."""
    cancelled = cancel_on is not None
    cash = {CLEARING: refund.amount}
    owed = {refund_due(owner): refund.amount}
    return JournalEntry.build(
        entry_id=entry_id(
            refund.payment_id,
            Movement.CANCEL_REFUND if cancelled else Movement.REFUND_DUE,
            product=product,
        ),
        kind=EntryKind.REFUND_CANCELLED if cancelled else EntryKind.REFUND_DUE,
        effective_date=cancel_on if cancel_on is not None else refund.recorded_on,
        reference=owner,
        debits=owed if cancelled else cash,
        credits=cash if cancelled else owed,
        memo=f"payment {refund.payment_id}: "
        + ("refund cancelled" if cancelled else "nothing owed, refund due"),
    )


def refund_audit(refund: RefundDue | None) -> Fields:
    """A payment's audited refund fields and their values (none without a refund)."""
    if refund is None:
        return (), ()
    return _REFUND_AUDITED, (refund.amount, refund.status, refund.cancelled_on)


_REFUND_AUDITED = ("refund_due", "refund_status", "refund_cancelled_on")
