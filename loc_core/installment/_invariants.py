"""The invariants of an installment loan, checked after every command and on every load.

A loaded record is verified, not trusted: `verify` raises on the first contradiction
between the loan, its installments and its payments; `problems` lists them all.

A CANCELLED loan (its disbursement came back) keeps the terms it was made on
(`loan_amount`, `origination_fee`, `total_amount`) and every record, and owes nothing:
every installment is CANCELLED with its parts, total and outstanding 0 and no
applications, so ``outstanding = total - applications`` still holds for each; the
loan's outstanding is 0, its `completion_date` its disbursement date, autopay off; and
since installment applications must equal those of the payments not reversed, every
such payment applies nothing and its whole amount is its refund. `_consistent` (fast)
and `_problems_found` (full) check the same conditions.
"""

from __future__ import annotations

import itertools

from loc_core.errors import InvariantViolation
from loc_core.installment._checks import utc_problems
from loc_core.installment._state import LoanState
from loc_core.installment.installment import PaymentApplication
from loc_core.installment.vocabulary import LoanStatus

__all__ = ["problems", "verify"]

_ENDED = frozenset({LoanStatus.CLOSED, LoanStatus.CANCELLED})
"""The statuses of a loan that owes nothing and has ended (`completion_date` set)."""
# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_DEFAULTED, _OPEN = LoanStatus.DEFAULTED, LoanStatus.OPEN


def verify(loan: LoanState) -> None:
    """Prove the loan consistent; a loaded record is verified, not trusted.

    Raises:
        InvariantViolation: naming the first contradiction found.
    """
    found = problems(loan)
    if found:
        raise InvariantViolation(
            f"loan {loan.loan_id}: {found[0]}",
            about=loan,
            invariant="loan_consistent",
        )


def problems(loan: LoanState) -> list[str]:
    """Every way the loan, its installments and its payments contradict each other."""
    return [] if _consistent(loan) else _problems_found(loan)


def _consistent(loan: LoanState) -> bool:
    """Whether `problems` finds nothing: its conditions, in one pass, without messages."""
    return (
        _installments_consistent(loan)
        and loan.total_amount == loan.loan_amount + loan.origination_fee
        and loan.amount_disbursed == loan.total_amount - loan.origination_fee
        and _late_fees_within_cap(loan)
        and not _status_problems(loan)
        and _payments_consistent(loan)
        and not utc_problems(loan, "created_at", "updated_at")
    )


def _late_fees_within_cap(loan: LoanState) -> bool:
    """The late fees stay within the loan's cap, the cap's arithmetic only when any were charged.

    A loan with no late fee and a non-negative amount has a cap of at least 0 (a
    non-negative percent rounded down), so only a loan charged a fee needs it computed.
    """
    assessed = loan.late_fees_assessed
    if assessed == 0 and loan.loan_amount >= 0:
        return True
    return assessed <= loan.product.late_fee_cap(loan.loan_amount)


def _installments_consistent(loan: LoanState) -> bool:
    """`_installment_problems` and the sums of `_amount_problems` find nothing."""
    installments = loan.installments
    if not installments:
        return False
    principal = origination_fee = owed = 0
    previous = None
    loan_id, user_id = loan.loan_id, loan.user_id
    for number, installment in enumerate(installments, 1):
        if (
            not installment._consistent()  # noqa: SLF001 - the fast half of its `problems`
            or installment.loan_id != loan_id
            or installment.user_id != user_id
            or installment.status is not loan.settled_status(installment)
            or installment.number != number
            or (previous is not None and previous >= installment.due_date)
        ):
            return False
        previous = installment.due_date
        principal += installment.principal
        origination_fee += installment.origination_fee
        owed += installment.outstanding_balance
    return (principal, origination_fee) == _scheduled_parts(
        loan
    ) and owed == loan.outstanding_balance


def _scheduled_parts(loan: LoanState) -> tuple[int, int]:
    """What the installments' principal and origination-fee parts add up to.

    The loan's terms, except on a CANCELLED loan (its disbursement came back): nothing
    is owed on it, so its installments' parts are all 0 while the loan keeps the terms
    it was made on.
    """
    return (0, 0) if loan.cancelled else (loan.loan_amount, loan.origination_fee)


def _problems_found(loan: LoanState) -> list[str]:
    """`problems` the long way: every condition checked, each failure described."""
    return (
        _installment_problems(loan)
        + _amount_problems(loan)
        + _status_problems(loan)
        + _payment_problems(loan)
        + utc_problems(loan, "created_at", "updated_at")
    )


