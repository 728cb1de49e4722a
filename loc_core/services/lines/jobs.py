"""What the scheduled credit-line jobs share: one line at a time, and a report of the run.

A job handles each line in its own unit of work. A line that fails is reported to
operations and counted; it never stops the lines after it. Running a job again for the
same business date changes nothing that the first run already did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import attrs

from loc_core.creditline import CreditLine
from loc_core.ports import Alerter, CreditLineRepository, LineRef, Metrics
from loc_core.services.kit import post_alert
from loc_core.services.lines._unit import LineWriter
from loc_core.services.scheduled import PageableJob

__all__ = ["JobReport", "LineJobs", "line_key"]


@attrs.frozen
class JobReport:
    """What one run of a job did, line by line."""

    job: str
    """``loc_billing``, ``loc_upcoming``, ``loc_due`` or ``loc_overdue``: the seed's names."""
    business_date: dt.date
    acted: tuple[str, ...] = ()
    """Lines the job changed (billed, notified, charged, marked past due)."""
    skipped: tuple[str, ...] = ()
    """Lines with nothing to do today, or already done by an earlier run."""
    failed: tuple[str, ...] = ()
    """Lines whose handling raised: each was alerted and is retried by the next run."""
    cursor: str | None = None
    """Where the next page starts (`PageableJob.cursor`); None when no line is left."""


def line_key(ref: LineRef) -> str:
    """A line's stable paging key: ``<user>/<line>`` (no id holds a ``/``)."""
    return f"{ref.user_id}/{ref.line_id}"


@attrs.frozen
class LineJobs:
    """What the scheduled line jobs share: one line at a time, failures alerted, a report.

    Handlers declare it like a port (``jobs: LineJobs``); the bus builds it once.
    """

    lines: LineWriter
    alerter: Alerter
    metrics: Metrics

    def for_each(
        self,
        job: str,
        refs: Iterable[LineRef],
        handle: Callable[[LineRef], bool],
        business_date: dt.date,
        command: PageableJob[JobReport],
    ) -> JobReport:
        """Run `handle` on every line of the command's page once for `business_date`.

        `handle` says whether it acted. The page is every line unless the command asks
        for one (`PageableJob.page`); the report answers the next page's cursor. An
        exception from one line is alerted (CRITICAL, with the error) and recorded in
        `JobReport.failed`; the job goes on with the next line.
        """
        acted: list[str] = []
        skipped: list[str] = []
        failed: list[str] = []
        page = command.page(refs, line_key)
        for ref in page.items:
            try:
                changed = handle(ref)
            except Exception as exc:  # noqa: BLE001 - one bad line must not stop the book; it is alerted with its error
                failed.append(ref.line_id)
                post_alert(
                    self.alerter,
                    f"{job} failed for line {ref.line_id}",
                    {
                        "user_id": ref.user_id,
                        "line_id": ref.line_id,
                        "business_date": business_date.isoformat(),
                    },
                    error=exc,
                )
            else:
                (acted if changed else skipped).append(ref.line_id)
        report = JobReport(
            job, business_date, tuple(acted), tuple(skipped), tuple(failed), page.cursor
        )
        for outcome, lines in (("acted", acted), ("skipped", skipped), ("failed", failed)):
            self.metrics.increment(f"loc.lines.{job}.{outcome}", len(lines))
        return report

    def change_each(
        self,
        job: str,
        find: Callable[[CreditLineRepository, dt.date], Iterable[LineRef]],
        change: Callable[[CreditLine, dt.date], bool],
        command: PageableJob[JobReport],
        *,
        done: Callable[[LineRef], bool] | None = None,
    ) -> JobReport:
        """Apply `change` (it says whether it acted) to each line `find` lists for the date.

        The date is the command's business date (`ScheduledJob.business_date`). A line
        whose ref `done` says needs nothing (from the index entry's hints) is reported
        skipped without being read.

        For the jobs that decide on the line as it stands (upcoming, overdue): nothing is
        billed first, and a line the decision leaves alone is not written.

        A run for a past date (a missed day caught up, ``loc job run --date``) leaves a
        line that has activity after that date (a payment, a draw, a later day's job):
        its past is not rewritten (`OutOfOrder`), and a run for a later date decides
        it. Such a line is reported skipped, not failed (docs/jobs.md, "After an outage").
        """
        today = command.business_date(self.lines.clock)
        with self.lines.uow as uow:
            refs = find(uow.lines, today)
        request_id = f"{job}:{today.isoformat()}"

        def unless_lived_past(line: CreditLine, on: dt.date) -> bool:
            if on < line.accrued_through:
                return False  # the line already lived past `on`: a later run decides it
            return change(line, on)

        def handle(ref: LineRef) -> bool:
            if done is not None and done(ref):
                return False
            acted, _ = self.lines.change(
                ref.user_id,
                ref.line_id,
                unless_lived_past,
                actor=job,
                request_id=request_id,
                bill_first=False,
                today=today,
            )
            return acted

        return self.for_each(job, refs, handle, today, command)
