"""What every scheduled handler does: event time -> business date -> the job, once.

The handler modules stay a few lines each and import nothing heavy; this module (and the
job table, `loc_entrypoints.jobs`) is imported on the first invocation.

A run that raises (an outage of the table or the queue, a refused event) did not do its
day's work, or not all of it: it is alerted (CRITICAL; WARNING for a refused event),
naming the job, its business date and how to run it again, then raised, so the
invocation fails and Lambda retries it. Every job is idempotent for its date, so a retry
or an operator's ``loc job run`` redoes only what is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loc_entrypoints.jobs import JOBS, JsonValue, scheduled_date
from loc_entrypoints.lambdas._runtime import Runtime

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["run_scheduled"]


def run_scheduled(
    runtime: Runtime,
    event: Mapping[str, Any],
    context: Any,  # noqa: ANN401 - Lambda passes its own context class
) -> dict[str, JsonValue]:
    """Run the job named like the runtime for the day of the event's ``time``.

    Returns:
        The run's summary (`JobSummary.as_json`): job, business date, counters.

    Raises:
        InvalidRequest: the event has no valid ``time`` (nothing ran), or its date is
            after the business date (alerted, WARNING).
        Exception: whatever stopped the run (alerted, CRITICAL).
    """
    job = JOBS[runtime.name]
    with runtime.invocation(context) as run:
        day: dt.date | None = None
        try:
            day = business_date = scheduled_date(event)
            summary = job.run(run.bus, business_date, run.remaining_ms)
        except Exception as exc:
            _alert_failed(run.bus, job.name, day, event, exc)
            raise
        run.processed += summary.processed
        run.failed += summary.failed
        run.skipped += summary.skipped
    return summary.as_json(job.name, business_date)


def _alert_failed(
    bus: MessageBus,
    name: str,
    business_date: dt.date | None,
    event: Mapping[str, Any],
    exc: Exception,
) -> None:
    """Tell operations a scheduled run did not finish (an `Alerter` never raises)."""
    from loc_core.errors import DomainError  # noqa: PLC0415 - cold starts stay cheap
    from loc_core.ports import Alert, Alerter, Severity  # noqa: PLC0415 - same

    day = business_date.isoformat() if business_date is not None else str(event.get("time"))
    details = {
        "job": name,
        "business_date": day,
        "error": type(exc).__name__,
        "reason": str(exc),
        "rerun": f"loc job run {name} --date {day}" if business_date else "fix the schedule",
    }
    severity = Severity.WARNING if isinstance(exc, DomainError) else Severity.CRITICAL
    bus.get(Alerter).alert(Alert(severity, f"Scheduled job failed: {name}", details))
