"""The collections worker (SQS): every work-queue message through the bus.

Each record's body is a `QueueMessage` as the SQS adapter wrote it (decoded with that
adapter's own codec) and goes to `MessageBus.handle_message`, whatever its kind
(``collect_installment``, ``resend_notification``, ``reconcile_*``, ``job_page``, ...).
Lambda deletes the messages that succeeded. Two ways a message ends otherwise:

- **malformed** (`MalformedMessage`): the body does not become its command: not a
  message, a version or kind this worker does not read, a field missing, unknown, of
  the wrong type or out of bounds. It fails (logged each time, alerted on its first
  receive) and comes back; after the queue's maximum receives the redrive policy moves
  it to the dead-letter queue, where it stays readable until it is redriven. A page
  (``job_page``, ``reconcile_page``) whose cursor its job refuses when it runs is
  malformed too (`handled`), so the rest of its run waits there rather than being dropped;
- **refused**: the command was built and a business rule refused it (a `DomainError`):
  skipped and alerted (see `_batch`), since no retry can change it.

Any other failure (an outage, a conflict, a held lease) fails the record: Lambda
delivers it again; a conflict or a held lease after a short backoff, not the queue's
visibility timeout (`_backoff`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._batch import SQS, Outcome, run_batch
from loc_entrypoints.lambdas._runtime import Runtime

if TYPE_CHECKING:
    from loc_core.errors import MalformedMessage
    from loc_core.ports import QueueMessage
    from loc_core.services.messagebus import MessageBus

__all__ = ["PAGE_KINDS", "RUNTIME", "describe", "handled", "handler"]

RUNTIME = Runtime("collections_worker")
"""This function's container state."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ANN401 - Lambda's context class
    """Handle an SQS batch; the partial batch response names the messages to retry."""
    return run_batch(RUNTIME, event, context, source=SQS, handle=handle_message, describe=describe)


def handle_message(bus: MessageBus, record: Mapping[str, Any]) -> Outcome:
    """Read one SQS record's message and hand it to the bus.

    Raises:
        MalformedMessage: the body does not become its command (fails: to the DLQ).
    """
    from loc_core.errors import MalformedMessage  # noqa: PLC0415 - cold starts stay cheap
    from loc_core.ports import Alert, Alerter, Severity  # noqa: PLC0415 - same

    try:
        message = readable(bus, record)
        handled(bus, message)
    except MalformedMessage as exc:
        if str(record.get("attributes", {}).get("ApproximateReceiveCount", "1")) == "1":
            details = {**SQS.record_id(record), **describe(record), "reason": str(exc)}
            title = "Queue message malformed: it fails until it is in the dead-letter queue"
            bus.get(Alerter).alert(Alert(Severity.WARNING, title, details))
        raise
    return Outcome.APPLIED


PAGE_KINDS = frozenset({"job_page", "reconcile_page"})
"""The kinds that carry the rest of a paged run: a cursor, and the run after it."""


def handled(bus: MessageBus, message: QueueMessage) -> None:
    """Hand a readable message to the bus.

    A page's cursor is opaque past its prefix (a listing's place is the storage
    adapter's), so only the job reading it can say it is not one it gave. That refusal
    (`InvalidRequest` on ``cursor``) is no business rule: skipping it would drop the rest
    of the run with it. So it is malformed, and the message waits in the dead-letter
    queue with its cursor, like one refused when read.

    Raises:
        MalformedMessage: a page whose cursor its job refused.
    """
    from loc_core.errors import InvalidRequest  # noqa: PLC0415 - same

    try:
        bus.handle_message(message)
    except InvalidRequest as exc:
        if message.kind not in PAGE_KINDS or exc.key != "cursor":
            raise
        raise _malformed(message, str(exc), "cursor") from exc


def _malformed(message: QueueMessage, reason: str, key: str | None) -> MalformedMessage:
    """`MalformedMessage` naming the message's kind, version and deduplication id."""
    from loc_core.errors import MalformedMessage  # noqa: PLC0415 - same

    return MalformedMessage(
        f"{message.kind} message {message.deduplication_id!r} (version "
        f"{message.version}): {reason}",
        kind=message.kind,
        version=message.version,
        deduplication_id=message.deduplication_id,
        key=key,
    )


def readable(bus: MessageBus, record: Mapping[str, Any]) -> QueueMessage:
    """The message an SQS record holds, once it is known to become its command.

    The command is built here and again by `MessageBus.handle_message`, inside its span
    (building one is pure and cheap): so whatever stops a message from becoming its
    command (a reader's `DomainError` included) is told apart from a refusal by the
    command's handler.

    Raises:
        MalformedMessage: the body is not a work-queue message, or of a version this
            worker does not read, or its kind has no command, or its reader refused it.
    """
    from loc_adapters.sqs import decode  # noqa: PLC0415 - same
    from loc_core.errors import InvariantViolation, LocError, MalformedMessage  # noqa: PLC0415 - same
    from loc_core.ports.messaging import QUEUE_MESSAGE_VERSION  # noqa: PLC0415 - same

    try:
        message = decode(str(record.get("body", "")))
    except InvariantViolation as exc:
        raise MalformedMessage(str(exc), kind=describe(record).get("kind"), key="body") from exc

    if message.version != QUEUE_MESSAGE_VERSION:
        raise _malformed(message, f"this worker reads version {QUEUE_MESSAGE_VERSION}", "version")
    try:
        bus.command_for(message)
    except MalformedMessage:
        raise
    except (LocError, ValueError, TypeError) as exc:
        raise _malformed(message, str(exc), getattr(exc, "key", None)) from exc
    return message


def describe(record: Mapping[str, Any]) -> dict[str, str]:
    """What names an SQS record's message in logs and alerts: kind, version, dedup id.

    As far as the body can be read: nothing from a body that is not a JSON object.
    """
    try:
        body = json.loads(str(record.get("body", "")))
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    named = ("kind", "version", "deduplication_id")
    return {name: str(body[name])[:200] for name in named if name in body}
