"""`IterableNotifier`: the `Notifier` port over Iterable's event tracking (httpx + stamina).

A 2xx answer is delivered. A 429, a 5xx, a transport failure (refused, timed out,
dropped) or an answer httpx cannot read (any `httpx.HTTPError`) is retried with
exponential backoff and jitter, or as long as ``Retry-After`` says, a bounded number of
times within a time budget: the event's id makes a resend harmless. Any other 4xx is a
refusal and raises `ExternalServiceError` at once; no httpx error leaves as anything
else. The API key lives only in the client's headers: no exception text, repr or log
line carries it.
"""

from __future__ import annotations

import datetime as dt
import time

import attrs
import httpx

from loc_adapters._http import retry_after
from loc_adapters._retrying import RetryLater, budgeted_retries
from loc_adapters.iterable import contract
from loc_core.errors import ExternalServiceError
from loc_core.events import DomainEvent

__all__ = ["IterableNotifier"]


class _Retry(RetryLater):
    """One attempt failed in a way a later attempt with the same event id may fix."""


@attrs.define
class IterableNotifier:
    """`Notifier` on Iterable: one tracked event per domain event, keyed by its id."""

    client: httpx.Client = attrs.field(repr=False)
    """Carries the base URL and the ``Api-Key`` header (see `connect`); tests inject a mock."""
    attempts: int = attrs.field(default=4, kw_only=True)
    timeout: dt.timedelta = attrs.field(default=dt.timedelta(seconds=10), kw_only=True)
    """The longest one `notify` may take, all attempts and waits included."""
    wait_initial: dt.timedelta = attrs.field(default=dt.timedelta(milliseconds=200), kw_only=True)
    wait_max: dt.timedelta = attrs.field(default=dt.timedelta(seconds=3), kw_only=True)

    @classmethod
    def connect(
        cls,
        api_key: str,
        *,
        base_url: str = contract.DEFAULT_BASE_URL,
        timeout: dt.timedelta = dt.timedelta(seconds=10),
        attempt_timeout: dt.timedelta = dt.timedelta(seconds=3),
    ) -> IterableNotifier:
        """A notifier over a new client for `base_url`, authenticated with `api_key`."""
        client = httpx.Client(
            base_url=base_url,
            headers={contract.HEADER_API_KEY: api_key},
            timeout=attempt_timeout.total_seconds(),
        )
        return cls(client, timeout=timeout)

    def notify(self, event: DomainEvent) -> None:
        """Track the event; raises `ExternalServiceError` when Iterable refused or stayed down."""
        body = contract.track_body(event)
        deadline = time.monotonic() + self.timeout.total_seconds()
        try:
            for retrying in budgeted_retries(
                deadline,
                attempts=self.attempts,
                timeout=self.timeout,
                wait_initial=self.wait_initial,
                wait_max=self.wait_max,
            ):
                with retrying:
                    self._track(body, event)
        except _Retry as exc:
            raise ExternalServiceError(
                f"Iterable did not take {event.type.value} ({exc})",
                entity="event",
                entity_id=event.event_id,
                user_id=event.user_id,
            ) from exc

    def _track(self, body: dict[str, object], event: DomainEvent) -> None:
        """One attempt: returns when Iterable took the event."""
        try:
            response = self.client.post(contract.TRACK_PATH, json=body)
        except httpx.HTTPError as exc:
            # Not only a transport failure: an answer httpx cannot read (a broken encoding)
            # may hide a taken event too. The event's id makes another attempt harmless,
            # and no httpx error may escape as anything but `ExternalServiceError`, which
            # the bus's notifier handler turns into a resend (never a failed command).
            raise _Retry(f"no answer: {type(exc).__name__}") from exc
        status = response.status_code
        if response.is_success:
            return
        code = contract.error_code(_json(response)) or f"http_{status}"
        if status == 429 or response.is_server_error:  # noqa: PLR2004 - 429 is throttling
            raise _Retry(f"{status} {code}", retry_after=retry_after(response))
        raise ExternalServiceError(
            f"Iterable refused {event.type.value}: {status} {code}",
            entity="event",
            entity_id=event.event_id,
            user_id=event.user_id,
        )


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None
