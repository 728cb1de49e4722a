"""On SQS (moto), a message that met a held lease comes back in seconds and books once.

The collections worker's handler runs as Lambda's event source mapping runs it: a poll
takes messages with the queue's own visibility timeout (1,800 s, as ``template.yaml``
sets it), the messages not reported failed are deleted. A message failed on contention
has its visibility shortened by the handler, so it is polled again after its short
backoff; any other failure keeps the queue's timeout.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from deployment import Deployment
from lambda_events import batch, sqs_record
from structlog.testing import capture_logs

from loc_adapters.sqs import SqsVisibility, SqsWorkQueue, encode
from loc_core.ports import MessageVisibility
from loc_core.services.loans.payments import PAYMENT_LEASE, payment_lease_key
from loc_entrypoints.lambdas import _backoff, collections_worker
from loc_entrypoints.lambdas._backoff import MAX_RECEIVES, QUEUE_VISIBILITY_TIMEOUT

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from loc_core.installment.loan import Loan
    from loc_core.ports import Lease, QueueMessage

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

COMES_BACK_WITHIN = 60
"""Seconds the test waits for a redelivery: far above the first backoff (at most 7 s),
far below the 1,800 s a message waits without it."""


@pytest.fixture
def queue(sqs: SQSClient) -> Iterator[tuple[str, str]]:
    """The collections queue as the template makes it: its URL and ARN."""
    name = f"q-{uuid.uuid4().hex[:12]}"
    dead = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dead_arn = arn_of(sqs, dead)
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(int(QUEUE_VISIBILITY_TIMEOUT.total_seconds())),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_arn, "maxReceiveCount": MAX_RECEIVES}
            ),
        },
    )["QueueUrl"]
    yield url, arn_of(sqs, url)
    for made in (url, dead):
        sqs.delete_queue(QueueUrl=made)


def arn_of(sqs: SQSClient, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def on_sqs(sqs: SQSClient, moto_endpoint: str) -> Deployment:
    """A deployment whose worker shortens visibilities on the moto server."""
    visibility: MessageVisibility = SqsVisibility(lambda: sqs, endpoint_url=moto_endpoint)
    world = Deployment.build(overrides={MessageVisibility: visibility})
    collections_worker.RUNTIME.use(world.bus)
    return world


def payment_in_flight(world: Deployment, loan: Loan) -> Lease:
    """The loan's payment lease, held as a payment another process is making holds it."""
    return world.lock.acquire(
        payment_lease_key(loan.user_id, loan.loan_id),
        owner="a payment in flight",
        ttl=PAYMENT_LEASE,
    )


def lambda_polls(sqs: SQSClient, url: str, arn: str, *, wait: int = 0) -> list[dict[str, Any]]:
    """One poll of the event source mapping: the worker's batch, then its deletes.

    Returns the records polled, each with ``failed`` set as the answer reported it.
    """
    polled = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    if not polled:
        return []
    records = [
        {
            **sqs_record(message["Body"]),
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "attributes": message.get("Attributes", {}),
            "eventSourceARN": arn,
        }
        for message in polled
    ]
    answer = collections_worker.handler(batch(*records), None)
    failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
    for record in records:
        record["failed"] = record["messageId"] in failed
        if not record["failed"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    return records


def polled_again(sqs: SQSClient, url: str, arn: str) -> list[dict[str, Any]]:
    """The next poll that finds anything, long-polling up to `COMES_BACK_WITHIN` seconds."""
    deadline = time.monotonic() + COMES_BACK_WITHIN
    while time.monotonic() < deadline:
        records = lambda_polls(sqs, url, arn, wait=5)
        if records:
            return records
    return []


def hidden(sqs: SQSClient, url: str) -> tuple[int, int]:
    """How many messages SQS holds visible and in flight (hidden)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


@pytest.fixture
def due(sqs: SQSClient, moto_endpoint: str) -> tuple[Deployment, Loan, QueueMessage]:
    """A deployment on the moto server, a loan due today and its collection message."""
    world = on_sqs(sqs, moto_endpoint)
    return (world, *world.due_collection())


def test_a_message_failed_on_a_held_lease_comes_back_in_seconds_and_books_once(
    sqs: SQSClient,
    queue: tuple[str, str],
    due: tuple[Deployment, Loan, QueueMessage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (url, arn), (world, loan, message) = queue, due
    # the schedule's own first wait is 5 s (tested in its unit tests); here 1 s is as good
    monkeypatch.setattr(_backoff, "CONTENTION_FIRST", dt.timedelta(seconds=1))
    held = payment_in_flight(world, loan)
    SqsWorkQueue(sqs, url).send([message])
    sqs.send_message(QueueUrl=url, MessageBody="{not a message")  # fails for good

    first = lambda_polls(sqs, url, arn)
    assert [record["failed"] for record in first] == [True, True]
    assert world.loan(loan.loan_id).payments == {}
    world.lock.release(held)

    (again,) = polled_again(sqs, url, arn)  # not at the queue's 1,800 s: in seconds
    assert again["body"] == encode(message)
    assert again["attributes"]["ApproximateReceiveCount"] == "2"
    assert not again["failed"]
    (payment,) = world.loan(loan.loan_id).payments.values()
    assert payment.amount == loan.installments[0].total_amount
    # the malformed message keeps the queue's timeout: still hidden, on its way to the DLQ
    assert hidden(sqs, url) == (0, 1)


def test_a_message_delivered_twice_books_once(
    sqs: SQSClient, queue: tuple[str, str], due: tuple[Deployment, Loan, QueueMessage]
) -> None:
    (url, arn), (world, loan, message) = queue, due
    SqsWorkQueue(sqs, url).send([message, message])  # a producer's retry: two copies

    records = lambda_polls(sqs, url, arn)
    assert [record["failed"] for record in records] == [False, False]
    (payment,) = world.loan(loan.loan_id).payments.values()
    assert payment.amount == loan.installments[0].total_amount
    assert hidden(sqs, url) == (0, 0)


def test_a_failed_visibility_change_still_retries_the_message_at_the_timeout(
    sqs: SQSClient, moto_endpoint: str
) -> None:
    world = on_sqs(sqs, moto_endpoint)
    loan, message = world.due_collection()
    payment_in_flight(world, loan)
    gone = sqs_record(encode(message), queue_name=f"deleted-{uuid.uuid4().hex[:8]}")
    with capture_logs() as lines:
        answer = collections_worker.handler(batch(gone), None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": gone["messageId"]}]}
    (warning,) = [line for line in lines if line["event"].startswith("redelivery not brought")]
    assert warning["message_id"] == gone["messageId"]
    assert warning["visibility_timeout_s"] == QUEUE_VISIBILITY_TIMEOUT.total_seconds()
    assert world.loan(loan.loan_id).payments == {}
