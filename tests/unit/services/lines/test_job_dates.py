"""Scheduled jobs run for a business date: today by default, or an earlier `as_of`.

A job run as of an earlier date decides what it would have decided that day (what was
due, which cycle closed, what was overdue), while its money moves now; a rerun for the
same date changes nothing more, and a date after today is refused before anything is read.
"""

import datetime as dt
from typing import Any

import pytest
from deployment import Deployment

from loc_core.creditline import CreditLine, LineStatus
from loc_core.errors import InvalidRequest
from loc_core.payments import Rail
from loc_core.services.commands import (
    BillClosedCycles,
    CollectDueMinimums,
    EnqueueDueInstallments,
    MarkOverdueLines,
    RunDailyLoanJob,
    SendUpcomingNotices,
)
from loc_core.services.lines import due_payment_id
from loc_core.services.scheduled import ScheduledJob

JOBS: list[type[ScheduledJob[Any]]] = [
    EnqueueDueInstallments,
    RunDailyLoanJob,
    BillClosedCycles,
    SendUpcomingNotices,
    CollectDueMinimums,
    MarkOverdueLines,
]
CLOSE = dt.date(2026, 4, 5)
LINE_DUE = dt.date(2026, 4, 27)
"""The line's first statement (closed 04-05) is due."""


@pytest.mark.usefixtures("drawn")
@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.__name__)
def test_a_date_after_the_business_date_is_refused_and_nothing_changes(
    world: Deployment, job: type[ScheduledJob[Any]]
) -> None:
    commits = world.database.commits
    with pytest.raises(InvalidRequest) as refused:
        world.bus.handle(job(as_of=world.today + dt.timedelta(days=1)))
    assert refused.value.key == "as_of"
    assert world.database.commits == commits
    assert world.queue.receive(max_messages=10, visibility=dt.timedelta(0)) == []


