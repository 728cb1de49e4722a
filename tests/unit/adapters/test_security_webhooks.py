"""Hostile PayEngine webhooks: a signed body that means two things, and an empty secret."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("httpx", reason="the payengine extra is not installed")

from deployment import LOANS_OPENED, Deployment

from loc_adapters.memory import ManualClock
from loc_adapters.payengine import contract
from loc_adapters.payengine.webhooks import WebhookVerifier, settle_webhook
from loc_core.errors import InvalidConfiguration, WebhookRejected
from loc_core.ports import Severity

SECRET = b"whsec_security_review_01"


def _body(data: str, *, occurred_at: dt.datetime) -> bytes:
    return (
        '{"id": "evt-dup", "type": "LOAN_DEBIT_RETURNED", '
        f'"occurred_at": "{occurred_at.isoformat()}", "data": {data}}}'
    ).encode()


def _signed(body: bytes, now: dt.datetime, secret: bytes = SECRET) -> dict[str, str]:
    stamp, signature = contract.sign(secret, now, body)
    return {contract.HEADER_TIMESTAMP: stamp, contract.HEADER_SIGNATURE: signature}


@pytest.mark.parametrize(
    "data",
    [
        # Which transfer? A reader keeping the first name and one keeping the last disagree.
        (
            '{"transfer_id": "ach-1", "idempotency_key": "pay-1", "idempotency_key": "pay-2",'
            ' "rail": "ach", "return_code": "R01"}'
        ),
        (
            '{"transfer_id": "ach-1", "idempotency_key": "pay-1", "rail": "ach",'
            ' "return_code": "R01", "return_code": null}'
        ),
    ],
)
def test_a_signed_body_naming_a_field_twice_is_refused_before_the_bus(data: str) -> None:
    world = Deployment.build(now=LOANS_OPENED)
    now = world.clock.now()
    body = _body(data, occurred_at=now)
    verifier = WebhookVerifier(SECRET, world.clock)
    with pytest.raises(WebhookRejected) as refused:
        settle_webhook(world.bus, verifier, _signed(body, now), body)
    assert refused.value.key == "body"
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.title == "PayEngine webhook refused"
    # The same body with each name once is a genuine event (the refusal was the duplicate).
    once = _body(
        '{"transfer_id": "ach-1", "idempotency_key": "pay-1", "rail": "ach", "return_code": "R01"}',
        occurred_at=now,
    )
    assert verifier.verify(_signed(once, now), once).idempotency_key == "pay-1"


def test_an_empty_webhook_secret_is_refused_since_anybody_can_sign_with_it() -> None:
    now = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)
    with pytest.raises(InvalidConfiguration) as refused:
        WebhookVerifier(b"", ManualClock(now))
    assert refused.value.key == "LOC_PAYENGINE_WEBHOOK_SECRET"
