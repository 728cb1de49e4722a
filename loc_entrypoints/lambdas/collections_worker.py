"""The collections worker (SQS): every work-queue message through the bus.

Each record's body is a `QueueMessage` as the SQS adapter wrote it (decoded with that
adapter's own codec) and goes to `MessageBus.handle_message`, whatever its kind
(``collect_installment``, ``resend_notification``, ``reconcile_*``). Lambda deletes the
messages that succeeded; a failed one (an outage, a conflict, or a body no one can read)
comes back, and after the queue's maximum receives the redrive policy moves it to the
dead-letter queue. A command the domain refuses is skipped and alerted (see `_batch`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._batch import SQS, Outcome, run_batch
from loc_entrypoints.lambdas._runtime import Runtime

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["RUNTIME", "handler"]

RUNTIME = Runtime("collections_worker")
"""This function's container state."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ANN401 - Lambda's context class
    """Handle an SQS batch; the partial batch response names the messages to retry."""
    return run_batch(RUNTIME, event, context, source=SQS, handle=handle_message)


def handle_message(bus: MessageBus, record: Mapping[str, Any]) -> Outcome:
    """Decode one SQS record's body and hand the message to the bus.

    Raises:
        InvariantViolation: the body is not a work-queue message (fails: to the DLQ).
    """
    from loc_adapters.sqs import decode  # noqa: PLC0415 - cold starts stay cheap

    bus.handle_message(decode(str(record.get("body", ""))))
    return Outcome.APPLIED
