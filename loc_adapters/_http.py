"""What the httpx adapters share: reading a ``Retry-After`` answer."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx

__all__ = ["retry_after"]


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the service asks to wait (``Retry-After`` in seconds or as a date), if any."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
