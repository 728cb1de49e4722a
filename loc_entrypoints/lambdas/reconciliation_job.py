"""EventBridge-scheduled Lambda: the reconciliation fan-out, 06:00 UTC.

Pages through every loan and line while the invocation has time and queues one
``reconcile_loan`` / ``reconcile_line`` message each; what is left is handed to the
collections worker as a ``reconcile_page`` message (docs/jobs.md).
"""

from __future__ import annotations

from typing import Any

from loc_entrypoints.lambdas._runtime import Runtime

RUNTIME = Runtime("reconciliation_job")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ANN401 - Lambda's context
    """Run the job for the business date of the scheduled event's ``time``."""
    from loc_entrypoints.lambdas._scheduled import run_scheduled  # noqa: PLC0415 - cold starts stay cheap

    return dict(run_scheduled(RUNTIME, event, context))
