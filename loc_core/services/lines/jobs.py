"""What the scheduled credit-line jobs share: one line at a time, and a report of the run.

A job handles each line in its own unit of work. A line that fails is reported to
operations and counted; it never stops the lines after it. Running a job again for the
same business date changes nothing that the first run already did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import attrs

from loc_core.creditline import CreditLine, CreditLineProduct
from loc_core.ports import Alert, Alerter, Clock, LineRef, Metrics, Severity, UnitOfWork
from loc_core.services.lines._unit import change_line
from loc_core.services.messagebus import Publisher

__all__ = ["JobReport", "change_each_line", "for_each_line"]


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


def _unique(refs: Iterable[LineRef]) -> list[LineRef]:
    return list(dict.fromkeys(refs))


def for_each_line(
    job: str,
    refs: Iterable[LineRef],
    *,
    business_date: dt.date,
    handle: Callable[[LineRef], bool],
    alerter: Alerter,
    metrics: Metrics,
) -> JobReport:
    """Run `handle` on every line once; it returns whether it changed the line.

    An exception from one line is alerted (CRITICAL, with the error) and recorded in
    `JobReport.failed`; the job goes on with the next line.
    """
    acted: list[str] = []
    skipped: list[str] = []
    failed: list[str] = []
    for ref in _unique(refs):
        try:
            changed = handle(ref)
        except Exception as exc:  # noqa: BLE001 - one bad line must not stop the book; it is alerted with its error
            failed.append(ref.line_id)
            alerter.alert(
                Alert(
                    Severity.CRITICAL,
                    f"{job} failed for line {ref.line_id}",
                    {
                        "user_id": ref.user_id,
                        "line_id": ref.line_id,
                        "business_date": business_date.isoformat(),
                        "error": f"{type(exc).__name__}: {exc}",
                    },
                )
            )
        else:
            (acted if changed else skipped).append(ref.line_id)
    report = JobReport(job, business_date, tuple(acted), tuple(skipped), tuple(failed))
    for outcome, lines in (("acted", acted), ("skipped", skipped), ("failed", failed)):
        metrics.increment(f"loc.lines.{job}.{outcome}", len(lines))
    return report


def change_each_line(
    job: str,
    refs: Iterable[LineRef],
    change: Callable[[CreditLine, dt.date], bool],
    *,
    uow: UnitOfWork,
    today: dt.date,
    clock: Clock,
    product: CreditLineProduct,
    publish: Publisher,
    alerter: Alerter,
    metrics: Metrics,
) -> JobReport:
    """Apply `change` (it says whether it acted) to each line in its own unit of work.

    For the jobs that decide on the line as it stands (upcoming, overdue): nothing is
    billed first, and a line the decision leaves alone is not written.
    """

    def handle(ref: LineRef) -> bool:
        acted, _ = change_line(
            uow,
            user_id=ref.user_id,
            line_id=ref.line_id,
            change=change,
            clock=clock,
            product=product,
            publish=publish,
            actor=job,
            request_id=f"{job}:{today.isoformat()}",
            bill_first=False,
        )
        return acted

    return for_each_line(
        job, refs, business_date=today, handle=handle, alerter=alerter, metrics=metrics
    )
