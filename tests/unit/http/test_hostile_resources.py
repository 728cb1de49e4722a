"""A hostile client spending the API's memory or paging its on-call: every such request
gets a specific 4xx quickly, reads no more than the body limit, and changes nothing.

Requests go to the ASGI app directly where the test must see what the app pulls from the
connection (how much of a body, a client that leaves mid-body).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import pytest
from http_api import Api
from litestar.types import Message, ReceiveMessage
from structlog.testing import capture_logs

from loc_entrypoints.http.auth import mint_token
from loc_entrypoints.http.bodies import MAX_BODY_BYTES

PROBLEMS = "https://loc.dev/problems/"
CHUNK = 4096


class _Sent:
    """What the app pulled from the connection and what it answered."""

    def __init__(self) -> None:
        self.pulled = 0
        self.status: int | None = None
        self.body = b""

    def problem(self) -> dict[str, Any]:
        problem: dict[str, Any] = json.loads(self.body)
        return problem


def _send(
    api: Api,
    path: str,
    chunks: Iterable[bytes],
    *,
    content_length: int | None = None,
    leaves: bool = False,
) -> _Sent:
    """POST `chunks` as a JSON body, counting what the app reads; `leaves`: the client
    disconnects after the last chunk, before the body is whole."""
    sent = _Sent()
    pending = list(chunks)
    headers = [
        (b"authorization", f"Bearer {mint_token('alice')}".encode()),
        (b"content-type", b"application/json"),
        (b"idempotency-key", api.key().encode()),
    ]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
    }

    async def receive() -> ReceiveMessage:
        if pending:
            chunk = pending.pop(0)
            sent.pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending) or leaves}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            sent.status = message["status"]
        elif message["type"] == "http.response.body":
            sent.body += message.get("body", b"")

    asyncio.run(api.client.app(scope, receive, send))
    return sent


def _payments(api: Api, loan_id: str) -> int:
    return len(api.get("alice", f"/loans/{loan_id}/payments").json()["items"])


@pytest.mark.parametrize(
    "announced", [pytest.param(True, id="content-length"), pytest.param(False, id="chunked")]
)
def test_a_body_over_the_limit_is_refused_having_read_no_more_than_the_limit(
    api: Api,
    announced: bool,  # noqa: FBT001 - a parametrized case, not a flag argument
) -> None:
    """A payment's body is ~20 bytes; 10 MB of whitespace around it was read, parsed and
    paid. Announced too large, nothing is read; streamed, reading stops at the limit."""
    loan = api.open_loan("alice")
    body = b'{"amount": 1000' + b" " * (2 * MAX_BODY_BYTES) + b"}"
    chunks = [body[start : start + CHUNK] for start in range(0, len(body), CHUNK)]

    sent = _send(
        api,
        f"/loans/{loan['loan_id']}/payments",
        chunks,
        content_length=len(body) if announced else None,
    )

    assert sent.status == 413, sent.body
    assert sent.problem()["type"] == PROBLEMS + "request-entity-too-large"
    assert sent.pulled <= (0 if announced else MAX_BODY_BYTES + CHUNK)
    assert _payments(api, loan["loan_id"]) == 0


def test_a_client_that_leaves_before_its_body_arrives_is_no_defect(api: Api) -> None:
    """A client closing the connection mid-body was a 500 logged as a defect, which pages."""
    loan = api.open_loan("alice")
    with capture_logs() as logs:
        sent = _send(api, f"/loans/{loan['loan_id']}/payments", [b'{"amou'], leaves=True)

    assert sent.status == 400, sent.body
    assert sent.problem()["fields"] == ["body"]
    assert [line for line in logs if line["log_level"] in {"error", "critical"}] == []
    assert _payments(api, loan["loan_id"]) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"amount": "\\ud800"}', id="value"),
        pytest.param(b'{"\\udfff": 1000}', id="name"),
        pytest.param(b'{"amount": 1000, "note": ["\\ud83d"]}', id="nested"),
    ],
)
def test_a_lone_surrogate_in_a_body_is_a_400_not_a_500(api: Api, body: bytes) -> None:
    """JSON may escape half a UTF-16 pair, which is no character: it reached the error
    message or msgspec, neither of which can encode it, and answered 500."""
    loan = api.open_loan("alice")
    with capture_logs() as logs:
        sent = _send(api, f"/loans/{loan['loan_id']}/payments", [body])

    assert sent.status == 400, sent.body
    assert sent.problem()["type"] == PROBLEMS + "invalid-request"
    assert sent.problem()["fields"] == ["body"]
    assert [line for line in logs if line["log_level"] in {"error", "critical"}] == []
    assert _payments(api, loan["loan_id"]) == 0


def test_a_lone_surrogate_in_free_text_is_refused_as_an_invalid_request(api: Api) -> None:
    """The free text an operator sends (a refund's reason) is refused like any field."""
    body = {"paid_on": "2026-03-05", "reference": "chk-1", "reason": "\ud800", "amount": 100}
    headers = {**api.headers("ops", service=True, key=api.key())}
    headers["Content-Type"] = "application/json"
    answer = api.client.post(
        "/operations/users/alice/refunds/pay-1/paid",
        headers=headers,
        content=json.dumps(body).encode(),  # ensure_ascii: the escape \ud800 as sent
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == PROBLEMS + "invalid-request"
    assert answer.json()["fields"] == ["body"]


def test_an_unknown_field_is_named_without_echoing_a_huge_name(api: Api) -> None:
    loan = api.open_loan("alice")
    name = "x" * 20_000
    sent = _send(api, f"/loans/{loan['loan_id']}/payments", [json.dumps({name: 1}).encode()])

    assert sent.status == 400, sent.body
    assert len(sent.body) < 1_000
    assert _payments(api, loan["loan_id"]) == 0
