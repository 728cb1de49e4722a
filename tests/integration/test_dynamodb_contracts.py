"""The DynamoDB adapters pass the contract suites the in-memory ones pass, over HTTP on moto."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from contracts.fence import FenceContract
from contracts.idempotency import IdempotencyContract
from contracts.lock import LockContract
from contracts.uow import UnitOfWorkContract

from loc_adapters.dynamodb import DynamoIdempotencyStore, DynamoLock, DynamoTable
from loc_adapters.memory import ManualClock
from loc_core.errors import LockNotAcquired
from loc_core.ports import IdempotencyStore, Lock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def advance(clock: ManualClock) -> Callable[[dt.timedelta], None]:
    return clock.advance


@pytest.fixture
def lock(table: DynamoTable, clock: ManualClock) -> Lock:
    return DynamoLock(table, clock=clock)


class TestDynamoLock(LockContract):
    pass


class TestDynamoIdempotencyStore(IdempotencyContract):
    @pytest.fixture
    def store(self, table: DynamoTable) -> IdempotencyStore:
        return DynamoIdempotencyStore(table)


class TestDynamoUnitOfWork(UnitOfWorkContract):
    pass


class TestDynamoFence(FenceContract):
    pass


def test_a_heartbeat_says_why_the_lease_is_gone(lock: Lock, clock: ManualClock) -> None:
    lease = lock.acquire("k", owner="a", ttl=dt.timedelta(seconds=5))
    clock.advance(dt.timedelta(seconds=6))
    with pytest.raises(LockNotAcquired, match=r"lease of a \(token 1\) expired at"):
        lock.heartbeat(lease, ttl=dt.timedelta(seconds=5))
    assert lock.release(lease)
    with pytest.raises(LockNotAcquired, match="was released"):
        lock.heartbeat(lease, ttl=dt.timedelta(seconds=5))


def test_a_released_lock_keeps_its_token_and_no_ttl(
    lock: Lock, table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    lock.release(lock.acquire("k", owner="a", ttl=dt.timedelta(seconds=5)))
    item = dynamodb.get_item(
        TableName=table.name, Key={"PK": {"S": "LOCK#k"}, "SK": {"S": "LOCK"}}
    )["Item"]
    assert item["loc_fencing_token"] == {"N": "1"}
    assert {"loc_owner", "ttl"}.isdisjoint(item)


def test_an_idempotency_record_carries_a_ttl_rounded_up(
    table: DynamoTable, clock: ManualClock, dynamodb: DynamoDBClient
) -> None:
    now = clock.now() + dt.timedelta(microseconds=1)
    DynamoIdempotencyStore(table).begin("k", fingerprint="f", now=now, ttl=dt.timedelta(hours=24))
    item = dynamodb.get_item(
        TableName=table.name, Key={"PK": {"S": "IDEMPOTENCY#k"}, "SK": {"S": "IDEMPOTENCY"}}
    )["Item"]
    expires = now + dt.timedelta(hours=24)
    assert item["ttl"] == {"N": str(int(expires.timestamp()) + 1)}
    assert item["loc_expires_at"] == {"S": "2026-01-06T16:00:00.000001Z"}
