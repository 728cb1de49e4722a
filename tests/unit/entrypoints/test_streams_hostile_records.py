"""The stream consumers fed what no producer should write: each poison record is skipped.

A record no retry can read is dropped and alerted ("Batch record refused"), never
failed: failing it would bring it back until it expires and hold back every later record
of its key (the transfer, the item) behind it. The genuine records around it apply, and
an empty batch answers that nothing failed. One exception: an offer's TTL image that is
attribute values but not an application this release reads fails (its last copy).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from deployment import Deployment
from lambda_events import TTL_IDENTITY, batch, kinesis_record, stream_record

from loc_adapters.dynamodb import _codecs as codecs
from loc_adapters.dynamodb import expired_item
from loc_adapters.dynamodb._table import serialize
from loc_core.errors import InvariantViolation
from loc_core.installment import Loan
from loc_core.payments import Direction, PaymentStatus
from loc_core.ports import SettlementEvent, Severity
from loc_entrypoints.lambdas import settlement_consumer, table_stream

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")
payengine = pytest.importorskip("loc_adapters.payengine", reason="the payengine extra")

SECRET = b"whsec-hostile"


@pytest.fixture
def world() -> Deployment:
    """The in-memory deployment, verifying webhooks with `SECRET`, the consumers on it."""
    built = Deployment.build()
    verifying = built.using(
        payengine.WebhookVerifier, payengine.WebhookVerifier(SECRET, built.clock)
    )
    for module in (settlement_consumer, table_stream):
        module.RUNTIME.use(verifying.bus)
    return verifying


def refused(world: Deployment) -> list[str]:
    """The sequence numbers of the records refused and dropped, in order."""
    return [
        str(alert.details["sequence_number"])
        for alert in world.alerts(Severity.WARNING)
        if alert.title == "Batch record refused"
    ]


# --- Kinesis: the settlement consumer -------------------------------------------------


def paid_loan(world: Deployment) -> tuple[Loan, str, SettlementEvent]:
    """A loan with a pinless payment, and the rail's completion of it a week later."""
    loan = world.open_loan()
    world.settle_due()
    payment_id = world.pay_loan(loan, 5_000).payment_id
    world.clock.advance(dt.timedelta(days=7))
    (completion,) = world.sim.due_events()
    return loan, payment_id, completion


def enveloped(world: Deployment, body: bytes) -> bytes:
    stamp, signature = payengine.contract.sign(SECRET, world.clock.now(), body)
    headers = {
        payengine.contract.HEADER_TIMESTAMP: stamp,
        payengine.contract.HEADER_SIGNATURE: signature,
    }
    return settlement_consumer.envelope(headers, body)


def on_stream(world: Deployment, data: bytes, key: str) -> dict[str, Any]:
    return kinesis_record(data, partition_key=key, arrived_at=world.clock.now())


def webhook_record(world: Deployment, event: SettlementEvent) -> dict[str, Any]:
    body = json.dumps(payengine.contract.webhook_body(event, Direction.DEBIT)).encode()
    return on_stream(world, enveloped(world, body), event.idempotency_key)


