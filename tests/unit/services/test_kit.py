import datetime as dt
from collections.abc import Callable

import attrs
import pytest

from loc_adapters.memory import InMemoryIdempotencyStore, ManualClock
from loc_core.errors import IdempotencyConflict
from loc_core.services.kit import run_once

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
