"""Loan balance reconciliation (seed ``loanbalanceworker/``): prove balances from the ledger.

Three figures must agree: the loan's outstanding balance, the sum of its installments'
outstanding balances, and the receivables the journal holds for the loan (per bucket),
with an allowance that reserves exactly what a defaulted loan still owes and a refund-due
liability equal to the refunds the loan still owes its borrower. The lender's side of the
loan's entries must agree too: funding with what was disbursed, clearing with the
payments not reversed, income with the fees charged, credit loss with the allowance. The
entries themselves must be sound: each balanced, stored once, filed under the loan, and
posting only to the loan's own accounts and the lender's. A mismatch is reported to
operations with every figure; nothing is ever changed to make it go away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from loc_core.bookkeeping import LENDER_ACCOUNTS, StoredBooks, stored_books
from loc_core.errors import ConcurrencyConflict, InvariantViolation, Ref
from loc_core.events import AuditValue
from loc_core.installment import WATERFALL, Loan, LoanStatus
from loc_core.ledger import (
    CLEARING,
    CREDIT_LOSS,
    FUNDING,
    Bucket,
    JournalEntry,
    allowance,
    income,
    receivable,
    refund_due,
)
from loc_core.ports import Alerter, Metrics, QueueMessage, UnitOfWork
from loc_core.refunds import paid_out
from loc_core.services.kit import CONFLICT_ATTEMPTS, post_alert, read_message
from loc_core.services.messagebus import Command
from loc_core.validation import Id, validated

__all__ = ["RECONCILE_LOAN", "ReconcileLoan", "Reconciliation", "reconcile_loan"]


RECONCILE_LOAN = "reconcile_loan"
"""The `QueueMessage.kind` asking a worker to reconcile one loan."""


@attrs.frozen(field_transformer=validated)
class ReconcileLoan(Command["Reconciliation"]):
    """Check one loan's balances (a ``reconcile_loan`` message, sent after it changed)."""

    user_id: Id
    loan_id: Id

    @classmethod
    def from_message(cls, message: QueueMessage) -> ReconcileLoan:
        """Read a ``reconcile_loan`` queue message.

        Raises:
            DomainError: a message of another kind, or with a field missing or malformed.
        """
        return read_message(cls, message, RECONCILE_LOAN)

    def message(self, day: dt.date) -> QueueMessage:
        """The queue message asking a worker to reconcile this loan for `day`'s run."""
        return QueueMessage(
            kind=RECONCILE_LOAN,
            body={"user_id": self.user_id, "loan_id": self.loan_id},
            deduplication_id=f"{self.loan_id}:{day.isoformat()}",
        )


@attrs.frozen
class Reconciliation:
    """The figures compared and every disagreement found."""

    loan_id: str
    loan_outstanding: int | None
    """None when the stored loan could not even be loaded consistently."""
    installments_outstanding: int | None
    ledger_outstanding: int | None
    """The sum of the loan's receivable balances in the journal; None when the stored
    journal could not be read."""
    loan_buckets: Mapping[str, int]
    ledger_buckets: Mapping[str, int]
    allowance: int | None
    """The allowance balance (negative: a contra-asset); None when the journal could not
    be read."""
    problems: tuple[str, ...]
    accounts: Mapping[str, tuple[int, int]] = attrs.field(factory=dict)
    """``account -> (expected, booked)`` for every account of the loan's books that
    disagrees with the loan, its own and the lender's side alike."""

    @property
    def matches(self) -> bool:
        """Whether every figure agrees."""
        return not self.problems


@attrs.frozen
class _Journal:
    """The loan's stored entries as read, or why they could not be read."""

    entries: tuple[JournalEntry, ...] = ()
    unreadable: str | None = None
    """The error of a journal the store refused to decode (an entry hand-edited so it no
    longer balances, say): reported as a mismatch, not raised."""


