"""A line's credit balance applied to what the line comes to owe (Reg Z 1026.11(a)(1)(i)).

A refund due (`loc_core.refunds`) is the borrower's money the lender holds: the line's
credit balance. Regulation Z has the creditor credit it to the account, so when a line
holding one comes to owe something (a draw is sent, interest or a late fee is charged, a
returned payment makes its buckets owed again), the credit balance pays it at once, as a
payment would: fees, then interest, then principal, from the oldest refund first. Nothing
moves on a rail: one entry, ``<cause>:credit_applied`` (kind ``credit_applied``), posts
DR ``refund_due(<line>)``, CR the receivables it paid, and on a DEFAULTED line the
recovery with it. The part applied is no longer owed back (`RefundDue.applied`); a refund
applied whole is APPLIED, and an operator pays out only what is left
(`RefundDue.remaining`).

So a line never both owes and is owed: while any refund is due, its balance is 0, and
autopay never debits a borrower the lender owes money. Interest charged at a cycle's close
is paid inside that statement (`billing`), so the statement's new balance, minimum and
credit balance already count it; anything else is applied the day it is charged and
counts toward the minimum payment like a payment (`LineState.paid_since_statement`).

A correction replays the line, and with it every application: a refund the correction
cancels (its payment returned) takes back what it paid, and a charge the correction
removes (a draw returned) leaves its credit owed back again. A refund already paid out
keeps what it applied before the payout; a correction that would change that part is
refused (`require_paid_unchanged`).
"""

from __future__ import annotations

import datetime as dt

from loc_core.audit import ChangeRecorder
from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.creditline._bookkeeping import Process, book_activity, step
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind
from loc_core.creditline.balances import Balances
from loc_core.ledger import Bucket, JournalEntry, receivable, refund_due
from loc_core.money import waterfall

__all__ = ["apply_credit", "credit_for", "take_credit"]


def credit_for(line: LineState, owed: Balances) -> Balances:
    """What of `owed` the line's credit balance pays: fees, then interest, then principal.

    Negative buckets (the change to the balances); zero when the line holds no credit.
    """
    credit = line.refunds_due
    if credit <= 0 or owed.total <= 0:
        return Balances()
    (fees, interest, principal), _ = waterfall(
        min(credit, owed.total), [owed.fees, owed.interest, owed.principal]
    )
    return Balances(principal=-principal, interest=-interest, fees=-fees)


def take_credit(
    line: LineState, applied: Balances, *, cause: str, on: dt.date, changes: ChangeRecorder
) -> JournalEntry:
    """Pay `applied` (negative buckets) of the line's balances from its refunds due.

    Lowers the balances by it and what each refund has left (`RefundDue.apply`, oldest
    first), touching its payment on `changes` (the step's recorder), and returns the
    application's entry for the caller to post.
    """
    left = -applied.total
    holders = sorted(
        (
            payment
            for payment in line.payments.values()
            if payment.refund is not None and payment.refund.remaining
        ),
        key=lambda payment: (payment.sequence, payment.payment_id),
    )
    for payment in holders:
        refund = payment.refund
        if refund is None or not left:  # pragma: no cover - filtered above; stop when paid
            break
        take = min(left, refund.remaining)
        changes.touch(payment, reason=f"{take} cents of its refund applied to {cause}")
        refund.apply(take)
        left -= take
    line.fee_balance += applied.fees
    line.interest_balance += applied.interest
    line.principal_balance += applied.principal
    line_id = line.line_id
    return JournalEntry.build(
        entry_id=entry_id(cause, Movement.APPLY_CREDIT, product=Product.CREDITLINE),
        kind=EntryKind.CREDIT_APPLIED,
        effective_date=on,
        reference=line_id,
        debits={refund_due(line_id): -applied.total},
        credits={
            receivable(line_id, Bucket.FEE): -applied.fees,
            receivable(line_id, Bucket.INTEREST): -applied.interest,
            receivable(line_id, Bucket.PRINCIPAL): -applied.principal,
        },
        memo=f"credit balance applied to {cause}",
    )


def apply_credit(line: LineState, on: dt.date, *, cause: str) -> int:
    """Pay what the line owes from its credit balance, on `on`; the cents applied.

    Called after anything that raises what the line owes (`cause` names it: a draw's id,
    a late fee's entry id, a returned payment's id). Nothing happens, and nothing is
    recorded, when the line owes nothing or holds no credit.
    """
    applied = credit_for(line, line.balances)
    if not applied.total:
        return 0
    reason = f"credit balance applied to {cause}"
    with step(line, on, process=Process.PAYMENT, reason=reason) as changes:
        entry = take_credit(line, applied, cause=cause, on=on, changes=changes)
        line.paid_since_statement -= applied.total
        book_activity(
            line, ActivityKind.CREDIT_APPLIED, reference=cause, effect=applied, entry=entry, on=on
        )
    return -applied.total
