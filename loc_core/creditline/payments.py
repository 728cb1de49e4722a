"""Repayments: applied on submission, reversed exactly when the rail takes the money back.

A payment pays fees, then interest, then principal (`money.waterfall`). Balances change
when it is submitted (PENDING): DR CLEARING, CR each receivable it paid. COMPLETED marks
the payment only. RETURNED (ACH) or CHARGED_BACK (pinless) undoes exactly the buckets it
paid, once, whatever order the settlement events arrive in.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from loc_core.creditline._bookkeeping import (
    Process,
    accrue,
    book_allowance,
    emit,
    record,
    record_line,
    require_in_order,
    snapshot,
)
from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.balances import Balances
from loc_core.creditline.delinquency import cure, mark_past_due, past_due_amount
from loc_core.creditline.rails import REPAYMENT_RAILS
from loc_core.creditline.status import LineStatus
from loc_core.errors import (
    DuplicatePayment,
    Overpayment,
    PaymentAlreadyReversed,
    PaymentError,
    PaymentNotApplied,
)
from loc_core.events import EventType
from loc_core.ledger import CLEARING, Bucket, JournalEntry, receivable
from loc_core.money import format_cents, positive_cents, waterfall
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome

if TYPE_CHECKING:
    from loc_core.creditline.line import CreditLine

__all__ = ["LocPayment", "settle_payment", "submit_payment"]


@attrs.define(kw_only=True)
class LocPayment:
    """A borrower's payment on a line and exactly what it paid, bucket by bucket."""

    payment_id: str
    line_id: str
    user_id: str
    amount: int
    rail: Rail
    submitted_on: dt.date
    statement_date: dt.date | None
    """The statement whose minimum the payment counted toward (None: before the first)."""
    paid_fees: int
    paid_interest: int
    paid_principal: int
    minimum_covered: int
    """How much of the minimum then outstanding it paid: owed again if returned later."""
    status: PaymentStatus = PaymentStatus.PENDING
    settled_on: dt.date | None = None
    """When it completed, or was returned or charged back."""

    @property
    def applied(self) -> Balances:
        """The buckets the payment reduced."""
        return Balances(self.paid_principal, self.paid_interest, self.paid_fees)


def _apply_entry(payment: LocPayment) -> JournalEntry:
    line_id = payment.line_id
    return JournalEntry.build(
        entry_id=f"{payment.payment_id}:apply",
        kind="payment",
        effective_date=payment.submitted_on,
        reference=line_id,
        debits={CLEARING: payment.amount},
        credits={
            receivable(line_id, Bucket.FEE): payment.paid_fees,
            receivable(line_id, Bucket.INTEREST): payment.paid_interest,
            receivable(line_id, Bucket.PRINCIPAL): payment.paid_principal,
        },
        memo=f"payment {payment.payment_id} by {payment.rail.value}",
    )


def submit_payment(
    line: CreditLine, *, payment_id: str, amount: object, rail: Rail, on: dt.date
) -> LocPayment:
    """Apply a payment now (PENDING): fees, then interest, then principal.

    A payment that pays the past-due amount cures a SUSPENDED line. On a DEFAULTED line
    it is also a recovery that releases the allowance.

    Raises:
        InvalidAmount: zero, negative, float or non-integer cents.
        PaymentError: RTP, which cannot collect.
        DuplicatePayment: the payment id was already applied to this line.
        OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
        Overpayment: more than the line's total balance.
    """
    cents = positive_cents(amount, field="payment amount")
    if rail not in REPAYMENT_RAILS:
        raise PaymentError(
            f"{rail!r} cannot collect a repayment: use pinless debit or ACH",
            entity="payment",
            entity_id=payment_id,
            user_id=line.user_id,
        )
    if payment_id in line.payments:
        raise DuplicatePayment(
            f"payment {payment_id!r} was already applied to {line.line_id}",
            entity="payment",
            entity_id=payment_id,
            user_id=line.user_id,
        )
    require_in_order(line, on)
    if cents > line.total_balance:
        raise Overpayment(
            f"a payment of {format_cents(cents)} is above the {format_cents(line.total_balance)} "
            f"owed on line {line.line_id}",
            entity="line",
            entity_id=line.line_id,
            user_id=line.user_id,
        )
    (fees, interest, principal), _ = waterfall(
        cents, [line.fee_balance, line.interest_balance, line.principal_balance]
    )
    payment = LocPayment(
        payment_id=payment_id,
        line_id=line.line_id,
        user_id=line.user_id,
        amount=cents,
        rail=rail,
        submitted_on=on,
        statement_date=line.last_billing_cycle_date,
        paid_fees=fees,
        paid_interest=interest,
        paid_principal=principal,
        minimum_covered=min(cents, line.minimum_payment_outstanding),
    )
    entry = _apply_entry(payment)
    before = snapshot(line)
    accrue(line, on)
    line.fee_balance -= fees
    line.interest_balance -= interest
    line.principal_balance -= principal
    line.paid_since_statement += cents
    line.payments[payment_id] = payment
    line.outbox.entries.append(entry)
    book_allowance(line, -cents, entry_id=f"{payment_id}:recovery", on=on)
    line.cycle_activity.append(
        CycleActivity(
            kind=ActivityKind.PAYMENT,
            reference=payment_id,
            on=on,
            amount=cents,
            effect=payment.applied.negated(),
        )
    )
    record(
        line,
        entity="payment",
        entity_id=payment_id,
        before={},
        after=snapshot(payment),
        process=Process.PAYMENT,
        reason=f"submitted by {rail.value}",
    )
    record_line(
        line,
        before=before,
        process=Process.PAYMENT,
        reason=f"payment {payment_id} applied: fees, then interest, then principal",
    )
    if line.status is LineStatus.SUSPENDED and past_due_amount(line, on) == 0:
        cure(line, on, reason=f"payment {payment_id} paid the past-due amount")
    return payment