@pytest.mark.parametrize("value", ["2026-03-05", dt.datetime(2026, 3, 5, tzinfo=dt.UTC), 5])
@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.__name__)
def test_as_of_must_be_a_date(job: type[ScheduledJob[Any]], value: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        job(as_of=value)  # type: ignore[arg-type]  # the wrong type is the point
    assert refused.value.key == "as_of"


def test_billing_as_of_a_past_close_date_bills_that_cycle_once(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(CLOSE + dt.timedelta(days=10), 8)
    assert world.bus.handle(BillClosedCycles(as_of=CLOSE - dt.timedelta(days=1))).acted == ()
    report = world.bus.handle(BillClosedCycles(as_of=CLOSE))
    assert (report.business_date, report.acted) == (CLOSE, (drawn.line_id,))
    assert world.line(drawn).last_billing_cycle_date == CLOSE
    assert world.bus.handle(BillClosedCycles(as_of=CLOSE)).skipped == (drawn.line_id,)


def test_line_jobs_as_of_past_days_remind_collect_and_mark_overdue_as_on_those_days(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(CLOSE, 8)
    world.bill()
    world.at(LINE_DUE + dt.timedelta(days=3), 16)
    week_before = LINE_DUE - dt.timedelta(days=8)
    assert world.bus.handle(SendUpcomingNotices(as_of=week_before)).acted == ()
    # In the window, but 04-27 has come by the clock: no reminder to pay by a day gone.
    late = world.bus.handle(SendUpcomingNotices(as_of=week_before + dt.timedelta(days=1)))
    assert late.acted == ()
    assert world.bus.handle(SendUpcomingNotices(as_of=LINE_DUE)).acted == ()
    assert world.bus.handle(MarkOverdueLines(as_of=LINE_DUE)).acted == ()  # the whole due date
    overdue = world.bus.handle(MarkOverdueLines(as_of=LINE_DUE + dt.timedelta(days=1)))
    assert overdue.acted == (drawn.line_id,)
    line = world.line(drawn)
    assert (line.status, line.fee_balance, line.past_due_since) == (
        LineStatus.SUSPENDED,
        500,
        LINE_DUE + dt.timedelta(days=1),
    )
    assert world.bus.handle(MarkOverdueLines(as_of=LINE_DUE + dt.timedelta(days=1))).acted == ()
    assert world.sent().count("loc_past_due") == 1


def test_the_due_job_as_of_a_missed_due_date_collects_that_minimum_now_once(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(CLOSE, 8)
    world.bill()
    world.at(LINE_DUE + dt.timedelta(days=1), 10)
    report = world.bus.handle(CollectDueMinimums(as_of=LINE_DUE))
    assert (report.business_date, report.acted) == (LINE_DUE, (drawn.line_id,))
    key = due_payment_id(drawn.line_id, LINE_DUE, Rail.PINLESS)
    assert world.sim.submitted[-1].idempotency_key == key
    submitted = len(world.sim.submitted)
    assert world.bus.handle(CollectDueMinimums(as_of=LINE_DUE)).skipped == (drawn.line_id,)
    assert len(world.sim.submitted) == submitted
    assert world.line(drawn).payments[key].submitted_on == world.today  # money moves now


# --- after an outage: the first runs after days the jobs missed (docs/jobs.md) -----------


def test_a_reminder_caught_up_before_its_due_date_is_sent(
    world: Deployment, billed: CreditLine
) -> None:
    """Caught up before its due date, a missed day's reminder still goes out, once."""
    world.at(LINE_DUE - dt.timedelta(days=1), 10)  # a day before it, a late run still reminds
    reminded = world.bus.handle(SendUpcomingNotices(as_of=LINE_DUE - dt.timedelta(days=3)))
    assert reminded.acted == (billed.line_id,)
    assert [event.data["due_date"] for event in world.notifier.sent[-1:]] == ["2026-04-27"]


def test_a_reminder_caught_up_on_its_due_date_is_not_sent(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(LINE_DUE, 10)
    report = world.bus.handle(SendUpcomingNotices(as_of=LINE_DUE - dt.timedelta(days=3)))
    assert (report.acted, report.skipped, report.failed) == ((), (billed.line_id,), ())
    assert "loc_payment_upcoming" not in world.sent()


@pytest.mark.parametrize(
    ("job", "as_of", "paid_on"),
    [
        pytest.param(
            MarkOverdueLines, LINE_DUE + dt.timedelta(days=1), dt.date(2026, 4, 30), id="overdue"
        ),
        pytest.param(
            SendUpcomingNotices,
            LINE_DUE - dt.timedelta(days=6),
            LINE_DUE - dt.timedelta(days=4),
            id="upcoming",
        ),
    ],
)
def test_a_past_date_run_leaves_a_line_that_lived_past_it_to_the_later_run(
    world: Deployment,
    billed: CreditLine,
    job: type[MarkOverdueLines | SendUpcomingNotices],
    as_of: dt.date,
    paid_on: dt.date,
) -> None:
    """The operator reruns a missed day after the borrower paid part: skipped, not failed."""
    world.at(paid_on, 10)
    world.pay_line(billed, 500)
    before = world.line(billed)
    report = world.bus.handle(job(as_of=as_of))
    assert (report.acted, report.skipped, report.failed) == ((), (billed.line_id,), ())
    assert world.alerts() == []
    assert world.line(billed) == before
    world.at(paid_on, 16)  # today's run decides the line, once
    assert world.bus.handle(job()).acted == (billed.line_id,)
    assert world.bus.handle(job()).acted == ()


def test_a_run_cut_short_is_finished_by_its_rerun_each_line_once(world: Deployment) -> None:
    """A timeout after the first page: the retried run (same date) does the rest, once."""
    lines = [world.open_line(user) for user in ("user-1", "user-2")]
    world.at(dt.date(2026, 3, 12))
    for line in lines:
        world.draw(line, 40_000)
    world.at(CLOSE, 8)
    first = world.bus.handle(BillClosedCycles(page_size=1)).acted
    rerun = world.bus.handle(BillClosedCycles())
    assert sorted(first + rerun.acted) == sorted(line.line_id for line in lines)
    assert rerun.skipped == first
    assert [world.line(line).last_billing_cycle_date for line in lines] == [CLOSE, CLOSE]
    world.at(LINE_DUE, 15)
    charged = world.bus.handle(CollectDueMinimums(page_size=1)).acted
    rerun = world.bus.handle(CollectDueMinimums())
    assert sorted(charged + rerun.acted) == sorted(line.line_id for line in lines)
    debits = [
        t.idempotency_key for t in world.sim.submitted if t.idempotency_key.startswith("due:")
    ]
    assert sorted(debits) == sorted(
        due_payment_id(line.line_id, LINE_DUE, Rail.PINLESS) for line in lines
    )
