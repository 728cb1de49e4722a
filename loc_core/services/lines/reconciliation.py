"""Line-balance reconciliation: the line's balances against its ledger, never changed.

Like the seed's loan balance worker. The line's principal, interest and fee balances must
equal its receivables in the journal (`JournalRepository.entries_for`), the books of its
entries must balance, and the allowance must reserve exactly what a DEFAULTED line still
owes (nothing otherwise). A mismatch is alerted (CRITICAL) with every figure; nothing is
"fixed": a person decides which side is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from loc_core.creditline import LineStatus
from loc_core.events import AuditValue
from loc_core.ledger import Bucket, Ledger, allowance, receivable, refund_due
from loc_core.ports import Alerter, QueueMessage, UnitOfWork
from loc_core.services.kit import post_alert, read_message
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
    """The outcome: each figure that disagrees, as (line says, ledger says)."""

    line_id: str
    mismatches: Mapping[str, tuple[int, int]]

    @property
    def matches(self) -> bool:
        """Whether the line and its ledger agree on every figure."""
        return not self.mismatches


def reconcile_line(
    command: ReconcileLine, *, uow: UnitOfWork, alerter: Alerter
) -> LineReconciliation:
    """Compare; alert operations on any mismatch; change nothing.

    Raises:
        NotFound: no such line.
    """
    with uow:
        line = uow.lines.get(command.user_id, command.line_id)
        ledger = Ledger(entries=uow.journal.entries_for(command.line_id))
    owed = line.total_balance if line.status is LineStatus.DEFAULTED else 0
    figures = {
        "principal": (
            line.principal_balance,
            ledger.balance(receivable(line.line_id, Bucket.PRINCIPAL)),
        ),
        "interest": (
            line.interest_balance,
            ledger.balance(receivable(line.line_id, Bucket.INTEREST)),
        ),
        "fees": (line.fee_balance, ledger.balance(receivable(line.line_id, Bucket.FEE))),
        "allowance": (owed, -ledger.balance(allowance(line.line_id))),
        "refunds_due": (line.refunds_due, -ledger.balance(refund_due(line.line_id))),
        "trial_balance": (0, ledger.trial_balance()),
    }
    mismatches = {name: pair for name, pair in figures.items() if pair[0] != pair[1]}
    if mismatches:
        details: dict[str, AuditValue] = {"user_id": line.user_id, "line_id": line.line_id}
        for name, (ours, books) in mismatches.items():
            details[f"{name}_line"], details[f"{name}_ledger"] = ours, books
        post_alert(alerter, f"line {line.line_id} does not reconcile with its ledger", details)
    return LineReconciliation(line.line_id, mismatches)