def settle_payment(
    line: CreditLine, *, payment_id: str, outcome: SettlementOutcome, on: dt.date
) -> LocPayment:
    """Record what the rail says happened to a payment.

    COMPLETED changes the payment's status only, and nothing once the payment is
    reversed or already completed. RETURNED or CHARGED_BACK reverses exactly the buckets
    the payment paid (``<payment id>:reverse``), reopens a line closed since, records
    LOC_PAYMENT_FAILED, and suspends the line at once if an amount is past due again.

    Raises:
        PaymentNotApplied: the line never applied that payment.
        PaymentAlreadyReversed: a second return or chargeback; nothing changes.
        OutOfOrder: a reversal dated before the line's latest activity or past an unbilled
            close.
    """
    payment = line.payments.get(payment_id)
    if payment is None:
        raise PaymentNotApplied(
            f"line {line.line_id} never applied payment {payment_id!r}",
            entity="payment",
            entity_id=payment_id,
            user_id=line.user_id,
        )
    if outcome is SettlementOutcome.COMPLETED:
        if payment.status is PaymentStatus.PENDING:
            before = snapshot(payment)
            payment.status, payment.settled_on = PaymentStatus.COMPLETED, on
            record(
                line,
                entity="payment",
                entity_id=payment_id,
                before=before,
                after=snapshot(payment),
                process=Process.SETTLEMENT,
                reason="the rail completed the payment",
            )
        return payment
    if payment.status.reversed:
        raise PaymentAlreadyReversed(
            f"payment {payment_id} was already {payment.status.value} on {payment.settled_on}",
            entity="payment",
            entity_id=payment_id,
            user_id=line.user_id,
        )
    require_in_order(line, on)
    _reverse(line, payment, PaymentStatus(outcome.value), on)
    return payment


def _reverse(line: CreditLine, payment: LocPayment, status: PaymentStatus, on: dt.date) -> None:
    pid = payment.payment_id
    entry = _apply_entry(payment).reversal(
        entry_id=f"{pid}:reverse", kind="unapply", effective_date=on
    )
    line_before, payment_before = snapshot(line), snapshot(payment)
    accrue(line, on)
    if line.status is LineStatus.CLOSED:
        line.status, line.closed_from = line.closed_from or LineStatus.ACTIVE, None
    line.fee_balance += payment.paid_fees
    line.interest_balance += payment.paid_interest
    line.principal_balance += payment.paid_principal
    if payment.statement_date == line.last_billing_cycle_date:
        line.paid_since_statement -= payment.amount
    else:
        line.next_minimum_payment_due = min(
            line.total_balance, line.next_minimum_payment_due + payment.minimum_covered
        )
    payment.status, payment.settled_on = status, on
    line.outbox.entries.append(entry)
    book_allowance(line, payment.amount, entry_id=f"{pid}:charge_off", on=on)
    line.cycle_activity.append(
        CycleActivity(
            kind=ActivityKind.REVERSAL,
            reference=pid,
            on=on,
            amount=payment.amount,
            effect=payment.applied,
        )
    )
    record(
        line,
        entity="payment",
        entity_id=pid,
        before=payment_before,
        after=snapshot(payment),
        process=Process.UNAPPLY,
        reason=f"the rail reported {status.value}",
    )
    record_line(
        line,
        before=line_before,
        process=Process.UNAPPLY,
        reason=f"payment {pid} {status.value}: exactly what it paid is owed again",
    )
    emit(
        line,
        EventType.LOC_PAYMENT_FAILED,
        subject_id=pid,
        on=on,
        data={"line_id": line.line_id, "amount": payment.amount, "outcome": status.value},
    )
    if line.status is LineStatus.ACTIVE and past_due_amount(line, on) > 0:
        mark_past_due(line, on, reason=f"payment {pid} {status.value}: an amount is past due")
