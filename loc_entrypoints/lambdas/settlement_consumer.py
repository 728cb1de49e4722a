"""The settlement consumer (Kinesis): PayEngine's webhooks, verified, then settled.

The receiving endpoint puts each webhook on the stream as it arrived, in the envelope
``{"headers": {...}, "body": "<the raw body>"}`` (JSON, UTF-8; ``docs/payengine.md``),
with the transfer as the partition key. Each record is verified with the registered
`WebhookVerifier` and settled with `settle_webhook`. Records of one partition key are
applied in order: after a failure, the key's later records in the batch wait for the
retry. A forged, stale or malformed webhook is skipped and alerted; a duplicate is
harmless, since settlement is idempotent by the event's id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from loc_entrypoints.lambdas._batch import KINESIS, Malformed, Outcome, kinesis_data, run_batch
from loc_entrypoints.lambdas._runtime import Runtime

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["RUNTIME", "envelope", "handler", "open_envelope"]


@attrs.frozen
class _Arrival:
    """A clock stopped at a record's arrival on the stream: the verifier's "now"."""

    at: dt.datetime

    def now(self) -> dt.datetime:
        """The arrival instant."""
        return self.at


def _arrival(record: Mapping[str, Any]) -> _Arrival:
    try:
        seconds = float(record["kinesis"]["approximateArrivalTimestamp"])
        return _Arrival(dt.datetime.fromtimestamp(seconds, tz=dt.UTC))
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        # NaN, an infinity or a year out of range is no instant either.
        raise Malformed(f"kinesis record without its arrival time: {exc}") from exc


RUNTIME = Runtime("settlement_consumer")
"""This function's container state."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ANN401 - Lambda's context class
    """Handle a Kinesis batch; the partial batch response names the records to retry."""
    return run_batch(RUNTIME, event, context, source=KINESIS, handle=settle_record)


def envelope(headers: Mapping[str, str], body: bytes) -> bytes:
    """A webhook as the receiving endpoint puts it on the stream."""
    return json.dumps({"headers": dict(headers), "body": body.decode()}).encode()


def open_envelope(data: bytes) -> tuple[dict[str, str], bytes]:
    """The headers and raw body of an enveloped webhook.

    Raises:
        Malformed: the data is not an envelope. Its message says what is wrong, with the
            data's size and SHA-256 (`loc_adapters.logs.describe_unreadable`), never a
            byte of it: an envelope carries a signature and may carry account details,
            and the message is logged and alerted.
    """
    from loc_adapters.logs import describe_unreadable, problem_of  # noqa: PLC0415 - cold starts stay cheap

    def malformed(problem: str) -> Malformed:
        return Malformed(describe_unreadable("not a webhook envelope", data, problem))

    try:
        parsed = json.loads(data)
    except (ValueError, TypeError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than the parser goes is no envelope either.
        raise malformed(problem_of(exc)) from None
    if not isinstance(parsed, dict):
        raise malformed(f"JSON {_json_type(parsed)}, not an object")
    missing = [name for name in ("headers", "body") if name not in parsed]
    if missing:
        raise malformed(f"no {' and no '.join(missing)} field")
    headers, body = parsed["headers"], parsed["body"]
    if not isinstance(headers, dict):
        raise malformed(f"headers is JSON {_json_type(headers)}, not an object")
    if not isinstance(body, str):
        raise malformed(f"body is JSON {_json_type(body)}, not a string")
    try:
        # A JSON escape can spell a lone surrogate, which no received body held.
        opened = {str(name): str(value) for name, value in headers.items()}
        for text in (*opened, *opened.values()):
            text.encode()
        return opened, body.encode()
    except UnicodeEncodeError as exc:
        raise malformed(problem_of(exc)) from None


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type (``array``, ``string``, ...)."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def settle_record(bus: MessageBus, record: Mapping[str, Any]) -> Outcome:
    """Verify one record's webhook (as of its arrival) and settle it.

    Raises:
        Malformed: the record is not an enveloped webhook.
        WebhookRejected: the webhook failed verification (alerted by `settle_webhook`).
    """
    from loc_adapters.payengine import WebhookVerifier, settle_webhook  # noqa: PLC0415 - cold starts stay cheap

    headers, body = open_envelope(kinesis_data(record))
    verifier = attrs.evolve(bus.get(WebhookVerifier), clock=_arrival(record))
    settle_webhook(bus, verifier, headers, body)
    return Outcome.APPLIED
