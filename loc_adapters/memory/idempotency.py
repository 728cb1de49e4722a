"""An idempotency store in memory, with expiry by the caller's clock."""

from __future__ import annotations

import datetime as dt
import heapq
import threading

import attrs

from loc_core.errors import IdempotencyConflict, NotFound
from loc_core.ports import IdempotencyRecord, IdempotencyStatus


@attrs.define
class InMemoryIdempotencyStore:
    """An `IdempotencyStore` in a dict; an expired record counts as absent.

    Expired records are dropped as time passes (soonest expiry first, whenever a key is
    begun, whatever order their TTLs were given in), as DynamoDB's TTL drops them, so the
    store holds about one TTL's worth of commands.
    """

    _records: dict[str, IdempotencyRecord] = attrs.field(factory=dict, init=False)
    _by_expiry: list[tuple[dt.datetime, str]] = attrs.field(factory=list, init=False)
    """A heap of (expiry, key): a record kept for years never holds back the others."""
    _guard: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False, eq=False)
    """Makes each call atomic (as the service it stands for does), so threads may share it."""

    def begin(
        self,
        key: str,
        *,
        fingerprint: str,
        now: dt.datetime,
        ttl: dt.timedelta,
        stale_after: dt.timedelta | None = None,
    ) -> IdempotencyRecord | None:
        """Claim a new key (or a stale claim of the same request), or return its record."""
        with self._guard:
            self._drop_expired(now)
            record = self._live(key, now)
            stale = (
                record is not None
                and stale_after is not None
                and record.status is IdempotencyStatus.IN_PROGRESS
                and record.fingerprint == fingerprint
                and record.expires_at - ttl <= now - stale_after
            )
            if record is None or stale:
                self._records[key] = IdempotencyRecord(
                    key=key,
                    fingerprint=fingerprint,
                    status=IdempotencyStatus.IN_PROGRESS,
                    expires_at=now + ttl,
                )
                heapq.heappush(self._by_expiry, (now + ttl, key))
                return None
            if record.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    f"idempotency key {key!r} was used for another request",
                    entity="idempotency",
                    key=key,
                )
            return record

    def complete(self, key: str, *, response: str, now: dt.datetime) -> None:
        """Store the result of the command behind `key`."""
        with self._guard:
            record = self._live(key, now)
            if record is None:
                raise NotFound(
                    f"idempotency key {key!r} was never begun or has expired",
                    entity="idempotency",
                    key=key,
                )
            self._records[key] = attrs.evolve(
                record, status=IdempotencyStatus.COMPLETED, response=response
            )

    def abandon(self, key: str) -> None:
        """Drop an IN_PROGRESS claim; a completed record stays."""
        with self._guard:
            record = self._records.get(key)
            if record is not None and record.status is IdempotencyStatus.IN_PROGRESS:
                del self._records[key]

    def _drop_expired(self, now: dt.datetime) -> None:
        expiring = self._by_expiry
        while expiring and expiring[0][0] <= now:
            expires_at, key = heapq.heappop(expiring)
            record = self._records.get(key)
            if record is not None and record.expires_at == expires_at:
                del self._records[key]

    def __len__(self) -> int:
        """Records held, expired ones not yet dropped included."""
        return len(self._records)

    def _live(self, key: str, now: dt.datetime) -> IdempotencyRecord | None:
        record = self._records.get(key)
        if record is not None and record.expires_at <= now:
            del self._records[key]
            return None
        return record
