"""When autopay may charge an installment: the collections worker's guards, as a pure rule.

The collections job enqueues every SCHEDULED installment due today or earlier; the worker
re-reads the loan and charges only if this rule finds no reason to skip. Each reason is a
stable code (like the eligibility codes) for metrics and logs.
"""

from __future__ import annotations

import datetime as dt
import enum

from loc_core.installment._checks import require_date
from loc_core.installment.loan import Loan
from loc_core.installment.vocabulary import LoanStatus
from loc_core.payments import PaymentStatus

__all__ = ["CollectionSkip", "collection_skip_reason"]


class CollectionSkip(enum.Enum):
    """Why autopay does not charge an installment; the value is the code returned."""

    LOAN_CLOSED = "LOAN_CLOSED"
    """Nothing is owed on the loan."""
    LOAN_CANCELLED = "LOAN_CANCELLED"
    """The loan's disbursement came back: it is void and owes nothing."""
    LOAN_DEFAULTED = "LOAN_DEFAULTED"
    """A defaulted loan is no longer charged automatically (manual payments still are)."""
    AUTOPAY_OFF = "AUTOPAY_OFF"
    """The borrower turned autopay off."""
    NOT_DUE = "NOT_DUE"
    """The installment falls due after today: autopay never charges ahead."""
    PAID = "PAID"
    """The installment owes nothing any more."""
    PAYMENT_PENDING = "PAYMENT_PENDING"
    """A payment on the loan has not settled; charging again could take the money twice."""
    ATTEMPTS_EXHAUSTED = "ATTEMPTS_EXHAUSTED"
    """The product's `max_collection_attempts` were made on this installment."""
    ATTEMPTED_TODAY = "ATTEMPTED_TODAY"
    """An attempt was already made today (at most one a day)."""


def collection_skip_reason(loan: Loan, installment_id: str, *, today: dt.date) -> str | None:
    """The code of the first `CollectionSkip` that applies, or None to charge now.

    Raises:
        NotFound: when the loan has no such installment.
        InvalidTimestamp: for a `today` that is not a date.
    """
    today = require_date(today)
    installment = loan.installment(installment_id)
    if loan.status is LoanStatus.CANCELLED:
        skip = CollectionSkip.LOAN_CANCELLED
    elif loan.status is LoanStatus.CLOSED:
        skip = CollectionSkip.LOAN_CLOSED
    elif loan.status is LoanStatus.DEFAULTED:
        skip = CollectionSkip.LOAN_DEFAULTED
    elif not loan.autopay_enabled:
        skip = CollectionSkip.AUTOPAY_OFF
    elif installment.due_date > today:
        skip = CollectionSkip.NOT_DUE
    elif installment.is_paid:
        skip = CollectionSkip.PAID
    elif any(p.status is PaymentStatus.PENDING for p in loan.payments.values()):
        skip = CollectionSkip.PAYMENT_PENDING
    elif installment.collection_attempts >= loan.product.max_collection_attempts:
        skip = CollectionSkip.ATTEMPTS_EXHAUSTED
    elif installment.last_collection_attempt_on == today:
        skip = CollectionSkip.ATTEMPTED_TODAY
    else:
        return None
    return skip.value
