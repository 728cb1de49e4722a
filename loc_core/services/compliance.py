"""Compliance monitors: large money movements and bursts of them, told to operations.

The payments design the library follows asks for an alert on any single movement at or
above $10,000 and on more than 5 movements by one user within a minute (both policy,
`CompliancePolicy`). Every movement passes `Movements.open`, which hands each *new*
intent to the `ComplianceMonitor` once it is committed (a resumed intent is the same
movement and is not counted again). The monitor only alerts (WARNING: a movement to
look at, not a failure); it never blocks or delays the money.

The burst count is a sliding window per user kept in memory (`MovementWindows`,
registered once by the bootstrap): in a deployment of several processes (Lambda
instances) each process counts the movements it opened, so a burst spread over
processes may go unnoticed; the large-movement rule does not depend on it.
"""

from __future__ import annotations

import collections
import datetime as dt

import attrs

from loc_core.intents import TransferIntent
from loc_core.ports import Alerter, Clock, Severity
from loc_core.services.kit import post_alert

__all__ = [
    "BURST_RULE",
    "LARGE_MOVEMENT_RULE",
    "ComplianceMonitor",
    "CompliancePolicy",
    "MovementWindows",
]

LARGE_MOVEMENT_RULE = "large-movement"
"""The rule a single movement at or above `CompliancePolicy.large_movement` breaks."""
BURST_RULE = "movement-burst"
"""The rule more than `CompliancePolicy.burst_count` movements in the window break."""


def _at_least_one(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise ValueError(f"{attribute.name} must be a whole number >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class CompliancePolicy:
    """The compliance thresholds *(policy)*; registered on the bus by the bootstrap."""

    large_movement: int = attrs.field(default=1_000_000, validator=_at_least_one)
    """Cents: a single movement of at least this much ($10,000) is alerted."""
    burst_count: int = attrs.field(default=5, validator=_at_least_one)
    """More movements than this by one user within `burst_window` are alerted."""
    burst_window: dt.timedelta = dt.timedelta(minutes=1)
    """The sliding window the burst rule counts in."""


@attrs.define
class MovementWindows:
    """When each user's recent movements were opened (this process's count)."""

    _opened: dict[str, collections.deque[dt.datetime]] = attrs.field(factory=dict, init=False)
    _next_sweep: dt.datetime | None = attrs.field(default=None, init=False)

    def count(self, user_id: str, now: dt.datetime, window: dt.timedelta) -> int:
        """Record a movement of `user_id` at `now`; how many it has made within `window`."""
        self._sweep(now, window)
        opened = self._opened.setdefault(user_id, collections.deque())
        _forget_before(opened, now - window)
        opened.append(now)
        return len(opened)

    def _sweep(self, now: dt.datetime, window: dt.timedelta) -> None:
        """Once a window, forget users with no movement in it, so memory stays bounded."""
        if self._next_sweep is not None and now < self._next_sweep:
            return
        for user_id in list(self._opened):
            _forget_before(self._opened[user_id], now - window)
            if not self._opened[user_id]:
                del self._opened[user_id]
        self._next_sweep = now + window

    def __len__(self) -> int:
        return len(self._opened)


def _forget_before(opened: collections.deque[dt.datetime], start: dt.datetime) -> None:
    while opened and opened[0] <= start:
        opened.popleft()


@attrs.frozen
class ComplianceMonitor:
    """Alerts operations about movements the compliance policy flags (built by the bus)."""

    policy: CompliancePolicy
    windows: MovementWindows
    alerter: Alerter
    clock: Clock

    def opened(self, intent: TransferIntent) -> None:
        """Check a newly committed intent against both rules; alert what breaks one.

        The alerts name the user, the amount or count, and the rule, never an account.
        The burst alert goes out once, when the count first passes the limit.
        """
        policy = self.policy
        details = {
            "user_id": intent.user_id,
            "kind": intent.kind.value,
            "direction": intent.direction.value,
            "amount": intent.amount,
        }
        if intent.amount >= policy.large_movement:
            post_alert(
                self.alerter,
                f"money movement of {intent.amount} cents, at or above "
                f"{policy.large_movement} cents",
                {**details, "rule": LARGE_MOVEMENT_RULE, "threshold": policy.large_movement},
                severity=Severity.WARNING,
            )
        window = policy.burst_window
        count = self.windows.count(intent.user_id, self.clock.now(), window)
        if count == policy.burst_count + 1:
            post_alert(
                self.alerter,
                f"{count} money movements by one user within {window}, "
                f"more than {policy.burst_count}",
                {
                    **details,
                    "rule": BURST_RULE,
                    "count": count,
                    "window_seconds": int(window.total_seconds()),
                },
                severity=Severity.WARNING,
            )
