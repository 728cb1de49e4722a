"""Repayments: applied on submission, reversed exactly when the rail takes the money back.

A payment pays fees, then interest, then principal (`money.waterfall`). Balances change
when it is submitted (PENDING): DR CLEARING, CR each receivable it paid. COMPLETED marks
the payment only. RETURNED (ACH) or CHARGED_BACK (pinless) undoes exactly the buckets it
paid, once, whatever order the settlement events arrive in.

Money a rail already took is booked even when the line owes less
(`book_moved_payment`): the excess is a refund due (`loc_core.refunds`), cancelled first
if the payment is returned or charged back.
"""

from __future__ import annotations

import datetime as dt

from loc_core import bookkeeping
from loc_core.audit import ChangeRecorder
from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.creditline._bookkeeping import Process, book_activity, emit, require_in_order, step
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind
from loc_core.creditline.capacity import payoff_past_bound
from loc_core.creditline.closing import close_when_paid_off
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.credit import apply_credit
from loc_core.creditline.delinquency import (
    announce_past_due,
    cure,
    owed_now,
    past_due_amount,
    suspend,
)
from loc_core.creditline.payment import LocPayment
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import (
    DuplicatePayment,
    InvalidTransition,
    Overpayment,
    PaymentAlreadyReversed,
    PaymentError,
    PaymentNotApplied,
    Ref,
)
from loc_core.events import EventType
from loc_core.ledger import CLEARING, Bucket, JournalEntry, receivable
from loc_core.money import format_cents, positive_cents, waterfall
from loc_core.payments import REPAYMENT_RAILS, PaymentStatus, Rail, SettlementOutcome
from loc_core.refunds import (
    Payout,
    RefundDue,
    record_paid,
    refund_entry,
    require_paid_unchanged,
)

__all__: list[str] = []


def _apply_entry(payment: LocPayment) -> JournalEntry:
    line_id = payment.line_id
    return JournalEntry.build(
        entry_id=entry_id(payment.payment_id, Movement.APPLY, product=Product.CREDITLINE),
        kind=EntryKind.PAYMENT,
        effective_date=payment.submitted_on,
        reference=line_id,
        debits={CLEARING: payment.applied_amount},
        credits={
            receivable(line_id, Bucket.FEE): payment.paid_fees,
            receivable(line_id, Bucket.INTEREST): payment.paid_interest,
            receivable(line_id, Bucket.PRINCIPAL): payment.paid_principal,
        },
        memo=f"payment {payment.payment_id} by {payment.rail.value}",
    )


def submit_payment(
    line: LineState, *, payment_id: str, amount: object, rail: Rail, on: dt.date
) -> LocPayment:
    """The rule of `CreditLine.submit_payment` (documented there)."""
    return _book(line, payment_id=payment_id, amount=amount, rail=rail, on=on, moved=False)


def book_moved_payment(
    line: LineState,
    *,
    payment_id: str,
    amount: object,
    rail: Rail,
    on: dt.date,
    bound: CreditLineProduct | None = None,
) -> LocPayment:
    """The rule of `CreditLine.book_moved_payment` (documented there)."""
    return _book(
        line, payment_id=payment_id, amount=amount, rail=rail, on=on, moved=True, bound=bound
    )


