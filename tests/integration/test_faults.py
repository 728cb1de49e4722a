"""Paths moto cannot produce, by fault injection: unprocessed batch items, failed queue
entries, throttling, unreachable services."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import ANY, Stubber
from integration.support import CallLog, aws_session

from loc_adapters.dynamodb import DynamoTable, DynamoUnitOfWork
from loc_adapters.dynamodb._table import serialize
from loc_adapters.memory import ManualClock
from loc_adapters.sqs import SqsWorkQueue
from loc_core.errors import ExternalServiceError
from loc_core.ports import QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

NOWHERE = "http://127.0.0.1:9"  # never reached: the stubber answers every call


def items(count: int) -> list[dict[str, Any]]:
    return [{"PK": "BACKFILL", "SK": f"ITEM#{n:03d}", "loc_n": n} for n in range(count)]


def put(item: dict[str, Any]) -> dict[str, Any]:
    return {"PutRequest": {"Item": serialize(item)}}


@pytest.fixture
def stubbed_table() -> tuple[DynamoTable, Stubber]:
    client: DynamoDBClient = aws_session().client("dynamodb", endpoint_url=NOWHERE)
    return DynamoTable(client, "test-loc-service", batch_attempts=4), Stubber(client)


def test_batches_hold_at_most_25_items(table: DynamoTable, calls: CallLog) -> None:
    table.batch_put(items(60))
    assert calls.count("BatchWriteItem") == 3
    found = list(table.query("#PK = :pk", {":pk": "BACKFILL"}))
    assert len(found) == 60


def test_unprocessed_items_are_retried_until_written(
    stubbed_table: tuple[DynamoTable, Stubber],
) -> None:
    table, stubber = stubbed_table
    batch = items(3)
    left = {"test-loc-service": [put(batch[2])]}
    stubber.add_response(
        "batch_write_item",
        {"UnprocessedItems": left},
        {"RequestItems": {"test-loc-service": [put(i) for i in batch]}},
    )
    stubber.add_response("batch_write_item", {"UnprocessedItems": left}, {"RequestItems": left})
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": left})
    with stubber:
        table.batch_put(batch)
        stubber.assert_no_pending_responses()


def test_items_still_unprocessed_after_the_last_attempt_fail_loudly(
    stubbed_table: tuple[DynamoTable, Stubber],
) -> None:
    table, stubber = stubbed_table
    left = {"test-loc-service": [put(items(1)[0])]}
    for _ in range(4):
        stubber.add_response("batch_write_item", {"UnprocessedItems": left})
    with stubber, pytest.raises(ExternalServiceError, match="1 of 1 items unprocessed after 4"):
        table.batch_put(items(1))


def test_throttling_and_an_unreachable_table_are_external_failures(
    stubbed_table: tuple[DynamoTable, Stubber], clock: ManualClock
) -> None:
    table, stubber = stubbed_table
    stubber.add_client_error("query", service_error_code="ProvisionedThroughputExceededException")
    stubber.add_client_error("get_item", service_error_code="ResourceNotFoundException")
    with stubber, DynamoUnitOfWork(table, clock=clock) as uow:
        with pytest.raises(ExternalServiceError, match="Query failed: ProvisionedThroughput"):
            uow.loans.get("user-1", "loan-1")
        with pytest.raises(ExternalServiceError, match="GetItem failed: ResourceNotFound"):
            uow.loan_applications.get("user-1", "app-1")


def test_a_refused_connection_is_an_external_failure(clock: ManualClock) -> None:
    from botocore.config import Config  # noqa: PLC0415 - only this test needs a one-shot client

    client = aws_session().client(
        "dynamodb", endpoint_url=NOWHERE, config=Config(retries={"max_attempts": 0}, proxies={})
    )
    with (
        DynamoUnitOfWork(DynamoTable(client, "t"), clock=clock) as uow,
        pytest.raises(ExternalServiceError, match="Could not connect"),
    ):
        uow.loans.get("user-1", "loan-1")


# --- the queue -----------------------------------------------------------------------


def message(number: int) -> QueueMessage:
    return QueueMessage("collect_installment", {"n": number}, f"dedup-{number}")


@pytest.fixture
def stubbed_queue() -> tuple[SqsWorkQueue, Stubber]:
    client: SQSClient = aws_session().client("sqs", endpoint_url=NOWHERE)
    return SqsWorkQueue(client, "https://sqs.local/123/q", send_attempts=3), Stubber(client)


def failed(entry_id: str, *, sender: bool = False) -> dict[str, Any]:
    return {"Id": entry_id, "SenderFault": sender, "Code": "InternalError", "Message": "try again"}


def sent(*ids: str) -> list[dict[str, str]]:
    return [{"Id": i, "MessageId": f"m-{i}", "MD5OfMessageBody": "x"} for i in ids]


def test_entries_sqs_failed_are_sent_again(stubbed_queue: tuple[SqsWorkQueue, Stubber]) -> None:
    queue, stubber = stubbed_queue
    stubber.add_response(
        "send_message_batch", {"Successful": sent("0", "2"), "Failed": [failed("1")]}
    )
    stubber.add_response(
        "send_message_batch",
        {"Successful": sent("1"), "Failed": []},
        {"QueueUrl": ANY, "Entries": [{"Id": "1", "MessageBody": ANY}]},
    )
    with stubber:
        queue.send([message(n) for n in range(3)])
        stubber.assert_no_pending_responses()


def test_entries_that_keep_failing_raise_after_the_last_attempt(
    stubbed_queue: tuple[SqsWorkQueue, Stubber],
) -> None:
    queue, stubber = stubbed_queue
    for _ in range(3):
        stubber.add_response("send_message_batch", {"Successful": [], "Failed": [failed("0")]})
    with stubber, pytest.raises(ExternalServiceError, match="did not take 1 messages after 3"):
        queue.send([message(0)])


def test_an_entry_refused_as_the_senders_fault_is_not_retried(
    stubbed_queue: tuple[SqsWorkQueue, Stubber],
) -> None:
    queue, stubber = stubbed_queue
    stubber.add_response(
        "send_message_batch", {"Successful": [], "Failed": [failed("0", sender=True)]}
    )
    with stubber, pytest.raises(ExternalServiceError, match="refused messages as malformed"):
        queue.send([message(0)])
    stubber.assert_no_pending_responses()


def test_an_unreachable_queue_is_an_external_failure(
    stubbed_queue: tuple[SqsWorkQueue, Stubber],
) -> None:
    queue, stubber = stubbed_queue
    stubber.add_client_error("receive_message", service_error_code="AWS.SimpleQueueService.Down")
    with stubber, pytest.raises(ExternalServiceError, match="ReceiveMessage failed"):
        queue.receive(max_messages=1, visibility=dt.timedelta(seconds=1))
