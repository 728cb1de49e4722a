"""Genuine webhooks in valid RFC 3339 / JSON shapes are read; a wrong direction is refused."""

import datetime as dt
import json
from typing import Any

import pytest

from loc_core.errors import WebhookRejected

pytest.importorskip("httpx", reason="the payengine extra is not installed")

from loc_adapters.memory import ManualClock
from loc_adapters.payengine import contract
from loc_adapters.payengine.webhooks import WebhookVerifier

NOW = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)
SECRET = b"whsec-1"


def verify(kind: str = "LOAN_DEBIT_RETURNED", **data: Any) -> Any:
    occurred_at = data.pop("occurred_at", NOW.isoformat())
    fields = {"transfer_id": "ach-1", "idempotency_key": "pay-1", "rail": "ach"} | data
    body = json.dumps(
        {"id": "evt-1", "type": kind, "occurred_at": occurred_at, "data": fields}
    ).encode()
    stamp, signature = contract.sign(SECRET, NOW, body)
    headers = {contract.HEADER_TIMESTAMP: stamp, contract.HEADER_SIGNATURE: signature}
    return WebhookVerifier(SECRET, ManualClock(NOW)).verify(headers, body)


def test_an_offset_time_is_read_as_the_same_instant_in_utc() -> None:
    event = verify(occurred_at="2026-03-04T07:00:00-05:00")
    assert event.occurred_at == NOW
    assert event.occurred_at.tzinfo is dt.UTC


def test_a_null_return_code_is_no_code() -> None:
    assert verify(return_code=None).return_code == ""


def test_a_credit_event_about_a_payment_is_refused_by_direction() -> None:
    with pytest.raises(WebhookRejected) as refused:
        verify("LOAN_CREDIT_CHARGED_BACK")
    assert refused.value.key == "direction"


def test_a_time_without_an_offset_is_refused() -> None:
    with pytest.raises(WebhookRejected) as refused:
        verify(occurred_at="2026-03-04T12:00:00")
    assert refused.value.key == "body"


@pytest.mark.parametrize("occurred_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_no_utc_date_holds_is_refused(occurred_at: str) -> None:
    """It used to raise OverflowError: the consumer failed the record until it expired."""
    with pytest.raises(WebhookRejected) as refused:
        verify(occurred_at=occurred_at)
    assert refused.value.key == "body"
