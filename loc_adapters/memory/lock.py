"""A lease lock in memory with the semantics of the DynamoDB one."""

from __future__ import annotations

import datetime as dt
import threading

import attrs

from loc_core.errors import LockNotAcquired
from loc_core.ports import Clock, Lease


@attrs.define
class InMemoryLock:
    """A `Lock` whose leases expire by the injected clock.

    Fencing tokens count per key and never go back, even across release and takeover.
    """

    clock: Clock
    _leases: dict[str, Lease] = attrs.field(factory=dict, alias="leases")
    """The current lease of each key; pass an `InMemoryDatabase.leases` to let that
    database's units of work check a fence (`InMemoryUnitOfWork.fence`)."""
    _tokens: dict[str, int] = attrs.field(factory=dict, init=False)
    _guard: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False, eq=False)
    """Makes each call atomic (as the service it stands for does), so threads may share it."""

    def acquire(self, key: str, *, owner: str, ttl: dt.timedelta) -> Lease:
        """Take the lease, or take over an expired one."""
        with self._guard:
            now = self.clock.now()
            held = self._leases.get(key)
            if held is not None and held.expires_at > now and held.owner != owner:
                raise LockNotAcquired(
                    f"{key} is held by {held.owner} until {held.expires_at}",
                    entity="lease",
                    key=key,
                )
            return self._grant(key, owner, now + ttl)

    def heartbeat(self, lease: Lease, *, ttl: dt.timedelta) -> Lease:
        """Extend a lease that is still the current one."""
        with self._guard:
            now = self.clock.now()
            held = self._leases.get(lease.key)
            if held != lease:
                raise LockNotAcquired(
                    f"{lease.key}: the lease of {lease.owner} was lost",
                    entity="lease",
                    key=lease.key,
                )
            if held.expires_at <= now:
                raise LockNotAcquired(
                    f"{lease.key}: the lease of {lease.owner} expired at {held.expires_at}",
                    entity="lease",
                    key=lease.key,
                )
            return self._grant(lease.key, lease.owner, now + ttl)

    def release(self, lease: Lease) -> bool:
        """Delete the lease if it is still this one."""
        with self._guard:
            if self._leases.get(lease.key) != lease:
                return False
            del self._leases[lease.key]
            return True

    def _grant(self, key: str, owner: str, expires_at: dt.datetime) -> Lease:
        token = self._tokens.get(key, 0) + 1
        self._tokens[key] = token
        lease = Lease(key=key, owner=owner, fencing_token=token, expires_at=expires_at)
        self._leases[key] = lease
        return lease
