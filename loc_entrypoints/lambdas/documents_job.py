"""EventBridge-scheduled Lambda: the documents job (``loc_documents``), 09:00 UTC.

The backstop sweep after billing (08:00): renders the agreements and statement PDFs a
failure left missing (`RenderMissingDocuments`).
"""

from __future__ import annotations

from typing import Any

from loc_entrypoints.lambdas._runtime import Runtime

RUNTIME = Runtime("documents_job")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ANN401 - Lambda's context
    """Run the job for the business date of the scheduled event's ``time``."""
    from loc_entrypoints.lambdas._scheduled import run_scheduled  # noqa: PLC0415 - cold starts stay cheap

    return dict(run_scheduled(RUNTIME, event, context))
