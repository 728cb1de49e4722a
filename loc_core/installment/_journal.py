"""The journal entries of a loan's payments: applied, and undone when the rail takes it back.

Late fees and charge-offs use the builders both products share (`loc_core.bookkeeping`).
"""

from __future__ import annotations

import datetime as dt

from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.installment.payment import Payment
from loc_core.ledger import CLEARING, CREDIT_LOSS, JournalEntry, allowance, receivable

__all__ = ["payment_entry"]


def payment_entry(
    payment: Payment, *, defaulted: bool, today: dt.date, unapply: bool = False
) -> JournalEntry:
    """DR clearing, CR each receivable bucket; a recovery also releases the allowance.

    Only the applied part: a refund due the payment carries has an entry of its own.

    With `unapply` the payment's mirror (returned or charged back): what it paid is owed
    again, and on a defaulted loan the allowance is reserved again.
    """
    loan_id = payment.loan_id
    paid = {receivable(loan_id, b): part for b, part in payment.bucket_totals().items()}
    applied = payment.applied_amount
    cash = {CLEARING: applied}
    if defaulted:
        cash[allowance(loan_id)] = applied
        paid[CREDIT_LOSS] = applied
    if unapply:
        movement, kind = Movement.REVERSE, EntryKind.UNAPPLY
        to_debit, to_credit = paid, cash
        memo = f"{payment.status.value}: reverses {payment.payment_id}:apply"
    else:
        movement, kind = Movement.APPLY, EntryKind.PAYMENT
        to_debit, to_credit = cash, paid
        memo = f"{payment.process.value} via {payment.rail.value}"
    return JournalEntry.build(
        entry_id=entry_id(payment.payment_id, movement, product=Product.INSTALLMENT),
        kind=kind,
        effective_date=today,
        reference=loan_id,
        debits=to_debit,
        credits=to_credit,
        memo=memo,
    )
