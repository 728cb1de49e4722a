"""The reconciliation fan-out: every loan and line gets one message, page after page, and a
run handed on through the queue finishes on the workers without losing or repeating one."""

import datetime as dt
from collections import Counter

import pytest
from deployment import LINES_OPENED, Deployment

from loc_core.errors import InvalidRequest, MalformedMessage
from loc_core.ports import QueueMessage
from loc_core.services.commands import (
    RECONCILE_LINE,
    RECONCILE_LOAN,
    RECONCILE_PAGE,
    EnqueueReconciliations,
    LineReconciliation,
    ListBook,
    ReconcileLine,
    ReconcileLoan,
    Reconciliation,
)
from loc_entrypoints.jobs import SAFETY_MARGIN_MS, run_job

VISIBLE = dt.timedelta(minutes=5)


@pytest.fixture
def world() -> Deployment:
    """Five borrowers: a loan each, and a line for three of them."""
    made = Deployment.build(now=LINES_OPENED, seed=11)
    for n in range(5):
        made.users.add(f"user-{n}")
        made.open_loan(f"user-{n}")
        if n % 2 == 0:
            made.open_line(f"user-{n}")
    return made


def drain(world: Deployment) -> Counter[tuple[str, str]]:
    """The worker: every message handled and acked; what was reconciled, counted."""
    reconciled: Counter[tuple[str, str]] = Counter()
    while received := world.queue.receive(max_messages=10, visibility=VISIBLE):
        for delivery in received:
            result = world.bus.handle_message(delivery.message)
            if isinstance(result, Reconciliation):
                assert result.matches
                reconciled["loan", result.loan_id] += 1
            elif isinstance(result, LineReconciliation):
                assert result.matches
                reconciled["line", result.line_id] += 1
            world.queue.ack(delivery)
    return reconciled


def book(world: Deployment) -> set[tuple[str, str]]:
    page = world.bus.handle(ListBook(page_size=1_000))
    loans = {("loan", ref.loan_id) for ref in page.loans}
    assert page.cursor is not None
    lines = world.bus.handle(ListBook(page.cursor, page_size=1_000))
    return loans | {("line", ref.line_id) for ref in lines.lines}


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_paging_sends_one_message_per_loan_and_line(world: Deployment, size: int) -> None:
    cursor, pages = None, 0
    while True:
        page = world.bus.handle(EnqueueReconciliations(cursor=cursor, page_size=size))
        pages += 1
        assert page.enqueued <= size
        if page.cursor is None:
            break
        cursor = page.cursor
    received = world.queue.receive(max_messages=100, visibility=VISIBLE)
    kinds = Counter(delivery.message.kind for delivery in received)
    assert kinds == {RECONCILE_LOAN: 5, RECONCILE_LINE: 3}
    ids = [delivery.message.deduplication_id for delivery in received]
    assert len(set(ids)) == len(ids) == 8
    assert all(i.endswith(f":{world.today.isoformat()}") for i in ids)
    assert len(book(world)) == 8
    assert pages >= 8 // size


def test_a_page_handed_on_is_finished_by_the_workers_each_entity_once(world: Deployment) -> None:
    page = world.bus.handle(EnqueueReconciliations(page_size=2, hand_on=True))
    assert (page.enqueued, page.cursor is not None) == (2, True)
    reconciled = drain(world)
    assert set(reconciled) == book(world)
    assert set(reconciled.values()) == {1}


def test_the_job_pages_while_time_is_left_then_hands_the_rest_on(world: Deployment) -> None:
    left = iter([SAFETY_MARGIN_MS - 1])  # the first page (the loans) is the last one here
    summary = run_job("reconciliation_job", world.bus, remaining_ms=lambda: next(left))
    assert summary.details == {"enqueued": 5, "pages": 1, "handed_on": True}
    queued = world.queue.receive(max_messages=100, visibility=dt.timedelta(0))
    assert Counter(d.message.kind for d in queued)[RECONCILE_PAGE] == 1
    reconciled = drain(world)
    assert set(reconciled) == book(world)
    assert set(reconciled.values()) == {1}


def test_with_time_to_spare_the_job_lists_everything_itself(world: Deployment) -> None:
    summary = run_job("reconciliation_job", world.bus)
    assert (summary.processed, summary.details["handed_on"]) == (8, False)
    assert set(drain(world).values()) == {1}


def test_one_borrowers_book_is_one_page(world: Deployment) -> None:
    page = world.bus.handle(ListBook(user_id="user-2"))
    assert ([r.user_id for r in page.loans], [r.user_id for r in page.lines]) == (
        ["user-2"],
        ["user-2"],
    )
    assert page.cursor is None


@pytest.mark.parametrize("cursor", ["elsewhere:1", "loans:not json", 'lines:{"PK": 1}'])
def test_a_cursor_not_from_the_job_is_refused(world: Deployment, cursor: str) -> None:
    with pytest.raises(InvalidRequest):
        world.bus.handle(EnqueueReconciliations(cursor=cursor))


def test_reconcile_messages_read_back_as_their_commands() -> None:
    day = dt.date(2026, 3, 5)
    loan, line = ReconcileLoan("user-1", "loan-1"), ReconcileLine("user-1", "line-1")
    assert ReconcileLoan.from_message(loan.message(day)) == loan
    assert ReconcileLine.from_message(line.message(day)) == line
    page = EnqueueReconciliations(cursor="lines:", page_size=7, as_of=day)
    assert EnqueueReconciliations.from_message(page.message(day)) == page.__class__(
        cursor="lines:", page_size=7, hand_on=True, as_of=day
    )
    with pytest.raises(MalformedMessage):
        ReconcileLoan.from_message(line.message(day))
    with pytest.raises(MalformedMessage):
        ReconcileLine.from_message(QueueMessage(RECONCILE_LINE, {"user_id": "u"}, "x"))
