"""The HTTP API on Lambda: Mangum wraps the Litestar app for an API Gateway HTTP API.

The app and its Mangum adapter are built on the container's first invocation (on the
runtime's bus), never at import. Behind API Gateway's JWT authorizer the claims it
verified are trusted (`loc_entrypoints.http.auth`); a request reaching the function
without them must carry a bearer token the settings verify.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._runtime import Runtime

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mangum import Mangum

__all__ = ["RUNTIME", "handler", "reset"]

RUNTIME = Runtime("http")
"""The function's runtime: its bus, logs and metrics."""
_adapter: list[Mangum] = []
"""The Mangum adapter, built on first use (a list so no ``global`` is needed)."""
_loop: list[asyncio.AbstractEventLoop] = []
"""The event loop Mangum runs the app on: this function's own, made with the adapter.

Mangum takes the thread's current loop, making one when there is none, and never closes
it. The handler makes this one current only while Mangum runs, and `reset` closes it: a
loop left open is collected later, in whatever runs next, as an unclosed loop and its two
sockets.
"""


@contextlib.contextmanager
def _current(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """`loop` as this thread's current event loop while Mangum runs, and none after."""
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        asyncio.set_event_loop(None)


def _mangum() -> Mangum:
    """The adapter, built with the app on the first call (a failure is the cold start's)."""
    if not _adapter:
        with RUNTIME.cold_start():
            from mangum import Mangum  # noqa: PLC0415 - not at import: cold starts stay cheap

            from loc_entrypoints.bootstrap import Settings  # noqa: PLC0415 - same
            from loc_entrypoints.http import create_app  # noqa: PLC0415 - same

            app = create_app(Settings.from_env(RUNTIME.env()), bus=RUNTIME.bus())
            _loop.append(asyncio.new_event_loop())
            with _current(_loop[0]):  # Mangum's constructor takes the current loop too
                _adapter.append(Mangum(app, lifespan="off"))  # type: ignore[arg-type]  # Litestar types its scope narrower than Mangum's ASGI protocol
    return _adapter[0]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ANN401 - Lambda's own context class
    """Answer one API Gateway request."""
    adapter = _mangum()
    with RUNTIME.invocation(context) as run:
        with _current(_loop[0]):
            response: dict[str, Any] = adapter(event, context)
        run.processed += 1
        return response


def reset() -> None:
    """Forget the adapter and close its loop (tests that give the runtime another bus)."""
    _adapter.clear()
    while _loop:
        _loop.pop().close()
