"""The dynamolock lock on moto: the Lock and fence contracts, and a Go worker on the same keys.

The Go side is `GoDynamolock`, dynamolock v2's requests played on the same manual clock,
so "a lease duration later" is exact and no test sleeps.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from contracts.fence import FenceContract, pay_under
from contracts.lock import LockContract
from contracts.uow import UowFactory, store_loan
from integration.go_dynamolock import GoDynamolock, LockNotGranted

from loc_adapters.dynamodb import (
    DynamolockLock,
    DynamoTable,
    DynamoUnitOfWork,
    create_lock_table,
)
from loc_adapters.memory import ManualClock
from loc_core.errors import LeaseLost, LockNotAcquired
from loc_core.ports import Lock, UnitOfWork
from loc_core.services.loans import payment_lease_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY = payment_lease_key("user-1", "loan-1")
TTL = dt.timedelta(seconds=30)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def lock_table(dynamodb: DynamoDBClient) -> Iterator[str]:
    """A fresh dynamolock table (partition key ``key``) for one test."""
    name = f"locks-{uuid.uuid4().hex[:12]}"
    create_lock_table(dynamodb, name)
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def lock(dynamodb: DynamoDBClient, lock_table: str, clock: ManualClock) -> DynamolockLock:
    return DynamolockLock(dynamodb, lock_table, clock=clock)


@pytest.fixture
def new_uow(table: DynamoTable, clock: ManualClock, lock: DynamolockLock) -> UowFactory:
    """Units of work whose fences check the lease in the lock table."""

    def make() -> UnitOfWork:
        return DynamoUnitOfWork(table, clock=clock, lease_check=lock.lease_check)

    return make


@pytest.fixture
def advance(clock: ManualClock) -> Callable[[dt.timedelta], None]:
    return clock.advance


@pytest.fixture
def go(dynamodb: DynamoDBClient, lock_table: str, clock: ManualClock) -> GoDynamolock:
    return GoDynamolock(dynamodb, lock_table, clock)


class TestDynamolockLock(LockContract):
    pass


class TestDynamolockFence(FenceContract):
    pass


def test_the_key_is_the_go_services(lock: DynamolockLock, go: GoDynamolock) -> None:
    lock.acquire(KEY, owner="py-worker", ttl=TTL)
    item = go.get("loc-collections:user_id:user-1:item_id:loan-1")
    assert item is not None
    assert (item["key"], item["ownerName"], item["leaseDuration"]) == (KEY, "py-worker", "30s")
    assert re.fullmatch(r"\d+:[A-Z2-7]{52}", item["recordVersionNumber"])
    assert "isReleased" not in item


def test_a_go_holder_keeps_the_library_out_until_its_lease_lapses(
    lock: DynamolockLock, go: GoDynamolock, clock: ManualClock
) -> None:
    held = go.acquire(KEY)  # a 20 s lease
    with pytest.raises(LockNotAcquired, match="held by go-worker"):
        lock.acquire(KEY, owner="py-worker", ttl=TTL)
    clock.advance(dt.timedelta(seconds=15))
    go.heartbeat(held)  # a new record version number: the lease runs again from here
    clock.advance(dt.timedelta(seconds=10))
    with pytest.raises(LockNotAcquired):  # 25 s after it was first seen, but renewed
        lock.acquire(KEY, owner="py-worker", ttl=TTL)
    clock.advance(dt.timedelta(seconds=19))
    with pytest.raises(LockNotAcquired):  # its current version seen 19 s ago
        lock.acquire(KEY, owner="py-worker", ttl=TTL)
    clock.advance(SECOND)  # the Go worker crashed: unchanged for a whole lease duration
    lease = lock.acquire(KEY, owner="py-worker", ttl=TTL)
    assert lease.owner == "py-worker"
    with pytest.raises(LockNotGranted):  # the Go worker, come back, has lost it
        go.heartbeat(held)


def test_a_go_release_frees_the_key_at_once(lock: DynamolockLock, go: GoDynamolock) -> None:
    held = go.acquire(KEY)
    with pytest.raises(LockNotAcquired):
        lock.acquire(KEY, owner="py-worker", ttl=TTL)
    go.release(held)
    assert lock.acquire(KEY, owner="py-worker", ttl=TTL).owner == "py-worker"


def test_a_key_go_deleted_on_release_starts_a_higher_token(
    lock: DynamolockLock, go: GoDynamolock, clock: ManualClock
) -> None:
    first = lock.acquire(KEY, owner="py-worker", ttl=TTL)
    lock.release(first)
    held = go.acquire(KEY)
    assert go.get(KEY)["loc_fencing_token"] == first.fencing_token  # type: ignore[index]  # stored
    go.release(held, delete=True)
    clock.advance(SECOND)
    assert lock.acquire(KEY, owner="py-worker", ttl=TTL).fencing_token > first.fencing_token


def test_the_library_holder_keeps_go_out_while_it_heartbeats(
    lock: DynamolockLock, go: GoDynamolock, clock: ManualClock
) -> None:
    leases = [lock.acquire(KEY, owner="py-worker", ttl=TTL)]

    def heartbeat_every_ten_seconds() -> None:
        if clock.now() - leases[-1].expires_at + TTL >= dt.timedelta(seconds=10):
            leases.append(lock.heartbeat(leases[-1], ttl=TTL))

    go.on_sleep = heartbeat_every_ten_seconds
    with pytest.raises(LockNotGranted):  # gave up after a lease duration and a buffer
        go.acquire(KEY)
    assert len(leases) > 1
    with pytest.raises(LockNotGranted):
        go.acquire(KEY, fail_if_locked=True)
    assert lock.release(leases[-1])
    assert go.acquire(KEY, fail_if_locked=True).owner == "go-worker"


def test_go_takes_over_a_crashed_library_lease_and_its_commit_is_fenced_out(
    lock: DynamolockLock, go: GoDynamolock, new_uow: UowFactory
) -> None:
    store_loan(new_uow)
    stale = lock.acquire(KEY, owner="py-worker", ttl=TTL)  # then the worker stalls
    held = go.acquire(KEY)  # waits the 30 s lease out, then takes the key
    assert go.get(KEY)["ownerName"] == "go-worker"  # type: ignore[index]  # stored
    with pytest.raises(LeaseLost):
        pay_under(new_uow, stale, "pay-1")
    with pytest.raises(LockNotAcquired):
        lock.heartbeat(stale, ttl=TTL)
    assert not lock.release(stale)
    go.heartbeat(held)  # the takeover is the Go worker's alone


def test_two_library_workers_and_a_go_worker_share_one_key(
    lock: DynamolockLock, go: GoDynamolock, clock: ManualClock
) -> None:
    a = lock.acquire(KEY, owner="py-a", ttl=TTL)
    with pytest.raises(LockNotAcquired, match="held by py-a"):
        lock.acquire(KEY, owner="py-b", ttl=TTL)
    clock.advance(TTL)  # py-a crashed: its lease ran out, nobody released it
    b = lock.acquire(KEY, owner="py-b", ttl=TTL)
    assert b.fencing_token > a.fencing_token
    with pytest.raises(LockNotGranted):
        go.acquire(KEY, fail_if_locked=True)


def test_a_lease_in_another_partition_key_name(
    dynamodb: DynamoDBClient, clock: ManualClock
) -> None:
    name = f"locks-{uuid.uuid4().hex[:12]}"
    create_lock_table(dynamodb, name, partition_key="lockID")
    try:
        lock: Lock = DynamolockLock(dynamodb, name, clock=clock, partition_key="lockID")
        go = GoDynamolock(dynamodb, name, clock, partition_key="lockID")
        held = go.acquire(KEY)
        with pytest.raises(LockNotAcquired):
            lock.acquire(KEY, owner="py-worker", ttl=TTL)
        go.release(held)
        lock.acquire(KEY, owner="py-worker", ttl=TTL)
    finally:
        dynamodb.delete_table(TableName=name)
