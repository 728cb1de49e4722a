"""`SlackAlerter`: the `Alerter` port over a Slack incoming webhook (httpx).

Slack takes about one message per second per channel, so an instance posts at most one
message per `interval` to its webhook. Alerts that arrive sooner are held and go out
together in the next message ("N alerts" with each title). A critical alert is never
coalesced away: it is titled in the next message, or, if more criticals wait than one
message titles, in the one after. Other alerts may be counted rather than titled, and
the oldest of them are dropped (counted) when more than `max_held` wait.

`alert` never raises: a failed post is logged (structlog) and its alerts are held for
the next try. The webhook URL is a secret: no log line shows it (a filter hides it from
httpx's request log too). `alert` and `flush` never sleep and nothing runs in the
background: held alerts go out on the next `alert` or `flush` once the interval has
passed. Before a worker stops or freezes (the end of a Lambda invocation), its owner
calls `drain`, which waits out the interval between messages until nothing is held (or
its budget is spent, logged as an error with the count left), or `close`, which drains
and closes the client. Not thread-safe: one instance per webhook per worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

import attrs
import httpx

from loc_adapters._http import retry_after
from loc_adapters.logs import get_logger
from loc_adapters.slack import contract
from loc_core.ports import Alert, Clock, Severity

__all__ = ["SlackAlerter"]

_log = get_logger(__name__)


class _HideWebhooks(logging.Filter):
    """Replaces webhook URLs in httpx's request log lines, which would otherwise show them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                "<slack webhook>" if str(arg) in self.secrets else arg for arg in record.args
            )
        return True


_HIDE_WEBHOOKS = _HideWebhooks()


def _hide_in_httpx_logs(webhook_url: str) -> None:
    httpx_log = logging.getLogger("httpx")
    if _HIDE_WEBHOOKS not in httpx_log.filters:
        httpx_log.addFilter(_HIDE_WEBHOOKS)
    _HIDE_WEBHOOKS.secrets.add(str(httpx.URL(webhook_url)))


@attrs.define
class SlackAlerter:
    """`Alerter` on a Slack incoming webhook, rate-limited with bursts coalesced."""

    client: httpx.Client = attrs.field(repr=False)
    webhook_url: str = attrs.field(repr=False)
    """A secret: whoever has it can post to the channel."""
    clock: Clock
    interval: dt.timedelta = attrs.field(default=dt.timedelta(seconds=1), kw_only=True)
    """The least time between two messages."""
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, kw_only=True, repr=False)
    """How `drain` waits out the interval (tests move their clock instead)."""
    max_held: int = attrs.field(default=100, kw_only=True)
    """Non-critical alerts held at most; older ones are dropped and counted."""
    _held: list[Alert] = attrs.field(factory=list, init=False)
    _uncounted: int = attrs.field(default=0, init=False)
    """Non-critical alerts dropped or left untitled since the last message went out."""
    _next_post: dt.datetime | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        _hide_in_httpx_logs(self.webhook_url)

    @classmethod
    def connect(
        cls, webhook_url: str, *, clock: Clock, timeout: dt.timedelta = dt.timedelta(seconds=3)
    ) -> SlackAlerter:
        """An alerter over a new client that posts to `webhook_url`."""
        return cls(httpx.Client(timeout=timeout.total_seconds()), webhook_url, clock)

    @property
    def held(self) -> int:
        """Alerts waiting for the next message."""
        return len(self._held)

    def alert(self, alert: Alert) -> None:
        """Hold the alert and post what is held if the interval allows; never raises."""
        try:
            self._held.append(alert)
            self._bound()
            self.flush()
        except Exception:  # noqa: BLE001 - an alert must never fail the work it reports
            _log.exception("slack alerter failed", held=len(self._held))

    def flush(self) -> None:
        """Post one message with what is held, unless the last one went out too recently."""
        now = self.clock.now()
        if not self._held or (self._next_post is not None and now < self._next_post):
            return
        critical = [alert for alert in self._held if alert.severity is Severity.CRITICAL]
        others = [alert for alert in self._held if alert.severity is not Severity.CRITICAL]
        titled_critical = critical[: contract.MAX_PER_MESSAGE]
        titled_others = others[: contract.MAX_PER_MESSAGE - len(titled_critical)]
        untitled = len(others) - len(titled_others)
        body = contract.message(titled_critical + titled_others, more=self._uncounted + untitled)
        self._next_post = now + self.interval
        wait = self._post(body)
        if wait is not None:  # kept for the next try, bounded by `_bound`
            self._next_post = now + max(self.interval, dt.timedelta(seconds=wait))
            return
        self._held = critical[contract.MAX_PER_MESSAGE :]
        self._uncounted = 0

    def _post(self, body: dict[str, object]) -> float | None:
        """Post once; None when Slack took it, else the seconds it asked to wait (0 if none)."""
        try:
            response = self.client.post(self.webhook_url, json=body)
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            wait = 0.0
        else:
            if response.is_success:
                return None
            reason = f"{response.status_code} {response.text[:100]}"
            wait = retry_after(response) or 0.0
        _log.warning("slack alert post failed", reason=reason, held=len(self._held))
        return wait

    def drain(
        self,
        *,
        budget: dt.timedelta = dt.timedelta(seconds=5),
        sleep: Callable[[float], None] | None = None,
    ) -> int:
        """Post everything held, waiting out the interval between messages.

        Waits (with `sleep`, else the alerter's) at most `budget` in all; returns the
        alerts still held (0 unless Slack kept failing). Never raises.
        """
        spent = 0.0
        sleep = sleep or self.sleep
        try:
            while self._held:
                now = self.clock.now()
                wait = 0.0
                if self._next_post is not None and now < self._next_post:
                    wait = (self._next_post - now).total_seconds()
                if spent + wait > budget.total_seconds():
                    break
                if wait:
                    sleep(wait)
                    spent += wait
                held = len(self._held)
                self.flush()
                if len(self._held) >= held and self._next_post is None:
                    break  # pragma: no cover - flush always sets the next post time
        except Exception:  # noqa: BLE001 - draining must never fail the work it follows
            _log.exception("slack alerter failed while draining", held=len(self._held))
        if self._held:
            _log.error("slack alerts left unsent", held=len(self._held))
        return len(self._held)

    def close(self) -> None:
        """Drain what is held, then close the HTTP client."""
        self.drain()
        self.client.close()

    def _bound(self) -> None:
        """Drop the oldest non-critical alerts beyond `max_held`, counting them."""
        others = sum(alert.severity is not Severity.CRITICAL for alert in self._held)
        excess = others - self.max_held
        if excess <= 0:
            return
        kept: list[Alert] = []
        for alert in self._held:
            if excess and alert.severity is not Severity.CRITICAL:
                excess -= 1
                self._uncounted += 1
                continue
            kept.append(alert)
        self._held = kept
