"""Loan balance reconciliation (seed ``loanbalanceworker/``): prove balances from the ledger.

Three figures must agree: the loan's outstanding balance, the sum of its installments'
outstanding balances, and the receivables the journal holds for the loan (per bucket),
with an allowance that reserves exactly what a defaulted loan still owes and a refund-due
liability equal to the refunds the loan still owes its borrower. A mismatch is
reported to operations with every figure; nothing is ever changed to make it go away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from loc_core.errors import ConcurrencyConflict, InvariantViolation, Ref
from loc_core.installment import WATERFALL, Loan, LoanStatus
from loc_core.ledger import Ledger, allowance, receivable, refund_due
from loc_core.ports import Alerter, Metrics, QueueMessage, UnitOfWork
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
    ledger_outstanding: int
    """The sum of the loan's receivable balances in the journal."""
    loan_buckets: Mapping[str, int]
    ledger_buckets: Mapping[str, int]
    allowance: int
    """The allowance balance (negative: a contra-asset)."""
    problems: tuple[str, ...]

    @property
    def matches(self) -> bool:
        """Whether every figure agrees."""
        return not self.problems


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
        loan, ledger = _read_together(uow, command)
    except InvariantViolation as exc:
        # The stored loan contradicts itself: that is the mismatch to report.
        with uow:
            ledger = Ledger(uow.journal.entries_for(command.loan_id))
        result = Reconciliation(
            loan_id=command.loan_id,
            loan_outstanding=None,
            installments_outstanding=None,
            ledger_outstanding=_receivables(ledger, command.loan_id),
            loan_buckets={},
            ledger_buckets=_ledger_buckets(ledger, command.loan_id),
            allowance=ledger.balance(allowance(command.loan_id)),
            problems=(str(exc),),
        )
        return _report(result, command, alerter, metrics)
    problems = list(loan.problems())
    installments = sum(i.outstanding_balance for i in loan.installments)
    loan_buckets = {bucket.value: owed for bucket, owed in loan.bucket_balances().items()}
    ledger_buckets = _ledger_buckets(ledger, loan.loan_id)
    booked = _receivables(ledger, loan.loan_id)
    if installments != loan.outstanding_balance:
        problems.append(
            f"installments owe {installments}, the loan says {loan.outstanding_balance}"
        )
    if booked != loan.outstanding_balance:
        problems.append(f"the ledger holds {booked}, the loan says {loan.outstanding_balance}")
    problems.extend(
        f"{bucket}: ledger {ledger_buckets[bucket]} != loan {owed}"
        for bucket, owed in loan_buckets.items()
        if ledger_buckets[bucket] != owed
    )
    refunds = -ledger.balance(refund_due(loan.loan_id))
    if refunds != loan.refunds_due:
        problems.append(
            f"the ledger owes {refunds} back, the loan's refunds due {loan.refunds_due}"
        )
    reserved = ledger.balance(allowance(loan.loan_id))
    expected = -loan.outstanding_balance if loan.status is LoanStatus.DEFAULTED else 0
    if reserved != expected:
        problems.append(f"allowance {reserved} != {expected} for a {loan.status.value} loan")
    result = Reconciliation(
        loan_id=loan.loan_id,
        loan_outstanding=loan.outstanding_balance,
        installments_outstanding=installments,
        ledger_outstanding=booked,
        loan_buckets=loan_buckets,
        ledger_buckets=ledger_buckets,
        allowance=reserved,
        problems=tuple(problems),
    )
    return _report(result, command, alerter, metrics)


def _read_together(uow: UnitOfWork, command: ReconcileLoan) -> tuple[Loan, Ledger]:
    """The loan and its journal as of one commit.

    The loan and its entries are written by one commit but read by two requests, so the
    loan is read again after the journal: a commit in between would show as a false
    mismatch, and the pair is read again instead.
    """
    for _ in range(CONFLICT_ATTEMPTS):
        with uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            ledger = Ledger(uow.journal.entries_for(command.loan_id))
            again = uow.loans.get(command.user_id, command.loan_id)
        if again.version == loan.version:
            return loan, ledger
    raise ConcurrencyConflict(
        f"loan {command.loan_id} kept changing while it was being reconciled",
        about=Ref("loan", command.loan_id, command.user_id),
        invariant="version_current",
    )


def _ledger_buckets(ledger: Ledger, loan_id: str) -> dict[str, int]:
    return {bucket.value: ledger.balance(receivable(loan_id, bucket)) for bucket in WATERFALL}


def _receivables(ledger: Ledger, loan_id: str) -> int:
    return sum(_ledger_buckets(ledger, loan_id).values())


def _report(
    result: Reconciliation, command: ReconcileLoan, alerter: Alerter, metrics: Metrics
) -> Reconciliation:
    if result.matches:
        metrics.increment("loc.loans.reconciliation.matched")
        return result
    metrics.increment("loc.loans.reconciliation.mismatched")
    post_alert(
        alerter,
        f"loan {command.loan_id} does not reconcile",
        {
            "user_id": command.user_id,
            "loan_id": command.loan_id,
            "loan_outstanding": result.loan_outstanding,
            "installments_outstanding": result.installments_outstanding,
            "ledger_outstanding": result.ledger_outstanding,
            "allowance": result.allowance,
            **{f"ledger_{bucket}": owed for bucket, owed in result.ledger_buckets.items()},
            **{f"loan_{bucket}": owed for bucket, owed in result.loan_buckets.items()},
            "problems": "; ".join(result.problems),
        },
    )
    return result
