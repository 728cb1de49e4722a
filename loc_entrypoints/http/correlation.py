"""One correlation id per request: in every log line, in the answer's header, in a 500.

The client's ``X-Correlation-Id`` (at most 128 printable ASCII characters) or a new UUID is
bound to the structured logs for the whole request, so the bus's spans log under it
(`LogTracer` keeps a bound id), kept in the scope's state for the error handlers, and
echoed as the answer's ``X-Correlation-Id``.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORRELATION_HEADER", "correlate", "correlation_of"]

CORRELATION_HEADER = "X-Correlation-Id"
"""The request header a client may set, and the answer's header."""
_LONGEST = 128


def _chosen(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name.lower() == CORRELATION_HEADER.lower().encode():
            given = value.decode("latin-1")
            # ASCII only: any other byte could not be echoed back as the client sent it
            if 0 < len(given) <= _LONGEST and given.isascii() and given.isprintable():
                return given
    return str(uuid.uuid4())


def correlation_of(scope: Any) -> str:  # noqa: ANN401 - an ASGI scope of any kind
    """The request's correlation id (a new one if the middleware did not run)."""
    state = scope.setdefault("state", {})
    known = state.get("correlation_id")
    if not isinstance(known, str):
        known = state["correlation_id"] = str(uuid.uuid4())
    return known


def correlate(app: ASGIApp) -> ASGIApp:
    """Middleware: bind the request's correlation id around `app`."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        chosen = _chosen(scope)
        scope.setdefault("state", {})["correlation_id"] = chosen

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((CORRELATION_HEADER.lower().encode(), chosen.encode()))
                message["headers"] = headers
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=chosen):
            await app(scope, receive, send_with_id)

    return middleware
