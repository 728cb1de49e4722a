"""Slack incoming-webhook messages as this library posts them: the whole wire contract.

A webhook takes ``{"text": ..., "blocks": [...]}`` and answers ``ok``. One alert becomes a
Block Kit message: a header with the severity, a section with the title (the short reason)
and one field per detail; a burst becomes one "N alerts" message listing each title,
critical ones first. ``text`` is the plain fallback for notifications and old clients.

A channel is read by more people than a log, so every title and detail is cleaned as a
log line is (`loc_adapters.logs.redact_details`): an error's text may carry an outside
service's own words, and an account number or an email address in them shows as its last
four digits or ``[email]`` (docs/configuration.md, *Personal data*).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from loc_adapters.logs import redact_details, redact_text
from loc_core.ports import Alert, Severity

__all__ = ["MAX_FIELDS", "MAX_PER_MESSAGE", "message"]

MAX_FIELDS = 10
"""Slack takes at most 10 fields in a section."""
_HEADER_LIMIT = 150
_TEXT_LIMIT = 3000
_FIELD_LIMIT = 2000
_LINE_LIMIT = 120
"""A title in a burst message is cut so that `MAX_PER_MESSAGE` of them fit one section."""
MAX_PER_MESSAGE = 20
"""Alerts titled in one burst message; the rest are counted ("and N more") or wait."""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, _HEADER_LIMIT)}}


def _mrkdwn(text: str, limit: int = _TEXT_LIMIT) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _cut(text, limit)}


def _cleaned(alert: Alert) -> Alert:
    """`alert` with its title and details as a log line would show them."""
    return attrs.evolve(
        alert, title=redact_text(alert.title), details=redact_details(alert.details)
    )


def _single(alert: Alert) -> dict[str, Any]:
    severity = alert.severity.value.upper()
    details = list(alert.details.items())
    section: dict[str, Any] = {"type": "section", "text": _mrkdwn(alert.title)}
    if details:
        section["fields"] = [
            _mrkdwn(f"*{key}*\n{value}", _FIELD_LIMIT) for key, value in details[:MAX_FIELDS]
        ]
    fallback = ", ".join(f"{key}={value}" for key, value in details)
    return {
        "text": _cut(
            f"{severity}: {alert.title}" + (f" ({fallback})" if fallback else ""), _TEXT_LIMIT
        ),
        "blocks": [_header(f"{severity} alert"), section],
    }


def message(alerts: Sequence[Alert], *, more: int = 0) -> dict[str, Any]:
    """The webhook body for `alerts`, plus `more` alerts coalesced away (counted, untitled).

    Raises:
        ValueError: for no alert at all.
    """
    if not alerts:
        raise ValueError("a message needs at least one alert")
    alerts = [_cleaned(alert) for alert in alerts]
    if len(alerts) == 1 and not more:
        return _single(alerts[0])
    total = len(alerts) + more
    critical = sum(alert.severity is Severity.CRITICAL for alert in alerts)
    lines = [
        f"• *{alert.severity.value.upper()}* {_cut(alert.title, _LINE_LIMIT)}" for alert in alerts
    ]
    if more:
        lines.append(f"… and {more} more")
    summary = f"{total} alerts ({critical} critical)"
    return {
        "text": _cut(summary + "\n" + "\n".join(lines), _TEXT_LIMIT),
        "blocks": [_header(summary), {"type": "section", "text": _mrkdwn("\n".join(lines))}],
    }
