"""What the loan use cases share: the business date, conflict retries, metrics."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import TypeVar

from loc_core.calendar import require_utc
from loc_core.errors import ConcurrencyConflict
from loc_core.payments import Rail
from loc_core.ports import Clock, Lease, Lock, Metrics, lock_key

__all__ = [
    "CONFLICT_ATTEMPTS",
    "DISBURSEMENT_RAILS",
    "PAYMENT_LEASE",
    "REPAYMENT_RAILS",
    "count",
    "leased",
    "moment",
    "payment_lease_key",
    "retry_on_conflict",
]

T = TypeVar("T")

DISBURSEMENT_RAILS: tuple[Rail, ...] = (Rail.PINLESS, Rail.ACH)
"""Loan proceeds go out by pinless debit card push first (instant), then ACH."""
REPAYMENT_RAILS: tuple[Rail, ...] = (Rail.PINLESS, Rail.ACH)
"""Repayments are collected by pinless debit first, then ACH (RTP only sends credits)."""

CONFLICT_ATTEMPTS = 3
"""How many times a unit of work is tried when a concurrent writer changed its aggregate."""


PAYMENT_LEASE = dt.timedelta(minutes=2)
"""How long a worker or a manual payment holds a loan's payment lease (policy).

Longer than a rail call and two commits take, shorter than the queue's visibility
timeout, so a crashed worker's lease has run out when its message is delivered again.
"""


def payment_lease_key(user_id: str, loan_id: str) -> str:
    """The lease every payment on a loan holds (autopay and manual alike).

    The seed's collections key, ``loc-collections:user_id:<u>:item_id:<loan>``: holding
    it, nobody else takes money for the loan, so a payment decided on a read of the loan
    still fits when it is booked.
    """
    return lock_key("collections", user_id=user_id, item_id=loan_id)


@contextlib.contextmanager
def leased(lock: Lock, key: str, *, owner: str, ttl: dt.timedelta) -> Iterator[Lease]:
    """Hold the lease on `key` for the block; it is released however the block ends.

    Raises:
        LockNotAcquired: when another owner holds it.
    """
    lease = lock.acquire(key, owner=owner, ttl=ttl)
    try:
        yield lease
    finally:
        lock.release(lease)


def moment(clock: Clock) -> tuple[dt.datetime, dt.date]:
    """The clock's instant (UTC) and the business date it falls on."""
    now = require_utc(clock.now(), field="clock.now()")
    return now, now.date()


def retry_on_conflict(work: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS) -> T:
    """Run `work` (which reads, changes and commits) again when its commit lost a race.

    Each try must read afresh, so it decides on what the other writer committed.

    Raises:
        ConcurrencyConflict: when every try lost.
    """
    for left in range(attempts - 1, -1, -1):
        try:
            return work()
        except ConcurrencyConflict:
            if not left:
                raise
    raise AssertionError("unreachable: attempts must be at least 1")  # pragma: no cover


def count(metrics: Metrics | None, name: str, *tags: str) -> None:
    """Add one to the counter ``loc.loans.<name>`` (tags ``key:value``) when metrics are wired."""
    if metrics is not None:
        metrics.increment(f"loc.loans.{name}", tags=tags)
