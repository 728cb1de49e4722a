"""Line-balance reconciliation: the line's balances against its ledger, never changed.

Like the seed's loan balance worker. The line's principal, interest and fee balances must
equal its receivables in the journal (`JournalRepository.entries_for`), the books of its
entries must balance, and the allowance must reserve exactly what a DEFAULTED line still
owes (nothing otherwise). The lender's side must agree too: funding with the draws
disbursed, clearing with the payments not reversed, credit loss with the allowance; and
every entry must be stored once, filed under the line, and post only to the line's own
accounts and the lender's. A mismatch is alerted (CRITICAL) with every figure; nothing is
"fixed": a person decides which side is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from loc_core.bookkeeping import LENDER_ACCOUNTS, stored_books
from loc_core.creditline import (
    CreditLine,
    DisputedCharge,
    DrawStatus,
    LineStatus,
    credited_errors,
)
from loc_core.errors import ConcurrencyConflict, InvariantViolation, Ref
from loc_core.events import AuditValue
from loc_core.ledger import (
    BILLING_ERRORS,
    CLEARING,
    CREDIT_LOSS,
    FUNDING,
    INCOME,
    Bucket,
    JournalEntry,
    allowance,
    receivable,
    refund_due,
)
from loc_core.ports import Alerter, QueueMessage, UnitOfWork
from loc_core.refunds import paid_out
from loc_core.services.kit import CONFLICT_ATTEMPTS, post_alert, read_message
from loc_core.services.messagebus import Command
from loc_core.validation import Id, validated

__all__ = ["RECONCILE_LINE", "LineReconciliation", "ReconcileLine", "reconcile_line"]


RECONCILE_LINE = "reconcile_line"
"""The `QueueMessage.kind` asking a worker to reconcile one line."""


@attrs.frozen(field_transformer=validated)
class ReconcileLine(Command["LineReconciliation"]):
    """Check one line's balances against its ledger."""

    user_id: Id
    line_id: Id

    @classmethod
    def from_message(cls, message: QueueMessage) -> ReconcileLine:
        """Read a ``reconcile_line`` queue message.

        Raises:
            DomainError: a message of another kind, or with a field missing or malformed.
        """
        return read_message(cls, message, RECONCILE_LINE)

    def message(self, day: dt.date) -> QueueMessage:
        """The queue message asking a worker to reconcile this line for `day`'s run."""
        return QueueMessage(
            kind=RECONCILE_LINE,
            body={"user_id": self.user_id, "line_id": self.line_id},
            deduplication_id=f"{self.line_id}:{day.isoformat()}",
        )


@attrs.frozen
class LineReconciliation:
    """The outcome: each figure that disagrees, as (line says, ledger says).

    A figure is one of the line's balances (``principal``, ``interest``, ``fees``,
    ``allowance``, ``refunds_due``, ``trial_balance``) or an account of its books
    (``asset:cash:clearing``: the balance the line's records call for, and the booked one).
    """

    line_id: str
    mismatches: Mapping[str, tuple[int, int]]
    problems: tuple[str, ...] = ()
    """What is wrong beyond the figures: a stored line or journal that cannot be read, an
    entry stored twice, unbalanced, filed under another line, or posting to an account
    of neither this line nor the lender."""

    @property
    def matches(self) -> bool:
        """Whether the line and its ledger agree on every figure."""
        return not self.mismatches and not self.problems


_PRODUCT_BUCKETS = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.FEE)


