"""Every job pages: a scheduled handler runs pages while it has time and hands the rest on
as a ``job_page`` message, which the collections worker runs and hands on again; every
line and loan is handled exactly once by one run, and a page delivered twice is harmless."""

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from deployment import LINES_OPENED, Deployment
from lambda_events import batch, sqs_record
from scheduled_events import scheduled_event

from loc_adapters.sqs import encode
from loc_core.errors import InvalidRequest
from loc_core.services.commands import (
    JOB_PAGE,
    BillClosedCycles,
    DailyJobResult,
    JobReport,
    PageableJob,
    RunDailyLoanJob,
    RunJobPage,
)
from loc_entrypoints import jobs
from loc_entrypoints.jobs import SAFETY_MARGIN_MS, run_job
from loc_entrypoints.lambdas import collections_worker, daily_loan_job

CLOSE = dt.date(2026, 4, 5)
"""The lines' first cycle closes (cycle day 5) and the loans' first installments are late."""
LINES = 4
LOANS = 3
VISIBLE = dt.timedelta(minutes=5)


def opened_book() -> Deployment:
    """Four lines drawn on, and three loans; at `CLOSE`, all four bill and all three are late."""
    made = Deployment.build(now=LINES_OPENED, seed=11)
    lines = [made.open_line(f"user-{n}") for n in range(LINES)]
    for n in range(LOANS):
        made.open_loan(f"user-{n}", autopay=False)
    made.at(dt.date(2026, 3, 12))
    for line in lines:
        made.draw(line, 40_000)
    made.at(CLOSE, 9)
    return made


@pytest.fixture
def world() -> Deployment:
    return opened_book()


