"""A PayEngine sandbox: the contract of `contract` over HTTP on 127.0.0.1, for tests.

`PayEngineSandbox` is a WSGI application (standard library only), and an ASGI one through
`PayEngineSandbox.asgi` (for an ASGI server such as uvicorn, or `httpx.ASGITransport`),
backed by a `SimulatedRails`, so it declines, settles, returns and charges back as the simulation
does, idempotently by key. It can be told to misbehave (`fail_next`: answer too late,
fail after processing, throttle) and delivers signed webhooks to a URL when asked
(`deliver_due`), optionally twice each and out of order. `serve` runs it on a free port.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import http
import io
import json
import random
import socketserver
import threading
import time
import wsgiref.simple_server
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import attrs
import httpx

from loc_adapters.memory.rails import SimulatedRails
from loc_adapters.payengine import contract
from loc_core.errors import ExternalServiceError, RailUnavailable
from loc_core.payments import Direction, Rail
from loc_core.ports import TransferRequest, TransferResult

__all__ = ["Fault", "PayEngineSandbox", "serve"]

_StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_Answer = tuple[int, dict[str, Any], list[tuple[str, str]], float]
"""Status, JSON body, extra headers, and seconds to hold the answer back."""


class Fault(enum.Enum):
    """One way the sandbox misbehaves on the next ``POST /transfers``."""

    SLOW = "slow"
    """Process the transfer, then answer after `slow_by` seconds (the client times out)."""
    FAIL_AFTER = "fail_after"
    """Process the transfer, then answer 500: the client cannot tell it was taken."""
    UNAVAILABLE = "unavailable"
    """Answer 503 with ``Retry-After`` and process nothing."""
    THROTTLED = "throttled"
    """Answer 429 with ``Retry-After`` and process nothing."""


@attrs.define
class PayEngineSandbox:
    """PayEngine as this library expects it, in process, over a simulated rail."""

    rails: SimulatedRails
    api_key: str = attrs.field(repr=False)
    webhook_secret: bytes = attrs.field(repr=False)
    webhook_url: str | None = None
    """Where `deliver_due` posts webhooks."""
    slow_by: float = 0.5
    """Seconds a `Fault.SLOW` answer is held back."""
    retry_after: int = 0
    """The ``Retry-After`` seconds of a 429 or 503 fault."""
    created: list[str] = attrs.field(factory=list, init=False)
    """The key of every transfer created, once each: a retry of a key adds nothing."""
    requests: int = attrs.field(default=0, init=False)
    """Every HTTP request received, retries included."""
    account_tokens: dict[str, str] = attrs.field(factory=dict, init=False)
    """The ``account_token`` each created transfer named, by key (absent: none given)."""
    _faults: collections.deque[Fault] = attrs.field(factory=collections.deque, init=False)
    _directions: dict[str, Direction] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def fail_next(self, *faults: Fault) -> None:
        """Misbehave on the next ``POST /transfers`` requests, one fault each, in order."""
        self._faults.extend(faults)

    def __call__(self, environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        """Answer one request (WSGI)."""
        with self._lock:
            self.requests += 1
            status, body, headers, delay = self._route(environ)
        if delay:
            time.sleep(delay)
        payload = json.dumps(body).encode()
        start_response(
            f"{status} {http.HTTPStatus(status).phrase}",
            [("Content-Type", "application/json"), *headers],
        )
        return [payload]

    async def asgi(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        """Answer one request (ASGI 3): the same routes and answers as the WSGI app."""
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        environ = {
            "REQUEST_METHOD": scope["method"],
            "PATH_INFO": scope["path"],
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
        }
        with self._lock:
            self.requests += 1
            status, answer, extra, delay = self._route(environ)
        if delay:
            await asyncio.sleep(delay)
        payload = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *((name.lower().encode(), value.encode()) for name, value in extra),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _route(self, environ: dict[str, Any]) -> _Answer:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if auth != f"Bearer {self.api_key}":
            return _error(401, contract.ERROR_UNAUTHORIZED, "missing or wrong API key")
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "POST" and path == contract.TRANSFERS_PATH:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length)
            key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
            return self._create(key, raw)
        prefix = contract.TRANSFERS_PATH + "/"
        if method == "GET" and path.startswith(prefix):
            key = path[len(prefix) :]  # PATH_INFO arrives unquoted
            found = self.rails.find(key)
            if found is None:
                return _error(404, contract.ERROR_NOT_FOUND, "no transfer with this key")
            return 200, self._resource(key, found), [], 0.0
        return _error(404, contract.ERROR_NOT_FOUND, "no such endpoint")

    def _create(self, key: str, raw: bytes) -> _Answer:
        fault = self._faults.popleft() if self._faults else None
        if fault in {Fault.UNAVAILABLE, Fault.THROTTLED}:
            status = 503 if fault is Fault.UNAVAILABLE else 429
            status, body, _, _ = _error(status, "try_again", "try again later")
            return status, body, [(contract.HEADER_RETRY_AFTER, str(self.retry_after))], 0.0
        parsed = _parse(key, raw)
        if not isinstance(parsed, _Parsed):
            return parsed
        answer = self._submit(parsed.request, fault)
        if parsed.account_token and answer[0] == 201:  # noqa: PLR2004 - created
            self.account_tokens[key] = parsed.account_token
        return answer

    def _submit(self, request: TransferRequest, fault: Fault | None) -> _Answer:
        key = request.idempotency_key
        seen = self.rails.find(key) is not None
        try:
            result = self.rails.submit(request)
        except RailUnavailable:
            return _error(503, contract.ERROR_RAIL_UNAVAILABLE, f"{request.rail.value} is down")
        except ExternalServiceError:
            if seen:
                return _error(409, contract.ERROR_IDEMPOTENCY_KEY_REUSED, "key used for another")
            return _error(422, contract.ERROR_INVALID_REQUEST, "the rail cannot do this")
        if not seen:
            self.created.append(key)
            self._directions[key] = request.direction
        if fault is Fault.FAIL_AFTER:
            return _error(500, "internal_error", "something broke")
        delay = self.slow_by if fault is Fault.SLOW else 0.0
        return (200 if seen else 201), self._resource(key, result), [], delay

    @staticmethod
    def _resource(key: str, result: TransferResult) -> dict[str, Any]:
        return {
            "id": result.confirmation_id or None,
            "idempotency_key": key,
            "status": contract.ACCEPTED if result.accepted else contract.DECLINED,
            "decline_reason": result.decline_reason,
            "amount_cents": result.amount,
            "direction": None if result.direction is None else result.direction.value,
            "created_at": None
            if result.accepted_at is None
            else contract.timestamp_text(result.accepted_at),
        }

    def deliver_due(
        self,
        *,
        duplicates: bool = False,
        reorder: bool = False,
        client: httpx.Client | None = None,
    ) -> list[int]:
        """Post a signed webhook for every settlement event now due; the answers' statuses.

        `duplicates` sends each twice; `reorder` shuffles them (seeded by the rail's seed).
        """
        if self.webhook_url is None:
            raise ExternalServiceError("the sandbox has no webhook URL")
        with self._lock:
            events = self.rails.due_events()
        if duplicates:
            events = [event for event in events for _ in range(2)]
        if reorder:
            random.Random(self.rails.seed).shuffle(events)  # noqa: S311 - a test's disorder
        sender = client or httpx.Client()
        statuses = []
        try:
            for event in events:
                direction = self._directions.get(event.idempotency_key, Direction.DEBIT)
                body = json.dumps(contract.webhook_body(event, direction)).encode()
                stamp, signature = contract.sign(self.webhook_secret, self.rails.clock.now(), body)
                response = sender.post(
                    self.webhook_url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        contract.HEADER_TIMESTAMP: stamp,
                        contract.HEADER_SIGNATURE: signature,
                    },
                )
                statuses.append(response.status_code)
        finally:
            if client is None:
                sender.close()
        return statuses


@attrs.frozen
class _Parsed:
    request: TransferRequest
    account_token: str = attrs.field(repr=False)


def _parse(key: str, raw: bytes) -> _Parsed | _Answer:
    """The transfer a ``POST /transfers`` asks for, or the 400 answer to a malformed one."""
    if not key:
        return _error(400, contract.ERROR_INVALID_REQUEST, "no Idempotency-Key header")
    try:
        body = json.loads(raw)
        token = body.get("account_token", "")
        request = TransferRequest(
            idempotency_key=key,
            rail=Rail(body["rail"]),
            direction=Direction(body["direction"]),
            user_id=str(body["user_reference"]),
            amount=int(body["amount_cents"]),
            reference=str(body["reference"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return _error(400, contract.ERROR_INVALID_REQUEST, "malformed transfer")
    if not isinstance(token, str):
        return _error(400, contract.ERROR_INVALID_REQUEST, "account_token must be a string")
    return _Parsed(request, token)


def _error(status: int, code: str, message: str) -> _Answer:
    return status, contract.error_body(code, message), [], 0.0


class _Server(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        """Keep the test output clean: no access log."""


@contextmanager
def serve(app: Callable[..., Iterable[bytes]], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a WSGI `app` on a free port of `host` in a thread; yields its base URL."""
    server = wsgiref.simple_server.make_server(
        host, 0, app, server_class=_Server, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
