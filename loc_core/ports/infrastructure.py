"""Infrastructure ports: time, ids, lease locks, idempotency, flags, metrics, tracing."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

import attrs

__all__ = [
    "Clock",
    "FeatureFlags",
    "IdGenerator",
    "IdempotencyRecord",
    "IdempotencyStatus",
    "IdempotencyStore",
    "Lease",
    "Lock",
    "Metrics",
    "Tracer",
]


class Clock(Protocol):
    """Where services read the time; the core itself never does."""

    def now(self) -> dt.datetime:
        """The current instant as an aware UTC datetime."""
        ...


class IdGenerator(Protocol):
    """Makes identifiers: unique ids and human-readable loan numbers."""

    def new_id(self) -> str:
        """A new identifier, unique across the table (a UUID in production)."""
        ...

    def next_loan_number(self) -> str:
        """The next loan number (``FM-000001``) from an atomic counter: never reused."""
        ...


# --- lease lock ---------------------------------------------------------------------


@attrs.frozen
class Lease:
    """Proof of holding a lock until `expires_at`.

    `fencing_token` grows with every acquisition and heartbeat of the key, whoever the
    owner; a write guarded by a lease may carry the token so storage can refuse a writer
    whose lease was taken over.
    """

    key: str
    owner: str
    fencing_token: int
    expires_at: dt.datetime


class Lock(Protocol):
    """A lease lock for per-user processes, expiring by the injected clock."""

    def acquire(self, key: str, *, owner: str, ttl: dt.timedelta) -> Lease:
        """Take the lease on `key` for `ttl`, or take over one that has expired.

        Raises:
            LockNotAcquired: when another owner holds an unexpired lease.
        """
        ...

    def heartbeat(self, lease: Lease, *, ttl: dt.timedelta) -> Lease:
        """Extend a lease still held, returning it with a new expiry and a higher token.

        Raises:
            LockNotAcquired: when the lease expired and another owner took the key, or
                the lease was released.
        """
        ...

    def release(self, lease: Lease) -> bool:
        """Give the lease up if it is still this one; False when it was already lost."""
        ...


# --- idempotency --------------------------------------------------------------------


class IdempotencyStatus(enum.Enum):
    """Where the command behind an idempotency key stands."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@attrs.frozen
class IdempotencyRecord:
    """What is known about one command from outside, by its idempotency key."""

    key: str
    fingerprint: str
    """A digest of the request, so a key reused for another request is caught."""
    status: IdempotencyStatus
    expires_at: dt.datetime
    response: str = ""
    """The serialized result, replayed to a caller that repeats a completed command."""


class IdempotencyStore(Protocol):
    """Remembers commands from outside so that a repeat has the effect of one."""

    def begin(
        self,
        key: str,
        *,
        fingerprint: str,
        now: dt.datetime,
        ttl: dt.timedelta,
        stale_after: dt.timedelta | None = None,
    ) -> IdempotencyRecord | None:
        """Claim `key` for a new command, or return what is known about it.

        Returns None when the key was new (or its record had expired) and is now claimed
        IN_PROGRESS; otherwise the existing record, IN_PROGRESS or COMPLETED. With
        `stale_after`, an IN_PROGRESS claim of the same request begun (``expires_at -
        ttl``) at least that long ago belonged to a process that died: it is taken over
        atomically (one caller wins) and None is returned, as for a new key.

        Raises:
            IdempotencyConflict: when the key is known with a different fingerprint.
        """
        ...

    def complete(self, key: str, *, response: str, now: dt.datetime) -> None:
        """Record the command's result; later `begin` calls return it.

        Raises:
            NotFound: when `key` was never begun or its record expired.
        """
        ...

    def abandon(self, key: str) -> None:
        """Forget an IN_PROGRESS claim after a failure, so a retry can begin again."""
        ...


# --- flags and metrics --------------------------------------------------------------


class FeatureFlags(Protocol):
    """Switches that change behaviour without a deploy (GrowthBook in production)."""

    def is_enabled(self, flag: str, *, default: bool, user_id: str | None = None) -> bool:
        """Whether `flag` is on, for `user_id` when given; `default` when unknown."""
        ...


class Metrics(Protocol):
    """Counters, gauges and timings for dashboards (CloudWatch EMF lines on Lambda)."""

    def increment(self, name: str, value: int = 1, *, tags: Sequence[str] = ()) -> None:
        """Add `value` to a counter."""
        ...

    def gauge(self, name: str, value: int, *, tags: Sequence[str] = ()) -> None:
        """Set a gauge to `value`."""
        ...

    def timing(self, name: str, milliseconds: float, *, tags: Sequence[str] = ()) -> None:
        """Record how long something took, in milliseconds."""
        ...


class Tracer(Protocol):
    """Where the bus reports each command and event it handles.

    Structured logs in production (`loc_adapters.logs.LogTracer`), nothing in the
    simulation (`NoTracer`). A span is the scope of one command or one incoming event.
    The first span of a call chain gets a correlation id (the one given, else a fresh
    one); spans opened inside it (the events a command publishes, a command a handler
    hands on) share it, so every log line of one request carries one id.
    """

    def span(
        self,
        kind: str,
        name: str,
        *,
        user_id: str | None = None,
        correlation_id: str | None = None,
    ) -> AbstractContextManager[None]:
        """A context for handling `name` (a command or event class) of `kind`.

        `kind` is ``command``, ``event``, ``message`` or ``webhook``. The span records its
        outcome and duration on exit, whether the body returned or raised (the exception
        is never swallowed).
        """
        ...
