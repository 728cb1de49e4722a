"""The Litestar application: routes build commands, the bus runs them."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, cast
from urllib.parse import unquote

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import (
    HTTPScope,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Message,
    Receive,
    Scope,
    Send,
)

from loc_core.ports import Clock, IdempotencyStore, Users
from loc_core.services.messagebus import MessageBus
from loc_entrypoints.bootstrap import Backend, Settings, bootstrap
from loc_entrypoints.http import documents, lines, loans, operations
from loc_entrypoints.http.auth import (
    CALLERS_STATE,
    LOCAL_SECRET,
    Caller,
    Callers,
    Verifier,
    authenticate,
)
from loc_entrypoints.http.bodies import MAX_BODY_BYTES, refusing_early_disconnect
from loc_entrypoints.http.correlation import correlate
from loc_entrypoints.http.idempotency import Replays
from loc_entrypoints.http.problems import exception_handlers

__all__ = ["create_app", "openapi_document"]

API_VERSION = "1.0.0"


def create_app(settings: Settings | None = None, *, bus: MessageBus | None = None) -> Litestar:
    """The HTTP API of the deployment `settings` describe (the embedded default if None).

    Args:
        settings: which deployment, and how callers are verified.
        bus: a bus already built (tests); else the bootstrap builds one from `settings`.

    Raises:
        InvalidConfiguration: a deployment with real storage but no JWT secret or JWKS URL.
    """
    settings = settings or Settings()
    bus = bus or bootstrap(settings)
    verifier = _verifier(settings)
    replays = Replays(store=bus.get(IdempotencyStore), clock=bus.get(Clock))

    callers = Callers(verifier, bus.get(Users))

    def caller(request: Request[Any, Any, Any]) -> Caller:
        return callers(request)

    return _Api(
        route_handlers=[loans.router, lines.router, operations.router, documents.router],
        dependencies={
            "bus": Provide(lambda: bus, use_cache=True, sync_to_thread=False),
            "replays": Provide(lambda: replays, use_cache=True, sync_to_thread=False),
            "caller": Provide(caller, sync_to_thread=False),
        },
        state=State({CALLERS_STATE: callers}),
        guards=[authenticate],
        exception_handlers=exception_handlers,
        middleware=[correlate],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="loc",
            version=API_VERSION,
            description=(
                "Installment loans and lines of credit. Every request carries a bearer"
                " token; every error is application/problem+json (RFC 9457)."
            ),
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
            use_handler_docstrings=False,
        ),
        debug=False,
    )


class _Api(Litestar):
    """The app, routing on the path as sent, and answering HEAD as it answers GET.

    A client that closes its connection before its body arrived is a 400 naming ``body``
    (`refusing_early_disconnect`), not the framework's 500 logged as a defect.

    An encoded slash (``%2F``) stays in its segment (`_routed_path`): the server (uvicorn's
    ``path``) and Mangum decode it before routing, which made ``/loans/L1%2Fpayments``
    the payments of L1. No id holds a slash, so it now fails the id's pattern, 400
    ``invalid-request`` naming the parameter, as any character outside the id alphabet.

    Litestar routes HEAD only to handlers declared for it, and answers 405 otherwise; a
    monitor or cache asking HEAD of a list or a receipt gets the GET's status and
    headers (its ``content-length`` too) and no body, with the same authentication
    (RFC 9110, 9.3.2).
    """

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        """Route on the path as sent; run a HEAD request as a GET, its body kept off the wire."""
        if scope["type"] != ScopeType.HTTP:
            await super().__call__(scope, receive, send)
            return
        scope = _routed(cast("HTTPScope", scope))
        receive = refusing_early_disconnect(cast("Receive", receive))
        if scope["method"] != "HEAD":
            await super().__call__(scope, receive, send)
            return
        http_send = cast("Send", send)

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await http_send(message)

        as_get = cast("HTTPScope", {**scope, "method": "GET"})
        await super().__call__(as_get, receive, headers_only)


_ENCODED_SLASH = re.compile("%2f", re.IGNORECASE)


def _routed_path(raw: str) -> str:
    """The path the API routes on, from the path as sent: each escape decoded but ``%2F``.

    ``/loans/L1%2Fpayments`` routes as ``/loans/L1%2Fpayments``: one segment, the id
    ``L1%2Fpayments`` (refused by its pattern), never ``/loans/L1/payments``; ``%20`` and
    every other escape decode as before.
    """
    return "%2F".join(unquote(part) for part in _ENCODED_SLASH.split(raw))


def _routed(scope: HTTPScope) -> HTTPScope:
    """`scope` with the path `_routed_path` gives, when the request sent an encoded slash.

    The path as sent is ASGI's ``raw_path`` (uvicorn, any ASGI server), else the API
    Gateway event's (``rawPath``, ``requestContext.http.path``, payload 1.0's ``path``):
    Mangum gives no ``raw_path`` and decodes the event's path itself. Only a raw path that
    decodes to the scope's path is used, so one the server changed (a root path) is not.
    """
    for raw in _raw_paths(scope):
        if _ENCODED_SLASH.search(raw) and unquote(raw) == scope["path"]:
            return cast("HTTPScope", {**scope, "path": _routed_path(raw)})
    return scope


def _raw_paths(scope: HTTPScope) -> Iterator[str]:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        yield raw.decode("latin-1").partition("?")[0]
    event = cast("Mapping[str, Any]", scope).get("aws.event")
    if isinstance(event, Mapping):
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, Mapping) else None
        sent = http.get("path") if isinstance(http, Mapping) else None
        for path in (event.get("rawPath"), sent, event.get("path")):
            if isinstance(path, str):
                yield path


def openapi_document(app: Litestar) -> str:
    """The app's OpenAPI 3.1 document as stable JSON text (what docs/openapi.json holds)."""
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True) + "\n"


def _verifier(settings: Settings) -> Verifier:
    secret = settings.jwt_secret
    if not secret and not settings.jwt_jwks_url and settings.backend is Backend.MEMORY:
        secret = LOCAL_SECRET
    return Verifier(
        secret=secret,
        jwks_url=settings.jwt_jwks_url,
        audience=settings.jwt_audience,
        role_claim=settings.service_role_claim,
        issuer=settings.jwt_issuer,
        max_lifetime=dt.timedelta(seconds=settings.jwt_max_lifetime_seconds),
    )