def reconcile_loan(
    command: ReconcileLoan,
    *,
    uow: UnitOfWork,
    alerter: Alerter,
    metrics: Metrics,
) -> Reconciliation:
    """Compare the loan, its installments and the journal; alert on any mismatch.

    Reads only: it never saves or commits.

    Raises:
        NotFound: for an unknown loan.
        ConcurrencyConflict: when the loan changed between every pair of reads (the
            message is delivered again later).
    """
    try:
        loan, journal = _read_together(uow, command)
    except InvariantViolation as exc:
        # The stored loan contradicts itself: that is the mismatch to report.
        with uow:
            journal = _read_journal(uow, command.loan_id)
        books = None if journal.unreadable else stored_books(command.loan_id, journal.entries)
        result = Reconciliation(
            loan_id=command.loan_id,
            loan_outstanding=None,
            installments_outstanding=None,
            ledger_outstanding=None if books is None else _receivables(books, command.loan_id),
            loan_buckets={},
            ledger_buckets={} if books is None else _ledger_buckets(books, command.loan_id),
            allowance=None if books is None else books.balance(allowance(command.loan_id)),
            problems=(str(exc), *_journal_problems(journal, books)),
        )
        return _report(result, command, alerter, metrics)
    problems = list(loan.problems())
    installments = sum(i.outstanding_balance for i in loan.installments)
    loan_buckets = {bucket.value: owed for bucket, owed in loan.bucket_balances().items()}
    if installments != loan.outstanding_balance:
        problems.append(
            f"installments owe {installments}, the loan says {loan.outstanding_balance}"
        )
    if journal.unreadable is not None:
        problems.extend(_journal_problems(journal, None))
        result = Reconciliation(
            loan_id=loan.loan_id,
            loan_outstanding=loan.outstanding_balance,
            installments_outstanding=installments,
            ledger_outstanding=None,
            loan_buckets=loan_buckets,
            ledger_buckets={},
            allowance=None,
            problems=tuple(problems),
        )
        return _report(result, command, alerter, metrics)
    books = stored_books(loan.loan_id, journal.entries)
    ledger_buckets = _ledger_buckets(books, loan.loan_id)
    booked = _receivables(books, loan.loan_id)
    if booked != loan.outstanding_balance:
        problems.append(f"the ledger holds {booked}, the loan says {loan.outstanding_balance}")
    problems.extend(
        f"{bucket}: ledger {ledger_buckets[bucket]} != loan {owed}"
        for bucket, owed in loan_buckets.items()
        if ledger_buckets[bucket] != owed
    )
    refunds = -books.balance(refund_due(loan.loan_id))
    if refunds != loan.refunds_due:
        problems.append(
            f"the ledger owes {refunds} back, the loan's refunds due {loan.refunds_due}"
        )
    reserved = books.balance(allowance(loan.loan_id))
    expected = -loan.outstanding_balance if loan.status is LoanStatus.DEFAULTED else 0
    if reserved != expected:
        problems.append(f"allowance {reserved} != {expected} for a {loan.status.value} loan")
    accounts = books.differences(_expected_books(loan))
    problems.extend(_account_problems(accounts, loan.loan_id, checked=bool(problems)))
    problems.extend(books.problems)
    result = Reconciliation(
        loan_id=loan.loan_id,
        loan_outstanding=loan.outstanding_balance,
        installments_outstanding=installments,
        ledger_outstanding=booked,
        loan_buckets=loan_buckets,
        ledger_buckets=ledger_buckets,
        allowance=reserved,
        problems=tuple(problems),
        accounts=accounts,
    )
    return _report(result, command, alerter, metrics)


def _expected_books(loan: Loan) -> dict[str, int]:
    """The balance every account of the loan's books must have, from the loan's records.

    The loan's own accounts: its receivables per bucket, the allowance reserving what a
    DEFAULTED loan owes, the refunds it owes back. The lender's side: funding credited
    with what was disbursed and every refund paid out, clearing debited with every
    payment not reversed (refund parts included), income credited with the origination
    fee and every late fee charged, and credit loss debited with what the allowance
    reserves. Any other account of the loan's or the lender's must be 0. A CANCELLED
    loan's disbursement came back and its fees were taken back: funding holds only the
    refunds paid out, income is 0, and clearing holds its payments, all owed back as
    refunds.
    """
    loan_id = loan.loan_id
    reserved = loan.outstanding_balance if loan.status is LoanStatus.DEFAULTED else 0
    disbursed, fee = (0, 0) if loan.cancelled else (loan.amount_disbursed, loan.origination_fee)
    return {
        **{receivable(loan_id, b): owed for b, owed in loan.bucket_balances().items()},
        allowance(loan_id): -reserved,
        refund_due(loan_id): -loan.refunds_due,
        CREDIT_LOSS: reserved,
        FUNDING: -disbursed - paid_out(p.refund for p in loan.payments.values()),
        CLEARING: sum(p.amount for p in loan.payments.values() if not p.status.reversed),
        income(Bucket.ORIGINATION_FEE): -fee,
        income(Bucket.LATE_FEE): -loan.late_fees_assessed,
    }