def reconcile_line(
    command: ReconcileLine, *, uow: UnitOfWork, alerter: Alerter
) -> LineReconciliation:
    """Compare; alert operations on any mismatch; change nothing.

    Raises:
        NotFound: no such line.
        ConcurrencyConflict: when the line changed between every pair of reads (the
            message is delivered again later).
    """
    try:
        line, entries = _read_together(uow, command)
    except InvariantViolation as exc:
        # The stored line or its journal contradicts itself: that is the mismatch.
        result = LineReconciliation(command.line_id, {}, (str(exc),))
        return _report(command, result, alerter, {})
    books = stored_books(line.line_id, entries)
    owed = line.total_balance if line.status is LineStatus.DEFAULTED else 0
    line_id = line.line_id
    figures = {
        "principal": (
            line.principal_balance,
            books.balance(receivable(line_id, Bucket.PRINCIPAL)),
        ),
        "interest": (line.interest_balance, books.balance(receivable(line_id, Bucket.INTEREST))),
        "fees": (line.fee_balance, books.balance(receivable(line_id, Bucket.FEE))),
        "allowance": (owed, -books.balance(allowance(line_id))),
        "refunds_due": (line.refunds_due, -books.balance(refund_due(line_id))),
        "trial_balance": (0, books.trial_balance()),
    }
    mismatches = {name: pair for name, pair in figures.items() if pair[0] != pair[1]}
    accounts = books.differences(
        _expected_books(line, owed),
        unchecked=[account for account in LENDER_ACCOUNTS if account.startswith(INCOME)],
    )
    compared = {allowance(line_id), refund_due(line_id)}
    compared.update(receivable(line_id, bucket) for bucket in _PRODUCT_BUCKETS)
    # The lender's side is named only when the line's own figures agree: an entry that
    # leaves a receivable wrong leaves its other leg wrong too, the same disagreement
    # (every account that disagrees is in the alert either way).
    own_agree = not mismatches
    mismatches.update(
        (account, pair)
        for account, pair in accounts.items()
        if account not in compared and (own_agree or account not in LENDER_ACCOUNTS)
    )
    result = LineReconciliation(line_id, mismatches, books.problems)
    return _report(command, result, alerter, accounts)


def _expected_books(line: CreditLine, reserved: int) -> dict[str, int]:
    """The balance each account of the line's books must have, from the line's records.

    Its receivables, allowance and refunds due (not paid out); funding credited with
    every draw disbursed and every refund paid out, clearing debited with every
    payment not reversed (refund parts included), credit loss debited with what the
    allowance reserves, billing errors debited with the draws' cents found in error
    (each disbursed draw's RESOLVED_ERROR disputes, at most the draw). The income
    accounts are not pinned one by one (the line keeps no total of interest and fees ever
    charged): the trial balance pins their sum.
    """
    line_id = line.line_id
    disbursed = [d for d in line.draws.values() if d.status is DrawStatus.DISBURSED]
    return {
        receivable(line_id, Bucket.PRINCIPAL): line.principal_balance,
        receivable(line_id, Bucket.INTEREST): line.interest_balance,
        receivable(line_id, Bucket.FEE): line.fee_balance,
        allowance(line_id): -reserved,
        refund_due(line_id): -line.refunds_due,
        CREDIT_LOSS: reserved,
        BILLING_ERRORS: sum(
            min(d.amount, credited_errors(line.disputes, DisputedCharge.DRAW, d.draw_id))
            for d in disbursed
        ),
        FUNDING: -sum(d.amount for d in disbursed)
        - paid_out(p.refund for p in line.payments.values()),
        CLEARING: sum(p.amount for p in line.payments.values() if not p.status.reversed),
    }


def _read_together(
    uow: UnitOfWork, command: ReconcileLine
) -> tuple[CreditLine, list[JournalEntry]]:
    """The line and its journal as of one commit.

    Written by one commit but read by two requests: the line is read again after the
    journal, and a commit in between makes the pair be read again, not a false mismatch.
    """
    for _ in range(CONFLICT_ATTEMPTS):
        with uow:
            line = uow.lines.get(command.user_id, command.line_id)
            entries = uow.journal.entries_for(command.line_id)
            again = uow.lines.get(command.user_id, command.line_id)
        if again.version == line.version:
            return line, entries
    raise ConcurrencyConflict(
        f"line {command.line_id} kept changing while it was being reconciled",
        about=Ref("line", command.line_id, command.user_id),
        invariant="version_current",
    )


def _report(
    command: ReconcileLine,
    result: LineReconciliation,
    alerter: Alerter,
    accounts: Mapping[str, tuple[int, int]],
) -> LineReconciliation:
    if result.matches:
        return result
    details: dict[str, AuditValue] = {"user_id": command.user_id, "line_id": command.line_id}
    for name, (ours, books) in {**accounts, **result.mismatches}.items():
        details[f"{name}_line"], details[f"{name}_ledger"] = ours, books
    if result.problems:
        details["problems"] = "; ".join(result.problems)
    post_alert(alerter, f"line {command.line_id} does not reconcile with its ledger", details)
    return result
