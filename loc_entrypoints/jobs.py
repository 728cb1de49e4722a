"""The scheduled jobs by name: what the Lambda schedules and ``loc job run`` both run.

`JOBS` maps a job's name (the Lambda function's module: ``billing_job``) to the command
it sends for a business date and to how its answer is summarised; `run_job` runs one
through a bus. A scheduled Lambda takes its business date from the EventBridge event's
``time`` (`scheduled_date`), so a run delivered late or retried still decides for the day
it was scheduled; the CLI takes ``--date`` or the clock's day (docs/jobs.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from loc_core.errors import InvalidRequest
from loc_core.services.commands import (
    JOB_PAGE_SIZE,
    BillClosedCycles,
    CollectDueMinimums,
    DailyJobResult,
    DocumentsReport,
    EnqueueDueInstallments,
    EnqueueReconciliations,
    JobReport,
    MarkOverdueLines,
    PageableJob,
    ReconciliationPage,
    RecoverTransfers,
    RecoveryReport,
    RenderMissingDocuments,
    RunDailyLoanJob,
    RunJobPage,
    SendUpcomingNotices,
)
from loc_core.services.messagebus import Command, MessageBus

__all__ = ["JOBS", "SAFETY_MARGIN_MS", "Job", "JobSummary", "PagedJob", "run_job", "scheduled_date"]

SAFETY_MARGIN_MS = 60_000
"""A paged job starts a page only with this much of the invocation left (policy): a page
of 100 entities takes seconds, so a minute leaves room for a slow queue and the flush."""

JsonValue = str | int | bool | list[str]
"""What a summary holds: counts, dates, ids."""


@attrs.frozen
class JobSummary:
    """What one run of a job did: the counters a Lambda reports and a JSON-able detail."""

    processed: int
    """Entities the job acted on (enqueued, billed, charged, booked ...)."""
    failed: int
    """Entities that failed (each alerted by the job); a rerun retries them."""
    skipped: int
    """Entities found with nothing to do."""
    details: Mapping[str, JsonValue] = attrs.field(factory=dict)

    def as_json(self, job: str, business_date: dt.date) -> dict[str, JsonValue]:
        """The summary a handler returns and the CLI prints."""
        return {
            "job": job,
            "business_date": business_date.isoformat(),
            "processed": self.processed,
            "failed": self.failed,
            "skipped": self.skipped,
            **self.details,
        }


def _enqueued(sent: int | ReconciliationPage) -> JobSummary:
    if isinstance(sent, ReconciliationPage):
        sent = sent.enqueued
    return JobSummary(processed=sent, failed=0, skipped=0, details={"enqueued": sent})


def _daily(result: DailyJobResult) -> JobSummary:
    failed = len(result.failed)
    return JobSummary(
        processed=result.loans_changed,
        failed=failed,
        skipped=result.loans_checked - result.loans_changed - failed,
        details={"failed_ids": list(result.failed)},
    )


def _line_report(report: JobReport) -> JobSummary:
    return JobSummary(
        processed=len(report.acted),
        failed=len(report.failed),
        skipped=len(report.skipped),
        details={"failed_ids": list(report.failed)},
    )


def _recovered(report: RecoveryReport) -> JobSummary:
    return JobSummary(
        processed=report.booked + report.abandoned + report.finished,
        failed=report.failed,
        skipped=report.busy,
        details={
            "examined": report.examined,
            "republished": report.republished,
            "unpublished": report.unpublished,
            "unreadable": report.unreadable,
        },
    )


def _documents(report: DocumentsReport) -> JobSummary:
    return JobSummary(
        processed=len(report.rendered),
        failed=len(report.failed),
        skipped=report.present,
        details={"failed_ids": list(report.failed)},
    )


def _unbounded() -> int:
    """The time left where nothing stops the run (the CLI): a Lambda's whole 15 minutes."""
    return 15 * 60 * 1000


@attrs.frozen
class Job:
    """One scheduled job: the command it sends for a business date, and its summary."""

    name: str
    schedule: str
    """When EventBridge runs it (UTC cron), as the template deploys it."""
    command: Callable[[dt.date | None], Command[Any]]
    """The command for a business date (None: the clock's)."""
    summarise: Callable[[Any], JobSummary]

    def run(
        self, bus: MessageBus, as_of: dt.date | None, remaining_ms: Callable[[], int] = _unbounded
    ) -> JobSummary:
        """Send the job's command for `as_of` through `bus` and summarise its answer.

        Raises:
            InvalidRequest: `as_of` is after the business date.
        """
        del remaining_ms  # one command: it fits an invocation (the jobs fan out or page)
        return self.summarise(bus.handle(self.command(as_of)))


