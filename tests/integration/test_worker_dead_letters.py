"""On SQS (moto), a malformed message ends in the dead-letter queue, as it was sent.

The collections worker's handler runs as Lambda's event source mapping would run it:
each receive becomes a batch of records, the messages not reported failed are deleted,
and the failed ones come back until the queue's redrive policy moves them to the
dead-letter queue, where operations read them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from deployment import Deployment
from lambda_events import batch

from loc_adapters.sqs import SqsWorkQueue, encode
from loc_entrypoints.lambdas import collections_worker

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

MAX_RECEIVES = 5
"""The redrive policy of ``template.yaml``'s collections queue."""


@pytest.fixture
def queues(sqs: SQSClient) -> Iterator[tuple[str, str]]:
    """The collections queue and its dead-letter queue, as the template wires them."""
    name = f"q-{uuid.uuid4().hex[:12]}"
    dead = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES})
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    yield url, dead
    for made in (url, dead):
        sqs.delete_queue(QueueUrl=made)


def lambda_polls(sqs: SQSClient, url: str) -> int:
    """One poll of the event source mapping: the worker's batch, then its deletes."""
    polled = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    if not polled:
        return 0  # Lambda invokes no function for an empty poll
    records: list[dict[str, Any]] = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "eventSource": "aws:sqs",
        }
        for message in polled
    ]
    answer = collections_worker.handler(batch(*records), None)
    failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
    for record in records:
        if record["messageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    return len(records)


def test_a_malformed_message_waits_in_the_dead_letter_queue_as_sent(
    sqs: SQSClient, queues: tuple[str, str]
) -> None:
    url, dead = queues
    world = Deployment.build()
    collections_worker.RUNTIME.use(world.bus)
    loan, good = world.due_collection()
    malformed = encode(good).replace('"due_date":"2026-01-20"', '"due_date":"2026-13-45"')
    assert malformed != encode(good)
    SqsWorkQueue(sqs, url).send([good])
    sqs.send_message(QueueUrl=url, MessageBody=malformed)

    polls = 0
    while lambda_polls(sqs, url):
        polls += 1
        assert polls <= MAX_RECEIVES + 1

    (kept,) = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10)["Messages"]
    assert kept["Body"] == malformed
    assert len(world.loan(loan.loan_id).payments) == 1  # the good message, once
    assert len(world.alerts()) == 1  # the malformed one, on its first receive
