"""The batch logic every event-source handler shares, on the in-memory deployment.

What a record's failure, refusal or skip does to the partial batch response, to the
records after it and to the invocation's counts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from deployment import Deployment
from lambda_events import batch, kinesis_ids, kinesis_record, sqs_ids, sqs_record

from loc_adapters.sqs import encode
from loc_core.errors import ConcurrencyConflict, InvalidConfiguration, InvalidRequest
from loc_core.ports import Severity
from loc_core.services.messagebus import MessageBus
from loc_entrypoints.lambdas import collections_worker
from loc_entrypoints.lambdas._batch import KINESIS, SQS, Malformed, Outcome, run_batch
from loc_entrypoints.lambdas._runtime import Runtime

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")


def runtime(world: Deployment) -> Runtime:
    made = Runtime("test_batch")
    made.use(world.bus)
    return made


def counted(world: Deployment, what: str) -> int:
    return world.metrics.count(f"loc.lambda.{what}")


def record(key: str, action: str) -> dict[str, Any]:
    return kinesis_record(json.dumps({"action": action}).encode(), partition_key=key)


def test_a_failed_record_holds_back_the_later_records_of_its_key_only() -> None:
    world = Deployment.build()
    applied: list[str] = []

    def handle(_bus: MessageBus, raw: Mapping[str, Any]) -> Outcome:
        action = json.loads(base64.b64decode(raw["kinesis"]["data"]))["action"]
        if action == "conflict":
            raise ConcurrencyConflict("stale")
        applied.append(action)
        return Outcome.APPLIED

    first, failing, held, other = (
        record("loan-1", "a"),
        record("loan-1", "conflict"),
        record("loan-1", "b"),
        record("loan-2", "c"),
    )
    answer = run_batch(
        runtime(world), batch(first, failing, held, other), None, source=KINESIS, handle=handle
    )
    assert answer == {"batchItemFailures": kinesis_ids(failing, held)}
    assert applied == ["a", "c"]  # "b" waits behind the failure of its key
    assert (counted(world, "processed"), counted(world, "failed")) == (2, 2)


@pytest.mark.parametrize(
    "refusal", [InvalidRequest("no such field", key="x"), Malformed("not JSON")]
)
def test_a_permanent_refusal_on_a_stream_is_skipped_and_alerted_and_blocks_nothing(
    refusal: Exception,
) -> None:
    world = Deployment.build()
    applied: list[str] = []

    def handle(_bus: MessageBus, raw: Mapping[str, Any]) -> Outcome:
        if raw is refused:
            raise refusal
        applied.append(raw["kinesis"]["sequenceNumber"])
        return Outcome.APPLIED

    refused, after = record("loan-1", "a"), record("loan-1", "b")
    answer = run_batch(runtime(world), batch(refused, after), None, source=KINESIS, handle=handle)
    assert answer == {"batchItemFailures": []}
    assert applied == [after["kinesis"]["sequenceNumber"]]
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.details["error"] == type(refusal).__name__
    assert (counted(world, "skipped"), counted(world, "processed")) == (1, 1)


def test_a_missing_adapter_fails_the_record_since_a_redeploy_fixes_it() -> None:
    world = Deployment.build()

    def handle(_bus: MessageBus, _raw: Mapping[str, Any]) -> Outcome:
        raise InvalidConfiguration("no adapter is registered for WebhookVerifier")

    only = record("loan-1", "a")
    answer = run_batch(runtime(world), batch(only), None, source=KINESIS, handle=handle)
    assert answer == {"batchItemFailures": kinesis_ids(only)}  # the whole batch, not raised
    assert world.alerts() == []


def test_the_worker_fails_an_unreadable_message_for_the_dlq_and_handles_the_rest() -> None:
    world = Deployment.build()
    loan, message = world.due_collection()
    good, poison = sqs_record(encode(message)), sqs_record("{not json")
    collections_worker.RUNTIME.use(world.bus)
    answer = collections_worker.handler(batch(poison, good), None)
    assert answer == {"batchItemFailures": sqs_ids(poison)}
    (payment,) = world.loan(loan.loan_id).payments.values()
    assert payment.amount == loan.installments[0].total_amount
    assert SQS.ordering_key is None
