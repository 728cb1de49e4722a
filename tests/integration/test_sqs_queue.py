"""The SQS work queue passes the queue contract on moto, where visibility takes real time."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from contracts.queue import QueueContract, message
from integration.support import CallLog

from loc_adapters.sqs import SqsWorkQueue
from loc_core.errors import InvariantViolation
from loc_core.ports import WorkQueue

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def advance() -> Callable[[dt.timedelta], None]:
    """SQS keeps time itself: wait it out (the contract's visibility is one second)."""

    def wait(delta: dt.timedelta) -> None:
        time.sleep(delta.total_seconds())

    return wait


class TestSqsWorkQueue(QueueContract):
    @pytest.fixture
    def queue(self, sqs: SQSClient, queue_url: str) -> WorkQueue:
        return SqsWorkQueue(sqs, queue_url)


@pytest.fixture
def fifo_url(sqs: SQSClient) -> Iterator[str]:
    url = sqs.create_queue(
        QueueName=f"q-{uuid.uuid4().hex[:12]}.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def test_sends_go_ten_to_a_call_and_bodies_are_versioned_json(
    sqs: SQSClient, queue_url: str, calls: CallLog
) -> None:
    queue = SqsWorkQueue(sqs, queue_url)
    queue.send([message(n) for n in range(1, 26)])
    assert calls.count("SendMessageBatch") == 3
    raw = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)["Messages"][0]
    assert json.loads(raw["Body"]) == {
        "kind": "collect_installment",
        "body": {"installment_id": "inst-1", "amount": 100},
        "deduplication_id": "inst-1:2026-01-05",
        "version": 1,
    }


def test_a_fifo_queue_drops_a_repeated_send_of_the_same_work(sqs: SQSClient, fifo_url: str) -> None:
    queue = SqsWorkQueue(sqs, fifo_url)
    queue.send([message(1), message(2)])
    queue.send([message(1)])  # the job ran twice: the same deduplication id
    received = queue.receive(max_messages=10, visibility=SECOND)
    assert [r.message for r in received] == [message(1), message(2)]


def test_a_message_this_library_did_not_write_is_refused_loudly(
    sqs: SQSClient, queue_url: str
) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="not json")
    with pytest.raises(InvariantViolation, match="not a work-queue message"):
        SqsWorkQueue(sqs, queue_url).receive(max_messages=1, visibility=SECOND)
