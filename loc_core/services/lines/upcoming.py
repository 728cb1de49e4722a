"""The upcoming job (``loc_upcoming``, 14:00 UTC daily): remind borrowers of a due date.

Lines are found by due date (`CreditLineRepository.due_between`) from tomorrow to
`upcoming_notice_days` (7) ahead; the core decides (`send_upcoming_notice`) and
remembers the cycle, so each cycle's ``loc_payment_upcoming`` goes out once, a day the
job missed is caught up on a later day of the window, and a re-run sends nothing more.
Like the seed, a line whose latest close is not billed yet is skipped. A line whose
index entry shows nothing to remind of (`LineRef.reminder_pending` False: the notice of
its latest cycle is out, or its minimum is met) is reported skipped without being read.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLine
from loc_core.ports import CreditLineRepository, LineRef
from loc_core.services.kit import business_date
from loc_core.services.lines.jobs import JobReport, LineJobs
from loc_core.services.scheduled import PageableJob

__all__ = ["SendUpcomingNotices", "send_upcoming_payment_notices"]


@attrs.frozen
class SendUpcomingNotices(PageableJob[JobReport]):
    """Run the upcoming-payment job (``loc_upcoming``, 14:00 UTC) for the business date."""


def send_upcoming_payment_notices(command: SendUpcomingNotices, *, jobs: LineJobs) -> JobReport:
    """Send each line due within the notice window its reminder, once per cycle.

    A run for a past date (a missed day caught up) reminds only of a due date still
    ahead of the clock's business date: a reminder sent on or after its due date would
    tell the borrower to pay by a day already gone.
    """
    product = jobs.lines.product
    window = dt.timedelta(days=product.upcoming_notice_days)
    now = business_date(jobs.lines.clock)

    def due_soon(lines: CreditLineRepository, today: dt.date) -> list[LineRef]:
        return lines.due_between(today + dt.timedelta(days=1), today + window)

    def notify(line: CreditLine, on: dt.date) -> bool:
        if line.next_due_date is not None and line.next_due_date <= now:
            return False  # its due date has come by the clock: a reminder is too late
        return line.send_upcoming_notice(today=on, product=product).notify

    return jobs.change_each(
        "loc_upcoming", due_soon, notify, command, done=lambda ref: not ref.reminder_pending
    )
