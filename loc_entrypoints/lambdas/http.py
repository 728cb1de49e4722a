"""The HTTP API on Lambda: Mangum wraps the Litestar app for an API Gateway HTTP API.

The app and its Mangum adapter are built on the container's first invocation (on the
runtime's bus), never at import. Behind API Gateway's JWT authorizer the claims it
verified are trusted (`loc_entrypoints.http.auth`); a request reaching the function
without them must carry a bearer token the settings verify.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._runtime import Runtime

if TYPE_CHECKING:
    from mangum import Mangum

__all__ = ["RUNTIME", "handler", "reset"]

RUNTIME = Runtime("http")
"""The function's runtime: its bus, logs and metrics."""
_adapter: list[Mangum] = []
"""The Mangum adapter, built on first use (a list so no ``global`` is needed)."""


def _mangum() -> Mangum:
    if not _adapter:
        from mangum import Mangum  # noqa: PLC0415 - not at import: cold starts stay cheap

        from loc_entrypoints.bootstrap import Settings  # noqa: PLC0415 - same
        from loc_entrypoints.http import create_app  # noqa: PLC0415 - same

        environ = RUNTIME.environ if RUNTIME.environ is not None else os.environ
        app = create_app(Settings.from_env(environ), bus=RUNTIME.bus())
        _adapter.append(Mangum(app, lifespan="off"))  # type: ignore[arg-type]  # Litestar types its scope narrower than Mangum's ASGI protocol
    return _adapter[0]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ANN401 - Lambda's own context class
    """Answer one API Gateway request."""
    with RUNTIME.invocation(context) as run:
        response: dict[str, Any] = _mangum()(event, context)
        run.processed += 1
        return response


def reset() -> None:
    """Forget the adapter (tests that give the runtime another bus)."""
    _adapter.clear()