def _account_problems(
    accounts: Mapping[str, tuple[int, int]], loan_id: str, *, checked: bool
) -> list[str]:
    """The account differences the figures above do not already name.

    The lender's accounts are named only when the loan's own accounts agree: an entry that
    leaves a receivable wrong leaves its other leg wrong on the lender's side too, and
    that is the same disagreement (every figure is in the alert either way).
    """
    compared = {allowance(loan_id), refund_due(loan_id)}
    compared.update(receivable(loan_id, bucket) for bucket in WATERFALL)
    found = []
    for account, (expected, booked) in accounts.items():
        if account in compared:
            continue
        if account in LENDER_ACCOUNTS and checked:
            continue
        found.append(f"{account}: ledger {booked} != {expected} from the loan's records")
    return found


def _journal_problems(journal: _Journal, books: StoredBooks | None) -> list[str]:
    if journal.unreadable is not None:
        return [f"the journal cannot be read: {journal.unreadable}"]
    return [] if books is None else list(books.problems)


def _read_journal(uow: UnitOfWork, loan_id: str) -> _Journal:
    """The loan's stored entries, or the error of a journal the store cannot decode."""
    try:
        return _Journal(tuple(uow.journal.entries_for(loan_id)))
    except InvariantViolation as exc:
        return _Journal(unreadable=str(exc))


def _read_together(uow: UnitOfWork, command: ReconcileLoan) -> tuple[Loan, _Journal]:
    """The loan and its journal as of one commit.

    The loan and its entries are written by one commit but read by two requests, so the
    loan is read again after the journal: a commit in between would show as a false
    mismatch, and the pair is read again instead.
    """
    for _ in range(CONFLICT_ATTEMPTS):
        with uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            journal = _read_journal(uow, command.loan_id)
            again = uow.loans.get(command.user_id, command.loan_id)
        if again.version == loan.version:
            return loan, journal
    raise ConcurrencyConflict(
        f"loan {command.loan_id} kept changing while it was being reconciled",
        about=Ref("loan", command.loan_id, command.user_id),
        invariant="version_current",
    )


def _ledger_buckets(books: StoredBooks, loan_id: str) -> dict[str, int]:
    return {bucket.value: books.balance(receivable(loan_id, bucket)) for bucket in WATERFALL}


def _receivables(books: StoredBooks, loan_id: str) -> int:
    return sum(_ledger_buckets(books, loan_id).values())


def _report(
    result: Reconciliation, command: ReconcileLoan, alerter: Alerter, metrics: Metrics
) -> Reconciliation:
    if result.matches:
        metrics.increment("loc.loans.reconciliation.matched")
        return result
    metrics.increment("loc.loans.reconciliation.mismatched")
    details: dict[str, AuditValue] = {
        "user_id": command.user_id,
        "loan_id": command.loan_id,
        "loan_outstanding": result.loan_outstanding,
        "installments_outstanding": result.installments_outstanding,
        "ledger_outstanding": result.ledger_outstanding,
        "allowance": result.allowance,
        **{f"ledger_{bucket}": owed for bucket, owed in result.ledger_buckets.items()},
        **{f"loan_{bucket}": owed for bucket, owed in result.loan_buckets.items()},
    }
    for account, (expected, booked) in result.accounts.items():
        details[f"expected {account}"], details[f"ledger {account}"] = expected, booked
    details["problems"] = "; ".join(result.problems)
    post_alert(alerter, f"loan {command.loan_id} does not reconcile", details)
    return result
