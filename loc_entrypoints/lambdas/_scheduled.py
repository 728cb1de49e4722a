"""What every scheduled handler does: event time -> business date -> the job, once.

The handler modules stay a few lines each and import nothing heavy; this module (and the
job table, `loc_entrypoints.jobs`) is imported on the first invocation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loc_entrypoints.jobs import JOBS, JsonValue, scheduled_date
from loc_entrypoints.lambdas._runtime import Runtime

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
            after the business date.
    """
    job = JOBS[runtime.name]
    with runtime.invocation(context) as run:
        business_date = scheduled_date(event)
        summary = job.run(run.bus, business_date, run.remaining_ms)
        run.processed += summary.processed
        run.failed += summary.failed
        run.skipped += summary.skipped
    return summary.as_json(job.name, business_date)