def _book(
    line: LineState,
    *,
    payment_id: str,
    amount: object,
    rail: Rail,
    on: dt.date,
    moved: bool,
    bound: CreditLineProduct | None = None,
) -> LocPayment:
    cents = positive_cents(amount, field="payment amount")
    if rail not in REPAYMENT_RAILS:
        raise PaymentError(
            f"{rail!r} cannot collect a repayment: use pinless debit or ACH",
            about=Ref("payment", payment_id, line.user_id),
        )
    if payment_id in line.payments:
        raise DuplicatePayment(
            f"payment {payment_id!r} was already applied to {line.line_id}",
            about=Ref("payment", payment_id, line.user_id),
        )
    require_in_order(line, on)
    if not moved and cents > line.total_balance:
        raise Overpayment(
            f"a payment of {format_cents(cents)} is above the {format_cents(line.total_balance)} "
            f"owed on line {line.line_id}",
            about=line,
        )
    (fees, interest, principal), excess = waterfall(
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
        minimum_covered=min(cents - excess, line.minimum_payment_outstanding),
        refund=RefundDue(payment_id=payment_id, amount=excess, recorded_on=on) if excess else None,
        sequence=line.money_events,
        after_overdue_job=line.overdue_job_changed_on == on,
        payoff_past_bound=bound is not None
        and payoff_past_bound(line, cents, on=on, product=bound),
    )
    line.money_events += 1
    applied = f"payment {payment_id} applied: fees, then interest, then principal"
    with step(line, on, process=Process.PAYMENT, reason=applied) as changes:
        line.fee_balance -= fees
        line.interest_balance -= interest
        line.principal_balance -= principal
        line.paid_since_statement += payment.applied_amount
        line.payments[payment_id] = payment
        if payment.applied_amount:
            book_activity(
                line,
                ActivityKind.PAYMENT,
                reference=payment_id,
                effect=payment.applied.negated(),
                entry=_apply_entry(payment),
                on=on,
            )
        changes.created(payment, reason=f"submitted by {rail.value}")
    if payment.refund is not None:
        _record_refund(line, payment.refund, payment)
    if line.status is LineStatus.SUSPENDED and past_due_amount(line, on) == 0:
        cure(line, on, reason=f"payment {payment_id} paid the past-due amount")
    if payment.applied_amount:  # a charged-off line paid in full closes (loc_closed)
        close_when_paid_off(
            line, on, why=f"payment {payment_id} paid the balance", payment_id=payment_id
        )
    return payment


def settle_payment(
    line: LineState, *, payment_id: str, outcome: SettlementOutcome, on: dt.date
) -> LocPayment:
    """The rule of `CreditLine.settle_payment`: record what the rail says happened to a payment."""
    payment = applied_payment(line, payment_id)
    if outcome is SettlementOutcome.COMPLETED:
        if payment.status is PaymentStatus.PENDING:
            changes = ChangeRecorder(
                process=Process.SETTLEMENT, reason="the rail completed the payment"
            )
            changes.touch(payment)
            payment.status, payment.settled_on = PaymentStatus.COMPLETED, on
            line.outbox.changes.extend(changes.changes())
            announce_success(line, payment, on)
        return payment
    require_not_reversed(payment)
    require_in_order(line, on)
    _reverse(line, payment, PaymentStatus(outcome.value), on)
    return payment


def applied_payment(line: LineState, payment_id: str) -> LocPayment:
    """The payment `payment_id` the line applied.

    Raises:
        PaymentNotApplied: the line never applied it.
    """
    payment = line.payments.get(payment_id)
    if payment is None:
        raise PaymentNotApplied(
            f"line {line.line_id} never applied payment {payment_id!r}",
            about=Ref("payment", payment_id, line.user_id),
        )
    return payment


def require_not_reversed(payment: LocPayment) -> None:
    """Refuse a second return or chargeback of `payment`.

    Raises:
        PaymentAlreadyReversed: it was already returned or charged back.
    """
    if payment.status.reversed:
        raise PaymentAlreadyReversed(
            f"payment {payment.payment_id} was already {payment.status.value} on "
            f"{payment.settled_on}",
            about=payment,
        )


def announce_failure(line: LineState, payment: LocPayment, on: dt.date) -> None:
    """Tell the borrower the rail took `payment` back (LOC_PAYMENT_FAILED).

    Called once the line is corrected, so the notice says what is owed now (`owed_now`).
    """
    emit(
        line,
        EventType.LOC_PAYMENT_FAILED,
        subject_id=payment.payment_id,
        on=on,
        data={
            "amount": payment.amount,
            "outcome": payment.status.value,
            **owed_now(line, on),
        },
    )


def announce_success(line: LineState, payment: LocPayment, on: dt.date) -> None:
    """Confirm to the borrower that the rail completed `payment` (LOC_PAYMENT_SUCCEEDED).

    Only a PENDING payment completes, so a repeated completion tells nothing new.
    """
    emit(
        line,
        EventType.LOC_PAYMENT_SUCCEEDED,
        subject_id=payment.payment_id,
        on=on,
        data={
            "amount": payment.amount,
            "paid_on": payment.submitted_on.isoformat(),
            **owed_now(line, on),
        },
    )