def pages_of(world: Deployment, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The answer of every page of a paged job the bus runs from now on, in order."""
    seen: list[Any] = []
    handle = world.bus.handle

    def spy(command: Any) -> Any:
        answer = handle(command)
        if isinstance(command, PageableJob):
            seen.append(answer)
        return answer

    monkeypatch.setattr(world.bus, "handle", spy)
    return seen


def worker_drains(world: Deployment) -> int:
    """The collections worker (its handler, SQS records) on every queued message; how many."""
    collections_worker.RUNTIME.use(world.bus)
    handled = 0
    while received := world.queue.receive(max_messages=10, visibility=VISIBLE):
        records = [sqs_record(encode(delivery.message)) for delivery in received]
        assert collections_worker.handler(batch(*records), None) == {"batchItemFailures": []}
        for delivery in received:
            world.queue.ack(delivery)
        handled += len(received)
    return handled


def line_ids(pages: list[Any]) -> Counter[str]:
    """How many times each line was handled (acted, skipped or failed) by the pages."""
    return Counter(line for page in pages for line in (*page.acted, *page.skipped, *page.failed))


def test_a_page_is_at_most_page_size_items_after_the_cursor_in_key_order(
    world: Deployment,
) -> None:
    first = world.bus.handle(BillClosedCycles(page_size=3))
    assert (len(first.acted), first.cursor) == (3, f"user-2/{first.acted[-1]}")
    rest = world.bus.handle(BillClosedCycles(page_size=3, cursor=first.cursor))
    assert (len(rest.acted), rest.cursor) == (1, None)
    assert world.bus.handle(BillClosedCycles()).acted == ()  # all billed: a rerun does nothing


def test_a_cursor_or_page_size_out_of_bounds_is_refused() -> None:
    with pytest.raises(InvalidRequest) as refused:
        BillClosedCycles(page_size=0)
    assert refused.value.key == "page_size"
    with pytest.raises(InvalidRequest) as refused:
        RunJobPage("EnqueueDueInstallments")
    assert refused.value.key == "job"


@pytest.mark.parametrize("size", [1, 2, 3])
def test_without_time_the_handler_hands_on_and_the_worker_handles_every_line_once(
    world: Deployment, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    monkeypatch.setattr(jobs, "JOB_PAGE_SIZE", size)
    pages = pages_of(world, monkeypatch)
    summary = run_job("billing_job", world.bus, CLOSE, remaining_ms=lambda: 0)
    assert (summary.processed, summary.details["pages"], summary.details["handed_on"]) == (
        size,
        1,
        True,
    )
    queued = world.queue.receive(max_messages=10, visibility=dt.timedelta(0))
    assert [delivery.message.kind for delivery in queued] == [JOB_PAGE]
    assert worker_drains(world) == -(-LINES // size) - 1  # one message per page after the first
    handled = line_ids(pages)
    assert len(handled) == LINES
    assert set(handled.values()) == {1}
    assert all(len(page.acted) <= size for page in pages)


def test_a_handler_with_time_runs_every_page_itself(
    world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "JOB_PAGE_SIZE", 1)
    left = iter([SAFETY_MARGIN_MS, SAFETY_MARGIN_MS, SAFETY_MARGIN_MS - 1])
    summary = run_job("billing_job", world.bus, CLOSE, remaining_ms=lambda: next(left))
    assert (summary.processed, summary.details["pages"], summary.details["handed_on"]) == (
        3,
        3,
        True,
    )
    assert worker_drains(world) == 1  # the fourth line's page, handed on
    assert world.bus.handle(BillClosedCycles(as_of=CLOSE)).acted == ()


def test_a_page_that_would_not_finish_in_the_time_left_is_handed_on_instead(
    world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages take 50 s: with 100 s left the next would end 10 s before the margin, so it
    is handed on; it used to run and the one after started with 50 s, too little for a
    50 s page: Lambda's timeout killed it before it queued its hand-on."""
    monkeypatch.setattr(jobs, "JOB_PAGE_SIZE", 1)
    left = iter([200_000, 150_000, 100_000, 50_000])
    summary = run_job("billing_job", world.bus, CLOSE, remaining_ms=lambda: next(left))
    assert (summary.details["pages"], summary.details["handed_on"]) == (3, True)
    assert worker_drains(world) == 1
    assert world.bus.handle(BillClosedCycles(as_of=CLOSE)).acted == ()


def test_loc_job_run_runs_every_page_in_process(
    world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "JOB_PAGE_SIZE", 1)
    summary = run_job("billing_job", world.bus, CLOSE)
    assert (summary.processed, summary.details["pages"], summary.details["handed_on"]) == (
        LINES,
        LINES,
        False,
    )
    assert world.queue.receive(max_messages=10, visibility=dt.timedelta(0)) == []


def test_the_daily_loan_job_handed_on_checks_every_loan_once_like_one_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    late = CLOSE + dt.timedelta(days=40)
    whole = opened_book()
    whole.at(late, 17)
    expected = whole.bus.handle(RunDailyLoanJob())
    assert (expected.loans_checked, expected.loans_changed) == (LOANS, LOANS)
    paged = opened_book()
    paged.at(late, 17)
    monkeypatch.setattr(jobs, "JOB_PAGE_SIZE", 1)
    pages = pages_of(paged, monkeypatch)
    daily_loan_job.RUNTIME.use(paged.bus)
    context = type("Context", (), {"get_remaining_time_in_millis": lambda _self: 0})()
    summary = daily_loan_job.handler(
        scheduled_event(dt.datetime.combine(late, dt.time(17), tzinfo=dt.UTC)), context
    )
    assert (summary["processed"], summary["handed_on"]) == (1, True)
    assert worker_drains(paged) == LOANS - 1
    assert all(isinstance(page, DailyJobResult) for page in pages)
    assert [page.loans_checked for page in pages] == [1] * LOANS
    assert sum(page.loans_changed for page in pages) == LOANS
    assert paged.database.ledger.digest() == whole.database.ledger.digest()


def test_a_page_delivered_twice_changes_nothing_the_second_time(
    world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.bus.handle(RunJobPage("BillClosedCycles", page_size=2, hand_on=True, as_of=CLOSE))
    (message,) = [
        d.message for d in world.queue.receive(max_messages=10, visibility=dt.timedelta(0))
    ]
    first = world.bus.handle_message(message)
    assert isinstance(first, JobReport)
    assert (len(first.acted), first.cursor) == (2, None)
    commits, digest = world.database.commits, world.database.ledger.digest()
    pages = pages_of(world, monkeypatch)
    again = world.bus.handle_message(message)  # SQS delivered it again
    assert isinstance(again, JobReport)
    assert (again.acted, again.skipped) == ((), first.acted)
    assert (world.database.commits, world.database.ledger.digest()) == (commits, digest)
    assert line_ids(pages) == Counter(first.acted)
