"""What the SQS, Kinesis and DynamoDB Streams handlers share: one batch, partial failures.

`run_batch` hands every record of an event to a handler's `RecordHandler` through
aws-lambda-powertools' `BatchProcessor` and returns its answer,
``{"batchItemFailures": [{"itemIdentifier": id}]}`` (the SQS ``messageId``, the Kinesis
or Streams sequence number), so Lambda retries only what failed. Each record ends one of
three ways, counted on the invocation as ``processed``, ``skipped`` or ``failed``:

- applied: the handler returned `Outcome.APPLIED`;
- skipped: the handler returned `Outcome.SKIPPED` (a record it does not act on), or
  raised one of the source's `permanent` errors: a refusal no retry can change (a
  business rule, a forged webhook, on a stream a record no one can read), logged and
  alerted (WARNING) and then dropped, so it never blocks what comes after it;
- failed: anything else (`ExternalServiceError`, `ConcurrencyConflict`,
  `LockNotAcquired`, on SQS a `MalformedMessage`, the unexpected), logged: Lambda
  delivers it again. On SQS a failure to contention (a lease held, a race lost) is
  delivered again after a short backoff instead of the queue's visibility timeout
  (`Source.on_contention`, `_backoff`).

Every log line and alert about a record names it: the id the partial batch response
uses (`Source.record_id`) and what the handler's `describe` adds (an SQS message's kind
and deduplication id).

On Kinesis and Streams Lambda restarts from the lowest failed sequence number, but the
processor still runs the records after a failure; so where order matters the source
gives an ordering key, and once a record of a key fails, every later record of that key
in the batch is reported failed without being applied (`KeyBlocked`).
"""

from __future__ import annotations

import base64
import contextlib
import enum
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from loc_entrypoints.lambdas._backoff import delay_redelivery, is_contention
from loc_entrypoints.lambdas._runtime import setting_at_fault

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus
    from loc_entrypoints.lambdas._runtime import Invocation, Runtime

__all__ = [
    "KINESIS",
    "SQS",
    "STREAMS",
    "KeyBlocked",
    "Malformed",
    "Outcome",
    "RecordHandler",
    "Source",
    "kinesis_data",
    "run_batch",
    "unreadable_as_malformed",
]

_log = structlog.get_logger(__name__)


class Outcome(enum.Enum):
    """What a handler did with one record it did not fail."""

    APPLIED = "applied"
    """The record's command ran."""
    SKIPPED = "skipped"
    """The record is not one this function acts on (another event, another item)."""


class Malformed(Exception):
    """A record no retry can read (bad JSON, a missing key): permanent on Kinesis and Streams."""


class KeyBlocked(Exception):
    """An earlier record of the same ordering key failed in this batch: this one waits."""

    def __init__(self, key: str) -> None:
        super().__init__(f"an earlier record of {key!r} failed in this batch")
        self.key = key


RecordHandler = Callable[["MessageBus", Mapping[str, Any]], Outcome]
"""Applies one record (as Lambda delivered it) through the bus; raises to fail it."""


def _permanent_on_streams() -> tuple[type[Exception], ...]:
    from loc_core.errors import DomainError, WebhookRejected  # noqa: PLC0415 - cold starts stay cheap

    return (DomainError, WebhookRejected, Malformed)


def _permanent_on_sqs() -> tuple[type[Exception], ...]:
    """A refused command only: a `MalformedMessage` is no `DomainError`, so it fails."""
    from loc_core.errors import DomainError  # noqa: PLC0415 - same

    return (DomainError,)


def _fixable(exc: Exception) -> bool:
    """A deployment missing an adapter or handler is fixed by redeploying: retry it.

    The bus raises exactly `InvalidConfiguration` for it (a `DomainError`, permanent
    otherwise); its subclasses are about a product's figures, which no retry changes.
    """
    from loc_core.errors import InvalidConfiguration  # noqa: PLC0415 - same

    return type(exc) is InvalidConfiguration


def _stream_item_key(record: Mapping[str, Any]) -> str:
    """The item a Streams record is about (its ``Keys``): records of one item keep order."""
    return json.dumps(record.get("dynamodb", {}).get("Keys", {}), sort_keys=True)


def _partition_key(record: Mapping[str, Any]) -> str:
    return str(record.get("kinesis", {}).get("partitionKey", ""))


def _sqs_id(record: Mapping[str, Any]) -> dict[str, str]:
    return {"message_id": str(record.get("messageId", ""))}


def _kinesis_id(record: Mapping[str, Any]) -> dict[str, str]:
    data = record.get("kinesis", {})
    return {
        "sequence_number": str(data.get("sequenceNumber", "")),
        "partition_key": str(data.get("partitionKey", "")),
    }


def _stream_id(record: Mapping[str, Any]) -> dict[str, str]:
    return {
        "sequence_number": str(record.get("dynamodb", {}).get("SequenceNumber", "")),
        "event_name": str(record.get("eventName", "")),
    }


