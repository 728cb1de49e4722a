"""Scheduled runs an unlucky operator meets: a queue outage mid-job, a broken setting.

- The collections job's queue is down (a real `SqsWorkQueue` on a port nothing listens
  on): the invocation fails, so Lambda retries it, and operations are told (CRITICAL,
  with the date and the rerun command); before, nothing was alerted. The retry, and a
  repeat of it, collect each installment once.
- A refused event (a date after today) is alerted too (WARNING): the job did not run.
- ``loc job run`` with a setting a client library refuses (an empty ``LOC_REGION``): one
  line and exit 1, not a traceback.
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from click.testing import CliRunner
from deployment import Deployment
from lambda_events import batch, sqs_record
from scheduled_events import scheduled_event

from loc_adapters.sqs import SqsWorkQueue, encode
from loc_core.errors import ExternalServiceError, InvalidRequest
from loc_core.ports import Severity, WorkQueue
from loc_entrypoints.cli import main
from loc_entrypoints.lambdas import collections_job, collections_worker, overdue_job

boto3 = pytest.importorskip("boto3", reason="the aws extra is not installed")
pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

VISIBLE = dt.timedelta(minutes=5)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unreachable_queue() -> SqsWorkQueue:
    """The SQS adapter on an endpoint that refuses connections: an outage."""
    from botocore.config import Config  # noqa: PLC0415 - with the aws extra only

    endpoint = f"http://127.0.0.1:{closed_port()}"
    client = boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - moto-style dummy credentials
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    return SqsWorkQueue(client, f"{endpoint}/123456789012/collections", send_attempts=1)


def worker_drains(world: Deployment) -> None:
    collections_worker.RUNTIME.use(world.bus)
    while received := world.queue.receive(max_messages=10, visibility=VISIBLE):
        records = [sqs_record(encode(delivery.message)) for delivery in received]
        assert collections_worker.handler(batch(*records), None) == {"batchItemFailures": []}
        for delivery in received:
            world.queue.ack(delivery)


def test_a_queue_outage_fails_the_collections_run_alerted_and_the_retry_collects_once() -> None:
    world = Deployment.build()
    loan = world.open_loan()  # autopay on: the collection charges
    world.settle_due()
    due = world.at(loan.installments[0].due_date)
    event = scheduled_event(dt.datetime.combine(due, dt.time(15), tzinfo=dt.UTC))

    collections_job.RUNTIME.use(world.using(WorkQueue, unreachable_queue()).bus)
    with pytest.raises(ExternalServiceError):
        collections_job.handler(event, None)
    (alert,) = world.alerter.posted
    assert (alert.severity, alert.title) == (
        Severity.CRITICAL,
        "Scheduled job failed: collections_job",
    )
    assert alert.details["business_date"] == due.isoformat()
    assert alert.details["rerun"] == f"loc job run collections_job --date {due.isoformat()}"

    collections_job.RUNTIME.use(world.bus)  # Lambda's retry, the queue back
    assert collections_job.handler(event, None)["processed"] == 1
    assert collections_job.handler(event, None)["processed"] == 1  # retried once more
    worker_drains(world)
    paid = world.loan(loan.loan_id)
    assert len(paid.payments) == 1
    assert paid.installments[0].status.value != "SCHEDULED"


def test_a_refused_scheduled_event_is_alerted_as_a_warning() -> None:
    world = Deployment.build()
    overdue_job.RUNTIME.use(world.bus)
    tomorrow = world.clock.now() + dt.timedelta(days=1)
    with pytest.raises(InvalidRequest):
        overdue_job.handler(scheduled_event(tomorrow), None)
    (alert,) = world.alerter.posted
    assert (alert.severity, alert.title) == (Severity.WARNING, "Scheduled job failed: overdue_job")
    assert "after the business date" in str(alert.details["reason"])


def test_loc_job_run_with_a_setting_the_aws_client_refuses_prints_one_line() -> None:
    env = {
        "LOC_BACKEND": "dynamodb",
        "LOC_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/collections",
        "LOC_REGION": "",
    }
    result = CliRunner().invoke(main, ["job", "run", "collections_job"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot build the deployment: ")
    assert "LOC_REGION" in result.output or "endpoint" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
