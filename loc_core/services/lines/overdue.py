"""The overdue job (``loc_overdue``, 16:00 UTC daily): past due, late fee, suspension, default.

The core decides each line (`run_overdue`): a line with nothing past due is skipped;
otherwise an ACTIVE line is SUSPENDED (``loc_past_due``), one late fee is assessed per
cycle once the due date has passed, and the line defaults at 90 days past due. Payments
cure a line at once; the job also cures a SUSPENDED line whose past-due amount is paid.
Running it again the same day changes nothing.

Which lines: `lines.overdue_candidates(today)`, the overdue index, keyed by
`overdue_watch_from`: every SUSPENDED line daily (to cure or default it), and every ACTIVE
line owing a minimum from the first day it can be late. A minimum left unpaid is carried
into the next statement, whose due date is ahead, and its line stays SUSPENDED, so its
90th day past due is found even before that new due date. Lines owing nothing are never
read, so the job's cost follows the delinquent book, not the whole book.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLine
from loc_core.services.lines.jobs import JobReport, LineJobs
from loc_core.services.scheduled import PageableJob

__all__ = ["MarkOverdueLines", "mark_overdue_lines"]


@attrs.frozen
class MarkOverdueLines(PageableJob[JobReport]):
    """Run the overdue job (``loc_overdue``, 16:00 UTC) for the business date."""


def mark_overdue_lines(command: MarkOverdueLines, *, jobs: LineJobs) -> JobReport:
    """Apply the overdue decision to every line the overdue index lists for today."""
    product = jobs.lines.product

    def overdue(line: CreditLine, on: dt.date) -> bool:
        return line.run_overdue(today=on, product=product).acts

    return jobs.change_each(
        "loc_overdue", lambda lines, today: lines.overdue_candidates(today), overdue, command
    )
