"""The collections job (seed ``collections/job.go``): one queue message per installment due.

It reads only the status/due-date index and fans the work out, so it stays far inside a
Lambda's 15 minutes however large the book; every decision is the worker's, on a
consistent read of the loan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from loc_core.errors import DomainError
from loc_core.events import AuditValue
from loc_core.installment import InstallmentStatus
from loc_core.ports import Clock, InstallmentRef, Metrics, QueueMessage, UnitOfWork, WorkQueue
from loc_core.services.loans._support import moment

__all__ = ["COLLECT_INSTALLMENT", "SEND_BATCH", "CollectInstallment", "enqueue_due_installments"]

COLLECT_INSTALLMENT = "collect_installment"
"""The `QueueMessage.kind` the collections worker handles."""
SEND_BATCH = 10
"""SQS ``SendMessageBatch`` takes at most 10 messages."""


@attrs.frozen
class CollectInstallment:
    """Try autopay on one installment (the body of a ``collect_installment`` message)."""

    user_id: str
    loan_id: str
    installment_id: str
    due_date: dt.date

    @classmethod
    def from_message(cls, message: QueueMessage) -> CollectInstallment:
        """Read a queue message.

        Raises:
            DomainError: for a message of another kind or with a malformed body.
        """
        if message.kind != COLLECT_INSTALLMENT:
            raise DomainError(f"not a {COLLECT_INSTALLMENT} message: {message.kind!r}")
        body = message.body
        try:
            return cls(
                user_id=_text(body, "user_id"),
                loan_id=_text(body, "loan_id"),
                installment_id=_text(body, "installment_id"),
                due_date=dt.date.fromisoformat(_text(body, "due_date")),
            )
        except ValueError as exc:
            raise DomainError(f"malformed {COLLECT_INSTALLMENT} message: {exc}") from exc

    def message(self, today: dt.date) -> QueueMessage:
        """The queue message for this installment on `today`'s run."""
        return QueueMessage(
            kind=COLLECT_INSTALLMENT,
            body={
                "user_id": self.user_id,
                "loan_id": self.loan_id,
                "installment_id": self.installment_id,
                "due_date": self.due_date.isoformat(),
            },
            deduplication_id=f"{self.installment_id}:{today.isoformat()}",
        )


def _text(body: Mapping[str, AuditValue], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise DomainError(f"{COLLECT_INSTALLMENT} message needs a {field}, got {value!r}")
    return value


def enqueue_due_installments(
    *, uow: UnitOfWork, queue: WorkQueue, clock: Clock, metrics: Metrics | None = None
) -> int:
    """Enqueue every SCHEDULED installment due today or before; returns how many.

    Messages go out in batches of `SEND_BATCH`. Running the job twice on a day sends the
    same messages again (same deduplication ids); the worker's once-a-day guard makes
    the repeats skip.

    Raises:
        ExternalServiceError: when the queue refused a batch; batches sent before stay
            sent, and a rerun sends everything again harmlessly.
    """
    _, today = moment(clock)
    with uow:
        refs: list[InstallmentRef] = [
            *uow.loans.installments(InstallmentStatus.SCHEDULED, due_before=today),
            *uow.loans.installments(InstallmentStatus.SCHEDULED, due_on=today),
        ]
    messages = [
        CollectInstallment(ref.user_id, ref.loan_id, ref.installment_id, ref.due_date).message(
            today
        )
        for ref in refs
    ]
    for start in range(0, len(messages), SEND_BATCH):
        queue.send(messages[start : start + SEND_BATCH])
    if metrics is not None:
        metrics.gauge("loc.loans.collections.enqueued", len(messages))
    return len(messages)
