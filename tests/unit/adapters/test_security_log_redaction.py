"""The redactor's second guard holds for values that are not text: what the renderer
prints of an object (its repr) is redacted like any string."""

from __future__ import annotations

import httpx
import pytest
import structlog

from loc_adapters.logs import Redact

SECRET = "sk_live_security_review_0123"  # noqa: S105 - a made-up secret to look for


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(RuntimeError(f"PayEngine refused key {SECRET}"), id="exception"),
        pytest.param(httpx.URL(f"https://hooks.example/services/{SECRET}"), id="url"),
        pytest.param({"nested": [RuntimeError(SECRET)]}, id="nested"),
    ],
)
def test_an_object_logged_as_a_value_shows_no_registered_secret(value: object) -> None:
    redact = Redact()
    redact.add(SECRET)
    event = redact(None, "warning", {"event": "careless", "error": value, "n": 3})
    rendered = structlog.processors.JSONRenderer()(None, "warning", event)
    assert SECRET not in str(rendered)
    assert "[redacted]" in str(rendered)
    assert event["n"] == 3  # numbers stay numbers
