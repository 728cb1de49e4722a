"""The collections job (seed ``collections/job.go``): one queue message per installment due.

It reads only the status/due-date index and fans the work out, so it stays far inside a
Lambda's 15 minutes however large the book; every decision is the worker's, on a
consistent read of the loan.
"""

from __future__ import annotations

import attrs

from loc_core.installment import InstallmentStatus
from loc_core.ports import Clock, Metrics, UnitOfWork, WorkQueue
from loc_core.services.loans.collections_worker import CollectInstallment
from loc_core.services.scheduled import ScheduledJob

__all__ = ["SEND_BATCH", "EnqueueDueInstallments", "enqueue_due_installments"]
SEND_BATCH = 10
"""SQS ``SendMessageBatch`` takes at most 10 messages."""


@attrs.frozen
class EnqueueDueInstallments(ScheduledJob[int]):
    """Run the collections job (15:00 UTC): one message per installment due."""


def enqueue_due_installments(
    command: EnqueueDueInstallments,
    *,
    uow: UnitOfWork,
    queue: WorkQueue,
    clock: Clock,
    metrics: Metrics,
) -> int:
    """Enqueue every SCHEDULED installment due on the business date or before; how many.

    Messages go out in batches of `SEND_BATCH`. Running the job twice on a day sends the
    same messages again (same deduplication ids); the worker's once-a-day guard makes
    the repeats skip.

    Raises:
        ExternalServiceError: when the queue refused a batch; batches sent before stay
            sent, and a rerun sends everything again harmlessly.
    """
    today = command.business_date(clock)
    with uow:
        refs = uow.loans.installments(InstallmentStatus.SCHEDULED, due_through=today)
    messages = [
        CollectInstallment(ref.user_id, ref.loan_id, ref.installment_id, ref.due_date).message(
            today
        )
        for ref in refs
    ]
    for start in range(0, len(messages), SEND_BATCH):
        queue.send(messages[start : start + SEND_BATCH])
    metrics.gauge("loc.loans.collections.enqueued", len(messages))
    return len(messages)
