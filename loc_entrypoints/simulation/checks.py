"""The daily checks: at 18:00 every loan and line written that day must still add up.

A check that fails stops the run through `Book.broken`, naming the borrower, the day and
the invariant: no critical operations alert, balances that equal the
ledger and are never negative, a DEFAULTED loan's allowance equal to what it still owes,
available credit within the limit, and no installment or line charged twice in a day.
"""

from __future__ import annotations

from loc_core.creditline import CreditLine
from loc_core.installment import Loan, LoanStatus
from loc_core.ledger import Bucket, allowance, receivable, refund_due
from loc_core.ports import Severity
from loc_entrypoints.simulation.borrowers import Book

__all__ = ["check_day"]


def check_day(book: Book) -> None:
    """Run every check on what today's work touched.

    Raises:
        InvariantBroken: the first check that failed.
    """
    world = book.world
    critical = [a for a in world.alerter.posted if a.severity is Severity.CRITICAL]
    if critical:
        alert = critical[0]
        book.broken(str(alert.details.get("user_id", "?")), "operations alert", alert.title)
    book.tally.warnings += len(world.alerter.posted)
    world.alerter.posted.clear()
    for kind, user_id, entity_id in world.database.take_touched():
        if kind == "loan":
            _check_loan(book, user_id, entity_id)
        elif kind == "line":
            _check_line(book, user_id, entity_id)
    _check_no_double_charge(book)


def _check_loan(book: Book, user_id: str, loan_id: str) -> None:
    database = book.world.database
    loan: Loan = database.peek(("loan", user_id, loan_id))
    problems = loan.problems()
    if problems:
        book.broken(user_id, "outstanding = total - applications", problems[0])
    _check_buckets(book, user_id, loan_id, loan.bucket_balances())
    reserved = -database.ledger.balance(allowance(loan_id))
    expected = loan.outstanding_balance if loan.status is LoanStatus.DEFAULTED else 0
    if reserved != expected:
        book.broken(
            user_id, "reconciliation clean", f"{loan_id} allowance {reserved} != {expected}"
        )


def _check_line(book: Book, user_id: str, line_id: str) -> None:
    line: CreditLine = book.world.database.peek(("line", user_id, line_id))
    owed = {
        Bucket.PRINCIPAL: line.principal_balance,
        Bucket.INTEREST: line.interest_balance,
        Bucket.FEE: line.fee_balance,
    }
    _check_buckets(book, user_id, line_id, owed)
    if not 0 <= line.available_credit <= line.credit_limit:
        book.broken(
            user_id, "available credit within the limit", f"{line_id} {line.available_credit}"
        )
    owed_back = -book.world.database.ledger.balance(refund_due(line_id))
    if owed_back != line.refunds_due:
        book.broken(user_id, "ledger equals balances", f"{line_id} refunds due: ledger {owed_back}")
    if line.refunds_due and line.total_balance:
        book.broken(
            user_id,
            "a line never both owes and is owed",
            f"{line_id} owes {line.total_balance} with {line.refunds_due} owed back",
        )


def _check_buckets(book: Book, user_id: str, owner_id: str, owed: dict[Bucket, int]) -> None:
    """Every bucket is owed a non-negative amount, and the ledger says the same."""
    ledger = book.world.database.ledger
    for bucket, amount in owed.items():
        if amount < 0:
            book.broken(user_id, "no negative balance", f"{owner_id} {bucket.value} {amount}")
        booked = ledger.balance(receivable(owner_id, bucket))
        if booked != amount:
            book.broken(
                user_id,
                "ledger equals balances",
                f"{owner_id} {bucket.value}: ledger {booked} != aggregate {amount}",
            )


def _check_no_double_charge(book: Book) -> None:
    """No installment or line is charged twice by autopay or the due job in one day."""
    book.world.sim_rails.take_submitted()  # the borrowers' own transfers are not checked
    seen: set[str] = set()
    for charged, request in book.job_charges:
        if charged in seen:
            book.broken(
                request.user_id, "no double charge", f"{charged} charged twice on {book.today}"
            )
        seen.add(charged)
    book.job_charges.clear()
