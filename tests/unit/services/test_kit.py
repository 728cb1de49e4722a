import datetime as dt
from collections.abc import Callable

import attrs
import pytest

from loc_adapters.memory import (
    InMemoryIdempotencyStore,
    InMemoryLock,
    ManualClock,
    RecordingAlerter,
)
from loc_core.errors import IdempotencyConflict, LockNotAcquired
from loc_core.ports import Severity
from loc_core.services.kit import leased, not_booked_alerted, run_once

CLOCK = ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))


@attrs.frozen
class Pay:
    loan_id: str
    amount: int


@attrs.frozen
class Refund:
    loan_id: str
    amount: int


def once(
    store: InMemoryIdempotencyStore, command: attrs.AttrsInstance, work: Callable[[], str]
) -> str:
    """`command` run once under the key ``k``."""
    return run_once("k", command, store=store, clock=CLOCK, work=work)


def test_run_once_does_the_work_once_and_replays_the_result() -> None:
    store, calls = InMemoryIdempotencyStore(), []

    def work() -> str:
        calls.append(1)
        return "pay-1"

    assert once(store, Pay("loan-1", 100), work) == "pay-1"
    assert once(store, Pay("loan-1", 100), work) == "pay-1"
    assert calls == [1]
    with pytest.raises(IdempotencyConflict, match="'k'"):
        once(store, Pay("loan-1", 999), work)


def test_a_key_reused_for_another_kind_of_command_is_a_conflict() -> None:
    store = InMemoryIdempotencyStore()
    assert once(store, Pay("loan-1", 100), lambda: "pay-1") == "pay-1"
    with pytest.raises(IdempotencyConflict):
        once(store, Refund("loan-1", 100), lambda: "refund-1")


def test_a_failed_attempt_can_be_retried_with_the_same_key() -> None:
    store = InMemoryIdempotencyStore()

    def fail() -> str:
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        once(store, Pay("loan-1", 100), fail)
    assert once(store, Pay("loan-1", 100), lambda: "ok") == "ok"


def test_a_lease_is_held_in_the_block_and_released_however_it_ends() -> None:
    lock = InMemoryLock(CLOCK)
    with leased(lock, "loc-pay:u:l", owner="a", ttl=dt.timedelta(seconds=60)) as lease:
        assert lease.owner == "a"
        with pytest.raises(LockNotAcquired):
            lock.acquire("loc-pay:u:l", owner="b", ttl=dt.timedelta(seconds=60))
    with (
        pytest.raises(ValueError, match="boom"),
        leased(lock, "loc-pay:u:l", owner="b", ttl=dt.timedelta(seconds=60)),
    ):
        raise ValueError("boom")
    assert lock.acquire("loc-pay:u:l", owner="c", ttl=dt.timedelta(seconds=60)).owner == "c"


def test_a_lease_held_by_another_owner_refuses_the_block() -> None:
    lock = InMemoryLock(CLOCK)
    held = lock.acquire("k", owner="a", ttl=dt.timedelta(seconds=60))
    ran = []
    with (
        pytest.raises(LockNotAcquired),
        leased(lock, "k", owner="b", ttl=dt.timedelta(seconds=60)),
    ):
        ran.append(True)
    assert not ran
    assert lock.release(held)  # the refused block released nothing of a's


def test_money_moved_but_not_booked_is_alerted_and_raised() -> None:
    alerter = RecordingAlerter()
    with (
        pytest.raises(ValueError, match="stale") as raised,
        not_booked_alerted("a payment", alerter=alerter, details={"key": "k1"}),
    ):
        raise ValueError("stale")
    (alert,) = alerter.posted
    assert alert.severity is Severity.CRITICAL
    assert alert.title == "money moved but not booked: a payment"
    assert alert.details == {"key": "k1", "error": "ValueError: stale"}
    assert raised.value.__traceback__ is not None


def test_a_booking_that_succeeds_or_is_interrupted_is_not_alerted() -> None:
    alerter = RecordingAlerter()
    with not_booked_alerted("a payment", alerter=alerter, details={}):
        pass
    with (
        pytest.raises(KeyboardInterrupt),
        not_booked_alerted("a payment", alerter=alerter, details={}),
    ):
        raise KeyboardInterrupt
    assert alerter.posted == []
