"""The `WorkQueue` on SQS: JSON bodies with a version, batches of ten, bounded retries.

A message body is the `QueueMessage` as JSON (``kind``, ``body``, ``deduplication_id``,
``version``), written and read with cattrs, so a worker can tell an old producer's
message from a new one. `send` groups messages into `SendMessageBatch` calls of at most
ten entries and 256 KiB; entries SQS reports as failed for its own reasons are retried
with backoff and jitter a bounded number of times, then `ExternalServiceError`. A FIFO
queue (``.fifo``) gets each message's deduplication id and a message group.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import cattrs
from botocore.exceptions import BotoCoreError, ClientError

from loc_adapters._retry import Backoff, Leftover
from loc_adapters.logs import describe_unreadable, problem_of
from loc_core.errors import ExternalServiceError, InvariantViolation
from loc_core.events import AuditValue
from loc_core.ports import QueueMessage, ReceivedMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

__all__ = ["SqsWorkQueue"]

BATCH_LIMIT = 10
"""Most entries one `SendMessageBatch` or `ReceiveMessage` takes."""
BATCH_BYTES = 256 * 1024
"""Most bytes of message bodies one `SendMessageBatch` takes."""


def _audit_value(value: object, _: object) -> AuditValue:
    if value is None or isinstance(value, str | int):  # JSON gives bool and int natively
        return value
    raise TypeError(f"a message body holds strings, whole numbers and booleans, got {value!r}")


def _make_converter() -> cattrs.Converter:
    made = cattrs.Converter(detailed_validation=False)
    made.register_structure_hook_func(lambda kind: kind == AuditValue, _audit_value)
    return made


_converter = _make_converter()


def encode(message: QueueMessage) -> str:
    """The JSON body of a message."""
    return json.dumps(_converter.unstructure(message), sort_keys=True, separators=(",", ":"))


def decode(body: str) -> QueueMessage:
    """A message from its JSON body.

    Raises:
        InvariantViolation: when the body is not a message this library wrote.
    """
    try:
        return _converter.structure(json.loads(body), QueueMessage)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
        # Its size and SHA-256, never its words: the message is logged and alerted.
        raise InvariantViolation(
            describe_unreadable("not a work-queue message", body, problem_of(exc)),
            invariant="work_queue_message",
        ) from None


class SqsWorkQueue:
    """A `WorkQueue` over one SQS queue.

    `visibility` is sent as whole seconds (rounded up). A message that cannot be read
    (not JSON, or not a `QueueMessage`) makes `receive` raise `InvariantViolation`; it
    stays in the queue and the queue's redrive policy moves it to the dead-letter queue
    after its maximum receives, so a bad message is loud and never lost.
    """

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        *,
        send_attempts: int = 5,
        message_group: Callable[[QueueMessage], str] | None = None,
        wait_initial: dt.timedelta = dt.timedelta(milliseconds=100),
        wait_max: dt.timedelta = dt.timedelta(seconds=2),
    ) -> None:
        self._client = client
        self._url = queue_url
        self._fifo = queue_url.endswith(".fifo")
        self._backoff = Backoff(send_attempts, wait_initial, wait_max)
        self._group = message_group or (lambda message: message.kind)

    def send(self, messages: Sequence[QueueMessage]) -> None:
        """Enqueue every message, ten to a call.

        Raises:
            ExternalServiceError: when a message could not be sent: refused as the
                sender's fault, or still failing after the last attempt.
        """
        for batch in self._batches(messages):
            self._backoff.resend_leftovers(self._send_once, batch, exhausted=self._exhausted)

    def _batches(
        self, messages: Sequence[QueueMessage]
    ) -> Iterator[list[SendMessageBatchRequestEntryTypeDef]]:
        batch: list[SendMessageBatchRequestEntryTypeDef] = []
        size = 0
        for number, message in enumerate(messages):
            entry = self._entry(number, message)
            length = len(entry["MessageBody"].encode())
            if batch and (len(batch) == BATCH_LIMIT or size + length > BATCH_BYTES):
                yield batch
                batch, size = [], 0
            batch.append(entry)
            size += length
        if batch:
            yield batch

    def _entry(self, number: int, message: QueueMessage) -> SendMessageBatchRequestEntryTypeDef:
        entry: SendMessageBatchRequestEntryTypeDef = {
            "Id": str(number),
            "MessageBody": encode(message),
        }
        if self._fifo:
            entry["MessageDeduplicationId"] = message.deduplication_id
            entry["MessageGroupId"] = self._group(message)
        return entry

    def _exhausted(self, left: Leftover[SendMessageBatchRequestEntryTypeDef]) -> str:
        return (
            f"SQS did not take {len(left.items)} messages after {self._backoff.attempts} "
            f"attempts: {left}"
        )

    def _send_once(self, entries: list[SendMessageBatchRequestEntryTypeDef]) -> None:
        """One `SendMessageBatch`; raises `Leftover` with the entries SQS may take if sent again."""
        with _translated("SendMessageBatch"):
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
        failed = response.get("Failed", [])
        if not failed:
            return
        reasons = "; ".join(f"{f['Id']}: {f['Code']} {f.get('Message', '')}" for f in failed)
        if any(f["SenderFault"] for f in failed):
            raise ExternalServiceError(f"SQS refused messages as malformed: {reasons}")
        retry = {f["Id"] for f in failed}
        raise Leftover([entry for entry in entries if entry["Id"] in retry], reasons)

    def receive(self, *, max_messages: int, visibility: dt.timedelta) -> list[ReceivedMessage]:
        """Take up to `max_messages`, hidden from other consumers for `visibility`.

        Raises:
            InvariantViolation: when a message received is not one this library wrote.
            ExternalServiceError: when SQS could not be reached or refused the call.
        """
        seconds = max(0, math.ceil(visibility.total_seconds()))
        received: list[ReceivedMessage] = []
        while len(received) < max_messages:
            with _translated("ReceiveMessage"):
                response = self._client.receive_message(
                    QueueUrl=self._url,
                    MaxNumberOfMessages=min(BATCH_LIMIT, max_messages - len(received)),
                    VisibilityTimeout=seconds,
                    WaitTimeSeconds=0,
                    MessageSystemAttributeNames=["ApproximateReceiveCount"],
                )
            batch = response.get("Messages", [])
            if not batch:
                break
            received += [_received(message) for message in batch]
        return received

    def ack(self, received: ReceivedMessage) -> None:
        """Delete a processed message; acking twice is harmless (SQS accepts it)."""
        with _translated("DeleteMessage"):
            self._client.delete_message(QueueUrl=self._url, ReceiptHandle=received.receipt)


def _received(message: Any) -> ReceivedMessage:  # noqa: ANN401 - boto3's MessageTypeDef
    attributes = message.get("Attributes", {})
    return ReceivedMessage(
        message=decode(str(message.get("Body", ""))),
        receipt=str(message["ReceiptHandle"]),
        receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
    )


@contextmanager
def _translated(operation: str) -> Iterator[None]:
    """Botocore errors of one SQS call as `ExternalServiceError`."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ExternalServiceError(
            f"SQS {operation} failed: {error.get('Code', '')}: {error.get('Message', '')}"
        ) from exc
    except BotoCoreError as exc:
        raise ExternalServiceError(f"SQS {operation} failed: {exc}") from exc
