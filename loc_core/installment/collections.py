"""When autopay may charge an installment: the collections worker's guards, as a pure rule.

The collections job enqueues every SCHEDULED installment due today or earlier; the worker
re-reads the loan and charges only if this rule finds no reason to skip. Each reason is a
stable code (like the eligibility codes) for metrics and logs.
"""

from __future__ import annotations

import datetime as dt
import enum

from loc_core.installment._checks import require_date
from loc_core.installment.installment import Installment
from loc_core.installment.loan import Loan
from loc_core.installment.vocabulary import LoanStatus
from loc_core.payments import PaymentStatus

__all__ = ["CollectionSkip", "autopay_amount", "collection_skip_reason"]

# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_CANCELLED, _CLOSED, _DEFAULTED = LoanStatus.CANCELLED, LoanStatus.CLOSED, LoanStatus.DEFAULTED
_PENDING = PaymentStatus.PENDING


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
    SCHEDULE_PAID = "SCHEDULE_PAID"
    """What the installment still owes is only as much as its late fee: autopay has taken
    the scheduled amount the borrower was told (Regulation E 1005.10(d)), the rest is the
    borrower's to pay by hand (`autopay_amount`)."""
    PAYMENT_PENDING = "PAYMENT_PENDING"
    """A payment on the loan has not settled; charging again could take the money twice."""
    DEBIT_UNCONFIRMED = "DEBIT_UNCONFIRMED"
    """Another debit on the loan (a manual payment, or an earlier attempt) lost its rail's
    answer, and its rail still cannot tell whether it took the money (one it took is
    booked first: `Movements.unconfirmed_debits`). Decided by the collections worker,
    which reads the transfer intents and the rails; this rule sees only the loan."""
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
    skip = _loan_skip(loan)
    if skip is None:
        skip = _installment_skip(loan, installment, today)
    return None if skip is None else skip.value


def _loan_skip(loan: Loan) -> CollectionSkip | None:
    """What stops autopay on the whole loan, if anything."""
    if loan.status is _CANCELLED:
        return CollectionSkip.LOAN_CANCELLED
    if loan.status is _CLOSED:
        return CollectionSkip.LOAN_CLOSED
    if loan.status is _DEFAULTED:
        return CollectionSkip.LOAN_DEFAULTED
    if not loan.autopay_enabled:
        return CollectionSkip.AUTOPAY_OFF
    return None


def _installment_skip(  # noqa: PLR0911 - a return per code, in the order they are told
    loan: Loan, installment: Installment, today: dt.date
) -> CollectionSkip | None:
    """What stops autopay charging `installment` today, in the order the codes are told.

    Each test runs only when the ones before it passed: the collections worker asks this
    for every due installment, and the payments scan is the dearest.
    """
    if installment.due_date > today:
        return CollectionSkip.NOT_DUE
    if installment.is_paid:
        return CollectionSkip.PAID
    if autopay_amount(installment) == 0:
        return CollectionSkip.SCHEDULE_PAID
    if any(p.status is _PENDING for p in loan.payments.values()):
        return CollectionSkip.PAYMENT_PENDING
    if installment.collection_attempts >= loan.product.max_collection_attempts:
        return CollectionSkip.ATTEMPTS_EXHAUSTED
    if installment.last_collection_attempt_on == today:
        return CollectionSkip.ATTEMPTED_TODAY
    return None


def autopay_amount(installment: Installment) -> int:
    """What autopay may take for `installment`: its scheduled amount less all paid on it.

    The schedule the borrower accepted is the notice of each debit's amount and date
    (Regulation E 1005.10(d)); a late fee charged since was never told as autopay's. A
    payment pays the late fee first (the waterfall), so leaving out only the fee still
    unpaid would take the fee by the next attempt; autopay's attempts on the installment
    instead take no more than the schedule said: its outstanding less its late fee, paid
    or not. What is left is the borrower's to pay by hand (the overdue notice says how
    much), or the installment stays overdue. (A payment applies to the loan oldest
    installment first, so a later installment's debit may still pay an earlier one's fee's
    worth: a known limit, docs/money-movements.md.)
    """
    return max(0, installment.outstanding_balance - installment.late_fee)
