"""Notifier, alerter, feature flags and metrics that keep what they are given."""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence

import attrs

from loc_core.errors import ExternalServiceError
from loc_core.events import DomainEvent
from loc_core.ports import Alert


@attrs.define
class RecordingNotifier:
    """A `Notifier` that keeps every event sent; `failing` makes it refuse like a down service."""

    sent: list[DomainEvent] = attrs.field(factory=list)
    failing: bool = False

    def notify(self, event: DomainEvent) -> None:
        """Keep the event, or refuse it while `failing`."""
        if self.failing:
            raise ExternalServiceError(f"notifier unavailable: {event.type.value} not sent")
        self.sent.append(event)


@attrs.define
class RecordingAlerter:
    """An `Alerter` that keeps every alert posted."""

    posted: list[Alert] = attrs.field(factory=list)

    def alert(self, alert: Alert) -> None:
        """Keep the alert."""
        self.posted.append(alert)


@attrs.define
class StaticFeatureFlags:
    """`FeatureFlags` from a fixed mapping; unknown flags take the caller's default."""

    flags: Mapping[str, bool] = attrs.field(factory=dict)

    def is_enabled(self, flag: str, *, default: bool, user_id: str | None = None) -> bool:
        """The mapped value, or `default`; the same for every user."""
        del user_id  # static flags do not vary by user
        return self.flags.get(flag, default)


@attrs.define
class InMemoryMetrics:
    """`Metrics` kept in counters and gauges keyed by name and tags."""

    counters: collections.Counter[tuple[str, tuple[str, ...]]] = attrs.field(
        factory=collections.Counter
    )
    gauges: dict[tuple[str, tuple[str, ...]], int] = attrs.field(factory=dict)
    timings: dict[tuple[str, tuple[str, ...]], list[float]] = attrs.field(factory=dict)

    def increment(self, name: str, value: int = 1, *, tags: Sequence[str] = ()) -> None:
        """Add to a counter."""
        self.counters[name, tuple(sorted(tags))] += value

    def gauge(self, name: str, value: int, *, tags: Sequence[str] = ()) -> None:
        """Set a gauge."""
        self.gauges[name, tuple(sorted(tags))] = value

    def timing(self, name: str, milliseconds: float, *, tags: Sequence[str] = ()) -> None:
        """Keep a timing."""
        self.timings.setdefault((name, tuple(sorted(tags))), []).append(milliseconds)

    def count(self, name: str) -> int:
        """A counter's total across all tags."""
        return sum(value for (key, _), value in self.counters.items() if key == name)
