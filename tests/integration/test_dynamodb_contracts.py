"""The DynamoDB adapters pass the contract suites the in-memory ones pass, over HTTP on moto."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from contracts.audit import AuditLogContract
from contracts.fence import FenceContract
from contracts.idempotency import IdempotencyContract
from contracts.intents import MADE, IntentRepositoryContract, make_intent, open_ids, store
from contracts.lock import LockContract
from contracts.outbox import EventOutboxContract
from contracts.uow import UnitOfWorkContract, UowFactory
from integration.support import units_of_work

from loc_adapters.dynamodb import (
    DynamoEventOutbox,
    DynamoIdempotencyStore,
    DynamoLock,
    DynamoTable,
    create_table,
)
from loc_adapters.memory import ManualClock
from loc_core.errors import LockNotAcquired
from loc_core.intents import INTENT_RETENTION
from loc_core.ports import EventOutbox, IdempotencyStore, Lock

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


class TestDynamoEventOutbox(EventOutboxContract):
    @pytest.fixture
    def outbox(self, table: DynamoTable) -> EventOutbox:
        return DynamoEventOutbox(table)


class TestDynamoAuditLog(AuditLogContract):
    pass


class TestDynamoFence(FenceContract):
    pass


class TestDynamoIntents(IntentRepositoryContract):
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


def test_open_intents_are_read_from_every_shard_oldest_first(
    dynamodb: DynamoDBClient, clock: ManualClock
) -> None:
    name = f"test-{uuid.uuid4().hex[:12]}-loc-service"
    table = create_table(dynamodb, name, shards=3)
    try:
        new_uow = units_of_work(table, clock)
        ids = [f"intent-{n}" for n in range(8)]
        store(
            new_uow,
            *(
                make_intent(i, created_at=MADE + n * dt.timedelta(minutes=1))
                for n, i in enumerate(ids)
            ),
        )
        partitions = {
            item["GSI2PK"]["S"]
            for item in dynamodb.scan(TableName=name)["Items"]
            if "GSI2PK" in item
        }
        assert len(partitions) > 1  # spread over the shards, and still read in time order
        assert open_ids(new_uow, MADE + dt.timedelta(hours=1)) == ids
    finally:
        dynamodb.delete_table(TableName=name)


def intent_item(dynamodb: DynamoDBClient, table: DynamoTable) -> dict[str, Any]:
    """The stored item of the contract's default intent, as DynamoDB returns it."""
    key = {"PK": {"S": "INTENT#manual:loan-1:key-1"}, "SK": {"S": "INTENT"}}
    return dict(dynamodb.get_item(TableName=table.name, Key=key)["Item"])


def test_a_finished_intent_carries_a_ttl_and_leaves_the_index(
    table: DynamoTable, new_uow: UowFactory, dynamodb: DynamoDBClient
) -> None:
    store(new_uow, make_intent())
    with new_uow() as uow:
        intent = uow.intents.get("user-1", "manual:loan-1:key-1")
        intent.abandon("declined", now=MADE)
        uow.intents.save(intent)
        uow.commit(actor="test", request_id="abandon")
    item = intent_item(dynamodb, table)
    assert not {"GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"} & item.keys()  # an update removes them
    expires = intent.updated_at + INTENT_RETENTION
    assert item["ttl"] == {"N": str(int(expires.timestamp()))}
    with new_uow() as uow:
        intent = uow.intents.get("user-1", "manual:loan-1:key-1")
        intent.reopen(MADE)
        uow.intents.save(intent)
        uow.commit(actor="test", request_id="retry")
    item = intent_item(dynamodb, table)
    assert "ttl" not in item
    assert item["GSI2PK"] == {"S": "INTENT#OPEN"}
    assert item["GSI3PK"] == {"S": "INTENT#PENDING#loan-1"}  # its account's open intents
