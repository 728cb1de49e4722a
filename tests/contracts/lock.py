"""The `Lock` contract."""

import datetime as dt
from collections.abc import Callable

import pytest

from loc_core.errors import LockNotAcquired
from loc_core.ports import Lock
from loc_core.services.kit import lock_key

TTL = dt.timedelta(seconds=30)
KEY = lock_key("collections", user_id="user-1", item_id="loan-1")


class LockContract:
    def test_key_format_matches_the_original_service(self) -> None:
        assert KEY == "loc-collections:user_id:user-1:item_id:loan-1"

    def test_a_held_lease_keeps_other_owners_out(self, lock: Lock) -> None:
        lease = lock.acquire(KEY, owner="worker-a", ttl=TTL)
        with pytest.raises(LockNotAcquired, match="held by worker-a") as held:
            lock.acquire(KEY, owner="worker-b", ttl=TTL)
        assert (held.value.entity, held.value.key) == ("lease", KEY)
        assert lock.release(lease)

    def test_different_keys_do_not_block_each_other(self, lock: Lock) -> None:
        lock.acquire(KEY, owner="worker-a", ttl=TTL)
        other = lock.acquire(KEY + "-2", owner="worker-b", ttl=TTL)
        assert other.owner == "worker-b"

    def test_an_expired_lease_is_taken_over_with_a_higher_fencing_token(
        self, lock: Lock, advance: Callable[[dt.timedelta], None]
    ) -> None:
        first = lock.acquire(KEY, owner="worker-a", ttl=dt.timedelta(seconds=1))
        advance(dt.timedelta(seconds=2))
        second = lock.acquire(KEY, owner="worker-b", ttl=TTL)
        assert second.owner == "worker-b"
        assert second.fencing_token > first.fencing_token
        # The first owner has lost it: it can neither extend nor release the new lease.
        with pytest.raises(LockNotAcquired):
            lock.heartbeat(first, ttl=TTL)
        assert not lock.release(first)
        with pytest.raises(LockNotAcquired):
            lock.acquire(KEY, owner="worker-c", ttl=TTL)

    def test_heartbeat_extends_and_raises_the_token(self, lock: Lock) -> None:
        lease = lock.acquire(KEY, owner="worker-a", ttl=TTL)
        extended = lock.heartbeat(lease, ttl=TTL * 2)
        assert extended.expires_at > lease.expires_at
        assert extended.fencing_token > lease.fencing_token
        # The old proof is stale once extended.
        assert not lock.release(lease)
        assert lock.release(extended)

    def test_release_frees_the_key_once(self, lock: Lock) -> None:
        lease = lock.acquire(KEY, owner="worker-a", ttl=TTL)
        assert lock.release(lease)
        assert not lock.release(lease)
        again = lock.acquire(KEY, owner="worker-b", ttl=TTL)
        assert again.fencing_token > lease.fencing_token

    def test_tokens_never_go_back_across_releases(self, lock: Lock) -> None:
        tokens = []
        for owner in ("a", "b", "c"):
            lease = lock.acquire(KEY, owner=owner, ttl=TTL)
            tokens.append(lease.fencing_token)
            lock.release(lease)
        assert tokens == sorted(set(tokens))
