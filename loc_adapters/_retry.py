"""Sending a batch again, with backoff and jitter, until the service has taken all of it.

DynamoDB's `BatchWriteItem` and SQS's `SendMessageBatch` may each take part of a batch
and hand back the rest; `Backoff.resend_leftovers` sends only what is left, a bounded
number of times, then gives up with `ExternalServiceError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Generic, TypeVar

import attrs
import stamina

from loc_adapters.logs import get_logger
from loc_core.errors import ExternalServiceError

__all__ = ["Backoff", "Leftover"]

T = TypeVar("T")

_log = get_logger(__name__)


class Leftover(Exception, Generic[T]):
    """Raised by one call of a batch with what it left unprocessed, and why."""

    def __init__(self, items: list[T], reason: str) -> None:
        super().__init__(reason)
        self.items = items


@attrs.frozen
class Backoff:
    """How many calls a batch gets, and how long to wait between them (with jitter)."""

    attempts: int
    wait_initial: dt.timedelta
    wait_max: dt.timedelta

    def resend_leftovers(
        self,
        send: Callable[[list[T]], None],
        items: list[T],
        *,
        exhausted: Callable[[Leftover[T]], str],
    ) -> None:
        """Call `send` with `items`, then with what each call leaves over, until none is left.

        Raises:
            ExternalServiceError: saying `exhausted(left)`, when the last of `attempts`
                calls still left some over.
        """
        pending = items
        try:
            for attempt in stamina.retry_context(
                on=Leftover,
                attempts=self.attempts,
                timeout=None,
                wait_initial=self.wait_initial,
                wait_max=self.wait_max,
            ):
                with attempt:
                    try:
                        send(pending)
                    except Leftover as exc:
                        pending = exc.items  # the next attempt sends only what was left
                        _log.warning("batch partly taken", left=len(pending), reason=str(exc))
                        raise
        except Leftover as exc:
            message = exhausted(exc)
            _log.error("batch retries exhausted", left=len(exc.items), reason=message)
            raise ExternalServiceError(message) from exc