@attrs.frozen
class PagedJob(Job):
    """A job that runs page after page while the invocation has time, then hands on.

    Each page answers the cursor of the next. While more than `SAFETY_MARGIN_MS` and
    the longest page so far are left, the next page runs here; the last page that starts
    with less is sent as its hand-on form (`handing_on`), which also queues the next
    cursor, so a worker carries on. Counting the longest page keeps a slow page (a busy
    table) from starting with too little time to finish and queue its hand-on, which a
    timeout would lose. A cursor is followed exactly once, so no entity is skipped or
    handled twice.
    """

    handing_on: Callable[[Any], Command[Any]] = attrs.field(
        default=lambda page: RunJobPage.of(page, hand_on=True)
    )
    """The page's command that also queues the next cursor (``job_page`` by default)."""

    def run(
        self, bus: MessageBus, as_of: dt.date | None, remaining_ms: Callable[[], int] = _unbounded
    ) -> JobSummary:
        """Run pages of the job's command from the first; the summary adds them up."""
        command: Any = self.command(as_of)
        summaries: list[JobSummary] = []
        longest, before = 0, None
        while True:
            left = remaining_ms()
            if before is not None:  # how long the page before took
                longest = max(longest, before - left)
            before = left
            last = left < SAFETY_MARGIN_MS + longest
            page = bus.handle(self.handing_on(command) if last else command)
            summaries.append(self.summarise(page))
            if page.cursor is None or last:
                break
            command = attrs.evolve(command, cursor=page.cursor)
        return _added(summaries, handed_on=page.cursor is not None)


def _added(summaries: list[JobSummary], *, handed_on: bool) -> JobSummary:
    """The pages' summaries as one: counters and counts summed, id lists joined."""
    details: dict[str, JsonValue] = {}
    for summary in summaries:
        for name, value in summary.details.items():
            before = details.get(name)
            if isinstance(before, list) and isinstance(value, list):
                details[name] = [*before, *value]
            elif isinstance(before, int) and isinstance(value, int):
                details[name] = before + value
            else:
                details[name] = value
    return JobSummary(
        processed=sum(summary.processed for summary in summaries),
        failed=sum(summary.failed for summary in summaries),
        skipped=sum(summary.skipped for summary in summaries),
        details={**details, "pages": len(summaries), "handed_on": handed_on},
    )


def _paged(job: type[PageableJob[Any]]) -> Callable[[dt.date | None], Command[Any]]:
    """The first page of `job` for a business date, `JOB_PAGE_SIZE` items a page."""
    return lambda as_of: job(as_of=as_of, page_size=JOB_PAGE_SIZE)


def _recovery(_as_of: dt.date | None) -> RecoverTransfers:
    """Recovery finishes what is open now: it has no business date to decide for."""
    return RecoverTransfers()


JOBS: Mapping[str, Job] = {
    job.name: job
    for job in (
        Job(
            "collections_job",
            "cron(0 15 * * ? *)",
            lambda as_of: EnqueueDueInstallments(as_of=as_of),
            _enqueued,
        ),
        PagedJob("due_job", "cron(0 15 * * ? *)", _paged(CollectDueMinimums), _line_report),
        PagedJob("billing_job", "cron(0 8 * * ? *)", _paged(BillClosedCycles), _line_report),
        PagedJob("upcoming_job", "cron(0 14 * * ? *)", _paged(SendUpcomingNotices), _line_report),
        PagedJob("overdue_job", "cron(0 16 * * ? *)", _paged(MarkOverdueLines), _line_report),
        PagedJob("daily_loan_job", "cron(0 17 * * ? *)", _paged(RunDailyLoanJob), _daily),
        PagedJob("documents_job", "cron(0 9 * * ? *)", _paged(RenderMissingDocuments), _documents),
        Job("recovery_job", "cron(0 7 * * ? *), cron(45 15 * * ? *)", _recovery, _recovered),
        PagedJob(
            "reconciliation_job",
            "cron(0 6 * * ? *)",
            lambda as_of: EnqueueReconciliations(as_of=as_of),
            _enqueued,
            lambda page: attrs.evolve(page, hand_on=True),
        ),
    )
}
"""Every scheduled job by name."""


def run_job(
    name: str,
    bus: MessageBus,
    as_of: dt.date | None = None,
    remaining_ms: Callable[[], int] = _unbounded,
) -> JobSummary:
    """Run the job called `name` once for `as_of` (None: the clock's business date).

    Raises:
        InvalidRequest: no job has that name (the message lists them), or `as_of` is
            after the business date.
    """
    job = JOBS.get(name)
    if job is None:
        raise InvalidRequest(
            f"no job {name!r}; the jobs are: {', '.join(sorted(JOBS))}", key="name"
        )
    return job.run(bus, as_of, remaining_ms)


def scheduled_date(event: Mapping[str, Any]) -> dt.date:
    """The business date of an EventBridge scheduled event: the UTC date of its ``time``.

    Raises:
        InvalidRequest: the event has no ``time``, or not an RFC 3339 UTC timestamp.
    """
    time = event.get("time")
    when = _timestamp(time)
    if when is None or when.utcoffset() != dt.timedelta(0):
        raise InvalidRequest(
            f"a scheduled event needs its time as an RFC 3339 UTC timestamp, got {time!r}",
            key="time",
        )
    return when.date()


def _timestamp(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None