def _record_refund(line: LineState, refund: RefundDue, payment: LocPayment) -> None:
    """Post a refund due (DR CLEARING, CR the line's refund-due liability) and tell of it."""
    line.outbox.entries.append(refund_entry(refund, owner=line.line_id, product=Product.CREDITLINE))
    emit(
        line,
        EventType.REFUND_DUE,
        subject_id=refund.payment_id,
        on=refund.recorded_on,
        data={"line_id": line.line_id, "amount": refund.amount, "payment_amount": payment.amount},
    )


def _reverse(line: LineState, payment: LocPayment, status: PaymentStatus, on: dt.date) -> None:
    pid = payment.payment_id
    require_paid_unchanged(  # the money to give back was sent: handled by hand
        {pid: payment.refund}, {}, about=line, what=f"the {status.value} of payment {pid}"
    )
    if payment.refund is not None and payment.refund.applied:
        raise InvalidTransition(
            f"the refund of payment {pid} already paid {payment.refund.applied} cents the "
            "line came to owe since: its return is a correction (correct_return) that "
            "makes those charges owed again",
            about=payment,
        )
    applied = payment.applied_amount
    owed_again = f"payment {pid} {status.value}: exactly what it paid is owed again"
    with step(line, on, process=Process.UNAPPLY, reason=owed_again) as changes:
        changes.touch(payment, reason=f"the rail reported {status.value}")
        if payment.refund is not None:  # the money to give back never stayed: cancel first
            payment.refund.cancel(on)
            line.outbox.entries.append(
                refund_entry(
                    payment.refund, owner=line.line_id, product=Product.CREDITLINE, cancel_on=on
                )
            )
        if applied and line.status is LineStatus.CLOSED:
            line.status, line.closed_from = line.closed_from or LineStatus.ACTIVE, None
        line.fee_balance += payment.paid_fees
        line.interest_balance += payment.paid_interest
        line.principal_balance += payment.paid_principal
        if payment.statement_date == line.last_billing_cycle_date:
            line.paid_since_statement -= applied
        else:
            line.next_minimum_payment_due = min(
                line.total_balance, line.next_minimum_payment_due + payment.minimum_covered
            )
        payment.status, payment.settled_on = status, on
        if applied:
            entry = bookkeeping.reversal(
                _apply_entry(payment), product=Product.CREDITLINE, cause=pid, on=on
            )
            book_activity(
                line,
                ActivityKind.REVERSAL,
                reference=pid,
                effect=payment.applied,
                entry=entry,
                on=on,
            )
    # Another payment's refund pays what is owed again (``<payment>:returned:credit_applied``).
    if apply_credit(line, on, cause=f"{pid}:{status.value.lower()}"):
        # Paid in full by the credit balance: closed again, as it was (nothing new to tell).
        close_when_paid_off(
            line, on, why=f"credit balance after {pid}", payment_id=None, announce=False
        )
    newly_past_due = line.status is LineStatus.ACTIVE and past_due_amount(line, on) > 0
    if newly_past_due:
        suspend(line, on, reason=f"payment {pid} {status.value}: an amount is past due")
    announce_failure(line, payment, on)
    if newly_past_due:
        announce_past_due(line, on)


def record_refund_paid(
    line: LineState,
    *,
    payment_id: str,
    paid_on: dt.date,
    reference: str,
    today: dt.date,
    reason: str,
    amount: int | None = None,
    before_settlement: bool = False,
) -> RefundDue:
    """The rule of `CreditLine.record_refund_paid` (documented there)."""
    require_in_order(line, today)  # the payout shows on the statement of `today`'s cycle
    return record_paid(
        payment_id,
        line.payments.get(payment_id),
        Payout(
            paid_on=paid_on,
            reference=reference,
            today=today,
            reason=reason,
            amount=amount,
            before_settlement=before_settlement,
        ),
        owner=("line_id", line.line_id),
        product=Product.CREDITLINE,
        user_id=line.user_id,
        outbox=line.outbox,
    )