def _installment_problems(loan: LoanState) -> list[str]:
    found: list[str] = []
    installments = loan.installments
    for installment in installments:
        found += installment.problems()
        if (installment.loan_id, installment.user_id) != (loan.loan_id, loan.user_id):
            found.append(f"installment {installment.installment_id} belongs elsewhere")
        expected = loan.settled_status(installment)
        if installment.status is not expected:
            found.append(
                f"installment {installment.installment_id} is {installment.status.value}, "
                f"expected {expected.value}"
            )
    if not installments:
        found.append("a loan needs installments")
    if [i.number for i in installments] != list(range(1, len(installments) + 1)) or any(
        earlier.due_date >= later.due_date for earlier, later in itertools.pairwise(installments)
    ):
        found.append("installments must be numbered 1..N in due-date order")
    return found


def _amount_problems(loan: LoanState) -> list[str]:
    found: list[str] = []
    installments = loan.installments
    principal, origination_fee = _scheduled_parts(loan)
    if sum(i.principal for i in installments) != principal:
        found.append(f"installment principal parts do not add up to {principal}")
    if sum(i.origination_fee for i in installments) != origination_fee:
        found.append(f"installment fee parts do not add up to {origination_fee}")
    if loan.total_amount != loan.loan_amount + loan.origination_fee:
        found.append("total_amount != loan_amount + origination_fee")
    if loan.amount_disbursed != loan.total_amount - loan.origination_fee:
        found.append("amount_disbursed != total_amount - origination_fee")
    owed = sum(i.outstanding_balance for i in installments)
    if loan.outstanding_balance != owed:
        found.append(
            f"outstanding_balance {loan.outstanding_balance} != sum of installments {owed}"
        )
    if loan.late_fees_assessed > loan.product.late_fee_cap(loan.loan_amount):
        found.append("late fees exceed the loan's cap")
    return found


def _status_problems(loan: LoanState) -> list[str]:
    found: list[str] = []
    ended = loan.status in _ENDED
    if ended != (loan.outstanding_balance == 0):
        found.append(f"{loan.status.value} with outstanding {loan.outstanding_balance}")
    if ended != (loan.completion_date is not None):
        found.append(f"{loan.status.value} with completion_date {loan.completion_date}")
    if loan.cancelled and (loan.completion_date != loan.disbursement_date or loan.autopay_enabled):
        found.append("CANCELLED must end on its disbursement date, with autopay off")
    if loan.status is _DEFAULTED and loan.defaulted_on is None:
        found.append("DEFAULTED without the day it defaulted")
    if loan.status is _OPEN and loan.defaulted_on is not None:
        found.append("OPEN but marked as defaulted")
    if loan.defaulted_on is not None and loan.autopay_enabled:
        found.append("autopay is on for a loan that defaulted")
    return found


def _payment_problems(loan: LoanState) -> list[str]:
    found: list[str] = []
    live = {
        (app.payment_id, app.installment_id): app
        for installment in loan.installments
        for app in installment.applications
    }
    expected: dict[tuple[str, str], PaymentApplication] = {}
    for payment_id, payment in loan.payments.items():
        if payment_id != payment.payment_id or payment.loan_id != loan.loan_id:
            found.append(f"payment {payment_id} is filed under the wrong key or loan")
        refund = payment.refund
        refunded = 0 if refund is None else refund.amount
        if payment.applied_amount + refunded != payment.amount:
            found.append(
                f"payment {payment_id}: applications and refund do not add up to its amount"
            )
        if refund is not None and (refund.payment_id != payment_id or refund.amount <= 0):
            found.append(f"payment {payment_id}: its refund due is not a positive part of it")
        if refund is not None:
            found.extend(refund.problems())
        if not payment.status.reversed:
            expected.update(
                ((app.payment_id, app.installment_id), app) for app in payment.applications
            )
    if live != expected:
        found.append("installment applications differ from the payments not reversed")
    return found


def _payments_consistent(loan: LoanState) -> bool:
    """Whether `_payment_problems` finds nothing: its conditions, failing fast, no messages."""
    loan_id = loan.loan_id
    expected: dict[tuple[str, str], PaymentApplication] = {}
    for payment_id, payment in loan.payments.items():
        refund = payment.refund
        refunded = 0
        if refund is not None:
            if refund.payment_id != payment_id or refund.amount <= 0 or refund.problems():
                return False
            refunded = refund.amount
        applications = payment.applications
        applied = 0
        for app in applications:  # `applied_amount` without its call and generator
            applied += app.amount
        if (
            payment_id != payment.payment_id
            or payment.loan_id != loan_id
            or applied + refunded != payment.amount
        ):
            return False
        if not payment.status.reversed:
            for app in applications:
                expected[app.payment_id, app.installment_id] = app
    return expected == {
        (app.payment_id, app.installment_id): app
        for installment in loan.installments
        for app in installment.applications
    }