def lone_surrogate(world: Deployment, genuine: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps({"headers": {}, "body": "\ud800"}).encode()  # json escapes it
    return on_stream(world, data, genuine["kinesis"]["partitionKey"])


def nested_too_deep(world: Deployment, genuine: dict[str, Any]) -> dict[str, Any]:
    return on_stream(world, b"[" * 200_000, genuine["kinesis"]["partitionKey"])


def arrived_at_nan(world: Deployment, genuine: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps({"headers": {}, "body": "{}"}).encode()
    poison = on_stream(world, data, genuine["kinesis"]["partitionKey"])
    poison["kinesis"]["approximateArrivalTimestamp"] = "NaN"
    return poison


@pytest.mark.parametrize("poison", [lone_surrogate, nested_too_deep, arrived_at_nan])
def test_an_unreadable_kinesis_record_is_dropped_and_the_transfers_completion_behind_it_applies(
    world: Deployment, poison: Callable[[Deployment, dict[str, Any]], dict[str, Any]]
) -> None:
    loan, payment_id, completion = paid_loan(world)
    genuine = webhook_record(world, completion)
    bad = poison(world, genuine)
    answer = settlement_consumer.handler(batch(bad, genuine), None)
    assert answer == {"batchItemFailures": []}
    assert world.loan(loan.loan_id).payments[payment_id].status is PaymentStatus.COMPLETED
    assert refused(world) == [bad["kinesis"]["sequenceNumber"]]
    assert world.alerts(Severity.CRITICAL) == []


# --- every consumer: an empty batch ----------------------------------------------------


@pytest.mark.parametrize("module", [settlement_consumer, table_stream])
@pytest.mark.parametrize(
    "event", [pytest.param({"Records": []}, id="no records"), pytest.param({}, id="no Records key")]
)
def test_an_empty_batch_fails_nothing(
    world: Deployment, module: Any, event: dict[str, Any]
) -> None:
    assert module.handler(event, None) == {"batchItemFailures": []}
    assert world.alerts() == []


# --- DynamoDB Streams ------------------------------------------------------------------


def loan_item(loan: Loan, outstanding: int) -> dict[str, Any]:
    """A loan's item, as far as the balance worker reads it, in attribute-value form."""
    return {
        "PK": {"S": f"USER#{loan.user_id}"},
        "SK": {"S": f"LOAN#{loan.loan_id}"},
        "loc_user_id": {"S": loan.user_id},
        "loc_loan_id": {"S": loan.loan_id},
        "loc_outstanding_balance": {"N": str(outstanding)},
    }


NOT_ATTRIBUTE_VALUES: list[Any] = [
    {"Q": "1"},  # no such type tag
    "plain",  # not a tagged value at all
    {"N": "1e400"},  # beyond DynamoDB's numbers
    {},
]


@pytest.mark.parametrize("value", NOT_ATTRIBUTE_VALUES)
def test_a_loan_image_that_is_not_attribute_values_is_dropped_and_the_items_next_change_checked(
    world: Deployment, value: Any
) -> None:
    loan = world.open_loan()
    before, after = loan_item(loan, 31_500), loan_item(loan, 26_500)
    keys = {"PK": before["PK"], "SK": before["SK"]}
    bad = stream_record("MODIFY", keys=keys, old=before, new={**after, "loc_extra": value})
    good = stream_record("MODIFY", keys=keys, old=before, new=after)
    answer = table_stream.handler(batch(bad, good), None)
    assert answer == {"batchItemFailures": []}
    assert refused(world) == [bad["dynamodb"]["SequenceNumber"]]
    assert world.metrics.count("loc.lambda.processed") == 1  # the good one was reconciled


@pytest.mark.parametrize("value", NOT_ATTRIBUTE_VALUES)
def test_a_ttl_removal_whose_old_image_is_not_attribute_values_is_dropped(
    world: Deployment, value: Any
) -> None:
    keys = {"PK": {"S": "USER#user-1"}, "SK": {"S": "LOANAPP#app-1"}}
    old = {**keys, "loc_user_id": {"S": "user-1"}, "loc_extra": value}
    bad = stream_record("REMOVE", keys=keys, old=old, user_identity=TTL_IDENTITY)
    assert table_stream.handler(batch(bad), None) == {"batchItemFailures": []}
    assert refused(world) == [bad["dynamodb"]["SequenceNumber"]]


@pytest.mark.parametrize("value", NOT_ATTRIBUTE_VALUES)
def test_an_audit_insert_that_is_not_attribute_values_is_dropped(
    world: Deployment, value: Any
) -> None:
    keys = {"PK": {"S": "AUDIT#loan#loan-1"}, "SK": {"S": "RECORD#1"}}
    bad = stream_record("INSERT", keys=keys, new={**keys, "loc_extra": value})
    assert table_stream.handler(batch(bad), None) == {"batchItemFailures": []}
    assert refused(world) == [bad["dynamodb"]["SequenceNumber"]]


def test_a_ttl_removal_of_an_offer_this_release_cannot_read_fails_rather_than_is_dropped(
    world: Deployment,
) -> None:
    """The TTL took the item: the image is the offer's last copy. A newer release's value
    (here a status this one does not know) fails the record, so a retry by the newer
    release, or the dead-letter queue's replay, writes it back; a skip would lose it."""
    world.users.add("user-1")
    offer = world.apply_line()
    old = serialize({**codecs.encode_line_application(offer), "loc_status": "COUNTEROFFERED"})
    keys = {"PK": old["PK"], "SK": old["SK"]}
    record = stream_record("REMOVE", keys=keys, old=old, user_identity=TTL_IDENTITY)
    with pytest.raises(InvariantViolation, match="loc_status"):  # named, never coerced
        expired_item(record)
    sequence_number = record["dynamodb"]["SequenceNumber"]
    answer = table_stream.handler(batch(record), None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
    assert refused(world) == []
