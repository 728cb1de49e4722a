"""Retrying an HTTP call within a time budget, for the adapters that retry (needs stamina).

Kept apart from `loc_adapters._http`, so an adapter that never retries (Slack) needs no
stamina.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import stamina

__all__ = ["RetryLater", "budgeted_retries"]


class RetryLater(Exception):
    """One attempt failed in a way a later attempt (with the same key or id) may fix."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        """Seconds the service asked to wait (``Retry-After``), if it said."""


def budgeted_retries(
    deadline: float,
    *,
    attempts: int,
    timeout: dt.timedelta,
    wait_initial: dt.timedelta,
    wait_max: dt.timedelta,
) -> Iterator[stamina.Attempt]:
    """Stamina's attempts for `RetryLater` failures, with backoff and jitter.

    A ``Retry-After`` is honoured unless waiting would pass `deadline` (a
    `time.monotonic` instant): then the last failure is raised at once.
    """

    def backoff(exc: Exception) -> bool | float:
        if not isinstance(exc, RetryLater):
            return False
        if exc.retry_after is None:
            return True
        return exc.retry_after if exc.retry_after < deadline - time.monotonic() else False

    return iter(
        stamina.retry_context(
            on=backoff,
            attempts=attempts,
            timeout=timeout,
            wait_initial=wait_initial,
            wait_max=wait_max,
            wait_jitter=wait_initial,
        )
    )
