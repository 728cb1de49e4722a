"""Leases and idempotency records on DynamoDB under crashes and concurrent callers.

Two store or lock instances stand for two processes; threads send their requests to the
moto server at once (it answers one at a time, as DynamoDB applies each conditional
write atomically).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import attrs
import pytest
from botocore.exceptions import ClientError
from contracts.uow import UowFactory, pay, store_loan

from loc_adapters.dynamodb import DynamoIdempotencyStore, DynamoLock, DynamoTable
from loc_adapters.memory import ManualClock
from loc_core.errors import (
    ExternalServiceError,
    IdempotencyConflict,
    LeaseLost,
    LockNotAcquired,
)
from loc_core.ports import IdempotencyStatus
from loc_core.services.kit import run_once

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TTL = dt.timedelta(hours=24)
LEASE = dt.timedelta(minutes=2)
KEY = "loc-payment:user_id:user-1:item_id:loan-1"


def at_once(count: int, work: Any) -> list[Any]:
    """Run `work(n)` in `count` threads released together; their results or errors."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = work(n)
        except Exception as exc:  # noqa: BLE001 - the test looks at each outcome
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def new_lock(table: DynamoTable, clock: ManualClock) -> Callable[[], DynamoLock]:
    """A lock on the table for one more process, on the test's clock."""
    return functools.partial(DynamoLock, table, clock=clock)


@attrs.frozen
class Pay:
    amount: int


# --- idempotency ----------------------------------------------------------------------


def test_of_requests_claiming_one_key_at_once_exactly_one_wins(
    table: DynamoTable, clock: ManualClock
) -> None:
    stores = [DynamoIdempotencyStore(table) for _ in range(8)]
    seen = at_once(8, lambda n: stores[n].begin("pay-1", fingerprint="f", now=clock.now(), ttl=TTL))
    assert seen.count(None) == 1
    assert all(s is None or s.status is IdempotencyStatus.IN_PROGRESS for s in seen)


def test_a_stale_claims_late_abandon_leaves_the_take_over_alone(
    table: DynamoTable, clock: ManualClock
) -> None:
    """A paused process's claim went stale; another took the key over and is working.

    When the paused one wakes and fails, its abandon must not drop the new claim: a third
    request would then run the command beside the second one.
    """
    first, second, third = (DynamoIdempotencyStore(table) for _ in range(3))
    assert (
        first.begin("pay-1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=LEASE) is None
    )
    clock.advance(LEASE + dt.timedelta(seconds=1))
    taken = second.begin("pay-1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=LEASE)
    assert taken is None
    first.abandon("pay-1")  # the paused process fails at last
    running = third.begin("pay-1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=LEASE)
    assert running is not None
    assert running.status is IdempotencyStatus.IN_PROGRESS
    second.complete("pay-1", response="receipt", now=clock.now())
    done = third.begin("pay-1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=LEASE)
    assert done is not None
    assert done.response == "receipt"


def test_an_own_claim_is_still_abandoned(table: DynamoTable, clock: ManualClock) -> None:
    store = DynamoIdempotencyStore(table)
    store.begin("pay-1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=LEASE)
    store.abandon("pay-1")
    assert store.begin("pay-1", fingerprint="f", now=clock.now(), ttl=TTL) is None


class FailingUpdates:
    """A client whose next `update_item` is throttled; every other call passes through."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self.failures = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **request: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateItem"
            )
        return self._client.update_item(**request)


def test_when_the_answer_cannot_be_written_the_command_is_resumed_not_doubled(
    table: DynamoTable, clock: ManualClock
) -> None:
    client = FailingUpdates(table.client)
    store = DynamoIdempotencyStore(DynamoTable(cast("DynamoDBClient", client), table.name))
    ran: list[str] = []

    def work() -> str:
        ran.append("ran")
        return "receipt"

    def once() -> str:
        return run_once("pay-1", Pay(100), store=store, clock=clock, work=work, stale_after=LEASE)

    client.failures = 1
    with pytest.raises(ExternalServiceError, match="Throttling"):
        once()
    with pytest.raises(IdempotencyConflict, match="still running"):
        once()  # within the lease, the first attempt may still be alive
    clock.advance(LEASE + dt.timedelta(seconds=1))
    assert once() == "receipt"
    assert once() == "receipt"
    assert ran == ["ran", "ran"]  # resumed once after the lease; never a third time


# --- leases ---------------------------------------------------------------------------


def test_a_crashed_holders_lease_is_taken_over_and_it_can_no_longer_act(
    clock: ManualClock, new_lock: Callable[[], DynamoLock], new_uow: UowFactory
) -> None:
    crashed, survivor = new_lock(), new_lock()
    store_loan(new_uow)
    old = crashed.acquire(KEY, owner="worker-a", ttl=dt.timedelta(seconds=30))
    with pytest.raises(LockNotAcquired, match="held by worker-a"):
        survivor.acquire(KEY, owner="worker-b", ttl=dt.timedelta(seconds=30))
    clock.advance(dt.timedelta(seconds=31))  # worker-a stopped heartbeating
    new = survivor.acquire(KEY, owner="worker-b", ttl=dt.timedelta(seconds=30))
    assert new.fencing_token > old.fencing_token
    with pytest.raises(LockNotAcquired, match="worker-b holds the key"):
        crashed.heartbeat(old, ttl=dt.timedelta(seconds=30))
    assert crashed.release(old) is False  # released by one who no longer holds it
    with pytest.raises(LockNotAcquired, match="held by worker-b"):
        crashed.acquire(KEY, owner="worker-c", ttl=dt.timedelta(seconds=30))
    with new_uow() as uow:
        uow.fence(old)
        pay(uow, "pay-old", 1_000)
        with pytest.raises(LeaseLost):
            uow.commit(actor="worker-a", request_id="old")
    with new_uow() as uow:
        uow.fence(new)
        pay(uow, "pay-new", 1_000)
        uow.commit(actor="worker-b", request_id="new")
    with new_uow() as uow:
        assert list(uow.loans.get("user-1", "loan-1").payments) == ["pay-new"]
    assert survivor.release(new) is True


def test_of_workers_taking_an_expired_lease_at_once_exactly_one_wins(
    clock: ManualClock, new_lock: Callable[[], DynamoLock]
) -> None:
    new_lock().acquire(KEY, owner="crashed", ttl=dt.timedelta(seconds=5))
    clock.advance(dt.timedelta(seconds=6))
    locks = [new_lock() for _ in range(6)]
    outcomes = at_once(
        6, lambda n: locks[n].acquire(KEY, owner=f"w{n}", ttl=dt.timedelta(seconds=30))
    )
    won = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(won) == 1
    assert all(isinstance(o, LockNotAcquired) for o in outcomes if o not in won)
