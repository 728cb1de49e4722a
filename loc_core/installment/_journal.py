"""The journal entries of a loan's payments: applied, and undone when the rail takes it back.

Late fees and charge-offs use the builders both products share (`loc_core.bookkeeping`).
"""

from __future__ import annotations

import datetime as dt

from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.installment.payment import Payment
from loc_core.ledger import CLEARING, CREDIT_LOSS, JournalEntry, allowance, receivable

__all__ = ["payment_entry", "unapply_entry"]


def payment_entry(payment: Payment, *, defaulted: bool, today: dt.date) -> JournalEntry:
    """DR clearing, CR each receivable bucket; a recovery also releases the allowance."""
    loan_id = payment.loan_id
    paid = {receivable(loan_id, b): part for b, part in payment.bucket_totals().items()}
    cash = {CLEARING: payment.amount}
    if defaulted:
        cash[allowance(loan_id)] = payment.amount
        paid[CREDIT_LOSS] = payment.amount
    return JournalEntry.build(
        entry_id=entry_id(payment.payment_id, Movement.APPLY, product=Product.INSTALLMENT),
        kind=EntryKind.PAYMENT,
        effective_date=today,
        reference=loan_id,
        debits=cash,
        credits=paid,
        memo=f"{payment.process.value} via {payment.rail.value}",
    )


def unapply_entry(payment: Payment, *, defaulted: bool, today: dt.date) -> JournalEntry:
    """The payment entry's mirror; on a defaulted loan the allowance is reserved again."""
    loan_id = payment.loan_id
    owed = {receivable(loan_id, b): part for b, part in payment.bucket_totals().items()}
    cash = {CLEARING: payment.amount}
    if defaulted:
        owed[CREDIT_LOSS] = payment.amount
        cash[allowance(loan_id)] = payment.amount
    return JournalEntry.build(
        entry_id=entry_id(payment.payment_id, Movement.REVERSE, product=Product.INSTALLMENT),
        kind=EntryKind.UNAPPLY,
        effective_date=today,
        reference=loan_id,
        debits=owed,
        credits=cash,
        memo=f"{payment.status.value}: reverses {payment.payment_id}:apply",
    )