@attrs.frozen
class Source:
    """One kind of event source: how powertools names it, what is permanent, what orders."""

    event_type: str
    """`aws_lambda_powertools.utilities.batch.EventType`'s value."""
    permanent: Callable[[], tuple[type[Exception], ...]]
    """The errors that skip a record instead of failing it (imported on first use)."""
    ordering_key: Callable[[Mapping[str, Any]], str] | None
    """The key whose records must be applied in order; None: no order between records."""
    record_id: Callable[[Mapping[str, Any]], dict[str, str]]
    """What names a record in logs and alerts, starting with the id the response uses."""
    on_contention: Callable[[MessageBus, Mapping[str, Any], Mapping[str, str]], None] | None = None
    """Called (never raising) for a record failed by contention before it is reported
    failed: on SQS, bring its redelivery forward. None: it waits as any failure does."""


SQS = Source("SQS", _permanent_on_sqs, None, _sqs_id, delay_redelivery)
"""SQS: no order; a malformed message fails, so the redrive policy moves it to the DLQ
after its maximum receives, where operations can read it. A refused command is skipped.
A message failed by contention comes back after a short backoff (`_backoff`)."""
KINESIS = Source("KinesisDataStreams", _permanent_on_streams, _partition_key, _kinesis_id)
"""Kinesis: ordered by ``partitionKey``; malformed records and refusals are skipped
(failing them would stop the shard for the record's whole retention)."""
STREAMS = Source("DynamoDBStreams", _permanent_on_streams, _stream_item_key, _stream_id)
"""DynamoDB Streams: ordered per item (``Keys``); malformed records and refusals skipped."""


def kinesis_data(record: Mapping[str, Any]) -> bytes:
    """The bytes a Kinesis record carries (``kinesis.data`` is base64).

    Raises:
        Malformed: when the data is missing or not base64.
    """
    try:
        return base64.b64decode(record["kinesis"]["data"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise Malformed(f"kinesis record without base64 data: {exc}") from exc


@contextlib.contextmanager
def unreadable_as_malformed(what: str) -> Iterator[None]:
    """Inside, an adapter's `InvariantViolation` (a record it cannot read) is `Malformed`."""
    from loc_core.errors import InvariantViolation  # noqa: PLC0415 - cold starts stay cheap

    try:
        yield
    except InvariantViolation as exc:
        raise Malformed(f"{what}: {exc}") from exc


def _count(run: Invocation, outcome: Outcome) -> None:
    """Count a record the handler finished as processed or skipped."""
    if outcome is Outcome.SKIPPED:
        run.skipped += 1
    else:
        run.processed += 1


def _record_failed(
    source: Source,
    bus: MessageBus,
    raw: Mapping[str, Any],
    exc: Exception,
    names: Mapping[str, str],
) -> None:
    """The ``record failed`` line (with the setting at fault, if any); contention's backoff."""
    setting = setting_at_fault(exc)
    at_fault = {"setting": setting} if setting else {}
    _log.warning("record failed", error=type(exc).__name__, reason=str(exc), **at_fault, **names)
    if source.on_contention is not None and is_contention(exc):
        source.on_contention(bus, raw, names)


def run_batch(
    runtime: Runtime,
    event: Mapping[str, Any],
    context: Any,  # noqa: ANN401 - Lambda passes its own context class
    *,
    source: Source,
    handle: RecordHandler,
    describe: Callable[[Mapping[str, Any]], Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """Apply every record of `event` with `handle`; the partial batch response (see module).

    `describe` adds to what names a record in logs and alerts (its `Source.record_id`);
    it must not raise, whatever the record holds.
    """
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415 - same
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    from loc_core.ports import Alert, Alerter, Severity  # noqa: PLC0415 - same

    permanent = source.permanent()

    def named(raw: Mapping[str, Any]) -> dict[str, str]:
        return {**source.record_id(raw), **(describe(raw) if describe else {})}

    with runtime.invocation(context) as run:
        if not event.get("Records"):
            # An empty batch (a test invoke, a tumbling window's end) has nothing to fail;
            # powertools would refuse it as an unknown event type and fail the invocation.
            return {"batchItemFailures": []}
        blocked: set[str] = set()

        def failed(raw: Mapping[str, Any], exc: Exception, key: str | None) -> None:
            """Log a record about to fail (Lambda delivers it again); hold back its key.

            A failure to contention has its redelivery brought forward (`on_contention`).
            """
            if key is not None:
                blocked.add(key)
            _record_failed(source, run.bus, raw, exc, named(raw))

        def record_handler(record: Any) -> None:  # noqa: ANN401 - powertools' record classes
            raw: Mapping[str, Any] = record.raw_event
            key = source.ordering_key(raw) if source.ordering_key else None
            if key is not None and key in blocked:
                raise KeyBlocked(key)
            try:
                outcome = handle(run.bus, raw)
            except permanent as exc:
                if _fixable(exc):
                    failed(raw, exc, key)
                    raise
                run.skipped += 1
                details = {**named(raw), "function": runtime.name, "error": type(exc).__name__}
                _log.warning("record refused and skipped", reason=str(exc), **details)
                refused = {**details, "reason": str(exc)}
                run.bus.get(Alerter).alert(Alert(Severity.WARNING, "Batch record refused", refused))
                return
            except Exception as exc:
                failed(raw, exc, key)
                raise
            _count(run, outcome)

        processor = BatchProcessor(
            event_type=EventType(source.event_type), raise_on_entire_batch_failure=False
        )
        response = process_partial_response(
            event=dict(event), record_handler=record_handler, processor=processor, context=context
        )
        run.failed += len(response["batchItemFailures"])
        return dict(response)
