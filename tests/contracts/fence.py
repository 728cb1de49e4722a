"""The fencing contract: a unit of work fenced by a lease commits only while it is current."""

import datetime as dt
from collections.abc import Callable

import pytest

from contracts.uow import UowFactory, pay, store_loan
from loc_core.errors import LeaseLost, LockNotAcquired
from loc_core.ports import Lease, Lock

TTL = dt.timedelta(seconds=30)
KEY = "loc-collections:user_id:user-1:item_id:loan-1"


def pay_under(new_uow: UowFactory, lease: Lease, payment_id: str) -> None:
    """Apply a payment to loan-1 in a unit of work fenced by `lease`, and commit."""
    with new_uow() as uow:
        uow.fence(lease)
        pay(uow, payment_id, 1_000)
        uow.commit(actor="worker", request_id=payment_id)


def payments(new_uow: UowFactory) -> list[str]:
    with new_uow() as uow:
        return sorted(uow.loans.get("user-1", "loan-1").payments)


class FenceContract:
    def test_a_current_lease_lets_the_commit_through(self, new_uow: UowFactory, lock: Lock) -> None:
        store_loan(new_uow)
        pay_under(new_uow, lock.acquire(KEY, owner="worker-a", ttl=TTL), "pay-1")
        assert payments(new_uow) == ["pay-1"]

    def test_a_lease_taken_over_fails_the_commit_and_nothing_is_written(
        self, new_uow: UowFactory, lock: Lock, advance: Callable[[dt.timedelta], None]
    ) -> None:
        store_loan(new_uow)
        stale = lock.acquire(KEY, owner="worker-a", ttl=dt.timedelta(seconds=1))
        advance(dt.timedelta(seconds=2))
        current = lock.acquire(KEY, owner="worker-b", ttl=TTL)
        with pytest.raises(LeaseLost) as lost:
            pay_under(new_uow, stale, "pay-1")
        assert isinstance(lost.value, LockNotAcquired)
        assert (lost.value.entity, lost.value.key) == ("lease", KEY)
        with new_uow() as uow:
            loan = uow.loans.get("user-1", "loan-1")
            assert (loan.payments, loan.version) == ({}, 1)
            assert [e.entry_id for e in uow.journal.entries_for("loan-1")] == ["loan-1:disburse"]
        pay_under(new_uow, current, "pay-2")
        assert payments(new_uow) == ["pay-2"]

    def test_after_a_heartbeat_only_the_new_lease_commits(
        self, new_uow: UowFactory, lock: Lock
    ) -> None:
        store_loan(new_uow)
        first = lock.acquire(KEY, owner="worker-a", ttl=TTL)
        extended = lock.heartbeat(first, ttl=TTL)
        with pytest.raises(LeaseLost):
            pay_under(new_uow, first, "pay-1")
        pay_under(new_uow, extended, "pay-2")
        assert payments(new_uow) == ["pay-2"]

    def test_a_released_lease_fails_the_commit(self, new_uow: UowFactory, lock: Lock) -> None:
        store_loan(new_uow)
        lease = lock.acquire(KEY, owner="worker-a", ttl=TTL)
        assert lock.release(lease)
        with pytest.raises(LeaseLost):
            pay_under(new_uow, lease, "pay-1")
        assert payments(new_uow) == []

    def test_a_fence_lasts_one_attempt(self, new_uow: UowFactory, lock: Lock) -> None:
        store_loan(new_uow)
        lease = lock.acquire(KEY, owner="worker-a", ttl=TTL)
        lock.release(lease)
        uow = new_uow()
        with uow:
            uow.fence(lease)
        with uow:  # entered again: the next attempt starts clean, without the fence
            pay(uow, "pay-1", 1_000)
            uow.commit(actor="worker", request_id="pay-1")
        assert payments(new_uow) == ["pay-1"]
