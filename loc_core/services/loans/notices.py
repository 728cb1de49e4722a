"""What a loan's borrower notices say about the money owed, filled in from the committed loan.

A notice about a payment that changed what the borrower owes (one returned, one booked
backdated) carries what the loan owes once its correction is done: the figures the
borrower would otherwise only learn at the next reminder or late fee.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.events import AuditValue, DomainEvent, EventType
from loc_core.installment import Loan

__all__ = ["announce_autopay_declined", "announce_received", "owed_now", "tell_what_is_owed"]


def owed_now(loan: Loan, today: dt.date) -> dict[str, AuditValue]:
    """The loan's status and outstanding, what is due `today` or earlier, the next due date."""
    unpaid = [i for i in loan.installments if not i.is_paid]  # none on a CANCELLED loan
    coming = [i.due_date for i in unpaid if i.due_date > today]
    return {
        "loan_id": loan.loan_id,
        "loan_status": loan.status.value,
        "outstanding_balance": loan.outstanding_balance,
        "amount_due": sum(i.outstanding_balance for i in unpaid if i.due_date <= today),
        "next_due_date": min(coming).isoformat() if coming else None,
    }


def tell_what_is_owed(loan: Loan, kind: EventType, payment_id: str, today: dt.date) -> None:
    """Add `owed_now` to the payment's `kind` event the loan recorded (before the commit)."""
    owed = owed_now(loan, today)
    events = loan.outbox.events
    for index, recorded in enumerate(events):
        if recorded.type is kind and recorded.subject_id == payment_id:
            events[index] = attrs.evolve(recorded, data={**recorded.data, **owed})


def announce_received(loan: Loan, payment_id: str, today: dt.date) -> None:
    """Tell the borrower money already received was booked (``payment_succeeded``).

    A backdated payment is never settled by a rail, so this is the only notice of it: its
    amount, the day it counts from, and what the loan owes once its correction is done.
    """
    payment = loan.payments[payment_id]
    data: dict[str, AuditValue] = {
        "amount": payment.amount,
        "received_on": payment.submitted_on.isoformat(),
    }
    loan.outbox.events.append(
        DomainEvent(EventType.PAYMENT_SUCCEEDED, loan.user_id, payment_id, today, data)
    )
    tell_what_is_owed(loan, EventType.PAYMENT_SUCCEEDED, payment_id, today)


def announce_autopay_declined(
    loan: Loan, installment_id: str, *, amount: int, attempt: int, today: dt.date
) -> None:
    """Tell the borrower at once that every rail declined the installment's autopay.

    Recorded with the declined attempt, which is made at most once a day: its `amount`,
    the installment's due date and `pay_by`, the last day to pay before the late fee.
    """
    installment = loan.installment(installment_id)
    pay_by = loan.product.overdue_on(installment.due_date) - dt.timedelta(days=1)
    data: dict[str, AuditValue] = {
        "loan_id": loan.loan_id,
        "installment_number": installment.number,
        "amount": amount,
        "due_date": installment.due_date.isoformat(),
        "pay_by": pay_by.isoformat(),
        "attempt": attempt,
    }
    loan.outbox.events.append(
        DomainEvent(EventType.AUTOPAY_DECLINED, loan.user_id, installment_id, today, data)
    )
