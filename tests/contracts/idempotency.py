"""The `IdempotencyStore` contract."""

import datetime as dt
from collections.abc import Callable

import pytest

from loc_core.errors import IdempotencyConflict, NotFound
from loc_core.ports import Clock, IdempotencyStatus, IdempotencyStore

TTL = dt.timedelta(hours=24)


class IdempotencyContract:
    def test_a_new_key_is_claimed_and_a_repeat_sees_the_claim(
        self, store: IdempotencyStore, clock: Clock
    ) -> None:
        assert store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL) is None
        seen = store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL)
        assert seen is not None
        assert seen.status is IdempotencyStatus.IN_PROGRESS

    def test_a_completed_command_replays_its_response(
        self, store: IdempotencyStore, clock: Clock
    ) -> None:
        store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL)
        store.complete("k1", response='{"payment_id": "p1"}', now=clock.now())
        seen = store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL)
        assert seen is not None
        assert seen.status is IdempotencyStatus.COMPLETED
        assert seen.response == '{"payment_id": "p1"}'

    def test_a_key_reused_for_another_request_is_refused(
        self, store: IdempotencyStore, clock: Clock
    ) -> None:
        store.begin("k1", fingerprint="pay 100", now=clock.now(), ttl=TTL)
        with pytest.raises(IdempotencyConflict, match="k1") as reused:
            store.begin("k1", fingerprint="pay 999", now=clock.now(), ttl=TTL)
        assert (reused.value.entity, reused.value.key) == ("idempotency", "k1")

    def test_an_expired_record_no_longer_counts(
        self, store: IdempotencyStore, clock: Clock, advance: Callable[[dt.timedelta], None]
    ) -> None:
        store.begin("k1", fingerprint="f", now=clock.now(), ttl=dt.timedelta(seconds=1))
        advance(dt.timedelta(seconds=2))
        assert store.begin("k1", fingerprint="other", now=clock.now(), ttl=TTL) is None

    def test_a_claim_older_than_its_lease_is_taken_over_by_the_same_request_only(
        self, store: IdempotencyStore, clock: Clock, advance: Callable[[dt.timedelta], None]
    ) -> None:
        lease = dt.timedelta(minutes=2)
        store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=lease)
        advance(dt.timedelta(minutes=1))  # the first attempt may still be alive
        young = store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=lease)
        assert young is not None
        assert young.status is IdempotencyStatus.IN_PROGRESS
        advance(dt.timedelta(minutes=2))  # its lease ran out: its process died
        with pytest.raises(IdempotencyConflict):
            store.begin("k1", fingerprint="other", now=clock.now(), ttl=TTL, stale_after=lease)
        assert (
            store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=lease) is None
        )
        again = store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=lease)
        assert again is not None  # the take-over is a fresh claim: one caller wins
        store.complete("k1", response="done", now=clock.now())
        advance(dt.timedelta(hours=1))
        done = store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL, stale_after=lease)
        assert done is not None
        assert done.response == "done"  # a completed command is never taken over

    def test_abandon_lets_a_failed_command_be_retried_but_keeps_completed_ones(
        self, store: IdempotencyStore, clock: Clock
    ) -> None:
        store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL)
        store.abandon("k1")
        assert store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL) is None
        store.complete("k1", response="done", now=clock.now())
        store.abandon("k1")
        seen = store.begin("k1", fingerprint="f", now=clock.now(), ttl=TTL)
        assert seen is not None
        assert seen.response == "done"

    def test_completing_an_unknown_key_is_an_error(
        self, store: IdempotencyStore, clock: Clock
    ) -> None:
        with pytest.raises(NotFound, match="never begun"):
            store.complete("nope", response="x", now=clock.now())
