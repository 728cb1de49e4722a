"""The sandbox as an ASGI application: the same contract as over WSGI, through httpx's
ASGI transport (what `loc serve` mounts)."""

import asyncio
import json

import pytest
from deployment import Deployment

from loc_adapters.payengine import contract

pytest.importorskip("httpx", reason="the payengine extra is not installed")

import httpx

from loc_adapters.payengine.sandbox import Fault, PayEngineSandbox

API_KEY = "sk_test_asgi_0001"
BODY = {
    "rail": "ach",
    "direction": "debit",
    "amount_cents": 5_000,
    "user_reference": "user-1",
    "reference": "loan-1",
}


def run(
    sandbox: PayEngineSandbox, *requests: tuple[str, str, dict[str, str], object]
) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=sandbox.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return [
                await client.request(method, path, headers=headers, json=body)
                for method, path, headers, body in requests
            ]

    return asyncio.run(go())


def test_a_transfer_sent_twice_over_asgi_is_created_once_and_read_back() -> None:
    sandbox = PayEngineSandbox(Deployment.build().sim, api_key=API_KEY, webhook_secret=b"s" * 16)
    auth = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "pay-asgi"}
    first, again, read = run(
        sandbox,
        ("POST", contract.TRANSFERS_PATH, auth, BODY),
        ("POST", contract.TRANSFERS_PATH, auth, BODY),
        ("GET", contract.transfer_path("pay-asgi"), auth, None),
    )
    assert (first.status_code, again.status_code, read.status_code) == (201, 200, 200)
    assert first.json()["id"] == again.json()["id"] == read.json()["id"]
    assert read.json()["created_at"] == contract.timestamp_text(sandbox.rails.clock.now())
    assert sandbox.created == ["pay-asgi"]
    assert sandbox.requests == 3


def test_asgi_refuses_a_wrong_key_and_passes_faults_and_retry_after_through() -> None:
    sandbox = PayEngineSandbox(
        Deployment.build().sim, api_key=API_KEY, webhook_secret=b"s" * 16, retry_after=7
    )
    sandbox.fail_next(Fault.THROTTLED)
    auth = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "pay-throttled"}
    wrong, throttled = run(
        sandbox,
        ("POST", contract.TRANSFERS_PATH, {"Authorization": "Bearer guessed"}, BODY),
        ("POST", contract.TRANSFERS_PATH, auth, BODY),
    )
    assert wrong.status_code == 401
    assert json.loads(wrong.content)["error"]["code"] == contract.ERROR_UNAUTHORIZED
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert sandbox.created == []
