"""A paged run's hand-on message with a cursor its job never gave: it fails, never drops.

A ``job_page`` / ``reconcile_page`` message carries the rest of a run. One whose cursor
is not its job's (text no job wrote, another job's cursor, a listing's place the storage
refuses) used to run from the wrong place (a line job then silently skipped every line
sorting before it) or be skipped as a business refusal (the rest of the run dropped).
Now it is refused where it is written and read, fails its record (alerted on its first
receive) and waits in the dead-letter queue with its cursor, and nothing is billed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from deployment import LINES_OPENED, Deployment
from lambda_events import batch, sqs_record

from loc_adapters.sqs import encode
from loc_core.errors import InvalidRequest
from loc_core.ports import QueueMessage
from loc_core.services.commands import BillClosedCycles, EnqueueReconciliations, RunJobPage
from loc_entrypoints.lambdas import collections_worker

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

CLOSE = dt.date(2026, 4, 5)
"""The lines' first cycle closes: a billing page bills them."""
MALFORMED_TITLE = "Queue message malformed: it fails until it is in the dead-letter queue"


@pytest.fixture
def world() -> Deployment:
    """Three lines drawn on, at the close of their first cycle, the worker on this bus."""
    made = Deployment.build(now=LINES_OPENED, seed=3)
    lines = [made.open_line(f"user-{n}") for n in range(3)]
    made.at(dt.date(2026, 3, 12))
    for line in lines:
        made.draw(line, 40_000)
    made.at(CLOSE, 9)
    collections_worker.RUNTIME.use(made.bus)
    return made


def with_cursor(message: QueueMessage, cursor: str) -> dict[str, Any]:
    """The SQS record of `message` with its body's cursor replaced."""
    return sqs_record(encode(attrs.evolve(message, body={**message.body, "cursor": cursor})))


def failed_ids(*records: dict[str, Any]) -> set[str]:
    answer = collections_worker.handler(batch(*records), None)
    return {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}


CURSORS = {
    "BillClosedCycles no key": ("BillClosedCycles", "zzzz"),
    "BillClosedCycles the documents job's": ("BillClosedCycles", "loans:"),
    "BillClosedCycles half a key": ("BillClosedCycles", "user-1/"),
    "BillClosedCycles a stored key's separator": ("BillClosedCycles", "user#1/line-1"),
    "RunDailyLoanJob three parts": ("RunDailyLoanJob", "user-1/loan-1/x"),
    "RenderMissingDocuments a line job's": ("RenderMissingDocuments", "user-1/line-1"),
    "MarkOverdueLines too long": ("MarkOverdueLines", "u/" + "l" * 5000),
}


@pytest.mark.parametrize("case", CURSORS)
def test_a_job_page_with_a_cursor_its_job_never_gave_fails_alerted_and_bills_nothing(
    world: Deployment, case: str
) -> None:
    job, cursor = CURSORS[case]
    message = RunJobPage(job, page_size=2, as_of=CLOSE).message(CLOSE)
    record = with_cursor(message, cursor)
    commits, digest = world.database.commits, world.database.ledger.digest()
    assert failed_ids(record) == {record["messageId"]}  # back to SQS, then the DLQ
    assert world.alert_titles() == [MALFORMED_TITLE]
    assert "cursor" in str(world.alerter.posted[0].details["reason"])
    assert (world.database.commits, world.database.ledger.digest()) == (commits, digest)


def test_a_line_job_page_from_a_cursor_no_longer_skips_the_lines_before_it(
    world: Deployment,
) -> None:
    """The worst case before: ``zzzz`` sorts after every key, so the page was 'done'."""
    message = RunJobPage("BillClosedCycles", page_size=2, as_of=CLOSE).message(CLOSE)
    assert failed_ids(with_cursor(message, "zzzz"))
    redriven = failed_ids(sqs_record(encode(message)))  # the producer fixed, redriven
    assert redriven == set()
    assert len(world.bus.handle(BillClosedCycles(as_of=CLOSE)).acted) == 1  # 2 billed, 1 left


def test_a_job_page_is_refused_when_written_with_another_jobs_cursor() -> None:
    with pytest.raises(InvalidRequest) as refused:
        RunJobPage("BillClosedCycles", cursor="loans:", as_of=CLOSE)
    assert refused.value.key == "cursor"
    with pytest.raises(InvalidRequest) as refused:
        RunJobPage("RenderMissingDocuments", cursor="user-1/line-1", as_of=CLOSE)
    assert refused.value.key == "cursor"
    assert RunJobPage("BillClosedCycles", cursor="user-1/line-1", as_of=CLOSE).cursor
    assert RunJobPage("RenderMissingDocuments", cursor='lines:["u","l"]', as_of=CLOSE).cursor


def test_a_reconcile_page_whose_place_the_listing_refuses_fails_instead_of_being_dropped(
    world: Deployment,
) -> None:
    """The listing's place is the storage's (opaque to the reader): refused when it runs."""
    message = EnqueueReconciliations(cursor="lines:", as_of=CLOSE).message(CLOSE)
    record = with_cursor(message, "loans:not-a-listing-cursor")
    assert failed_ids(record) == {record["messageId"]}
    assert world.alert_titles() == [MALFORMED_TITLE]
    assert "Batch record refused" not in world.alert_titles()
    assert len(world.queue) == 0  # nothing enqueued from the wrong place


def test_a_good_cursor_is_still_read_and_followed(world: Deployment) -> None:
    first = RunJobPage("BillClosedCycles", page_size=2, hand_on=True, as_of=CLOSE)
    world.bus.handle(first)
    (handed,) = world.queue.receive(max_messages=10, visibility=dt.timedelta(0))
    assert failed_ids(sqs_record(encode(handed.message))) == set()
    assert world.alert_titles() == []
