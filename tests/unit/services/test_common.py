import datetime as dt

import attrs
import pytest

from loc_adapters.memory import (
    InMemoryIdempotencyStore,
    ManualClock,
    RecordingAlerter,
    RecordingNotifier,
)
from loc_core.errors import IdempotencyConflict
from loc_core.events import DomainEvent, EventType
from loc_core.services.common import publish, run_once

NOW = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)


@attrs.frozen
class Pay:
    loan_id: str
    amount: int


def test_run_once_does_the_work_once_and_replays_the_result() -> None:
    store, clock, calls = InMemoryIdempotencyStore(), ManualClock(NOW), []

    def work() -> str:
        calls.append(1)
        return "pay-1"

    assert run_once("k", Pay("loan-1", 100), store=store, clock=clock, work=work) == "pay-1"
    assert run_once("k", Pay("loan-1", 100), store=store, clock=clock, work=work) == "pay-1"
    assert calls == [1]
    with pytest.raises(IdempotencyConflict, match="'k'"):
        run_once("k", Pay("loan-1", 999), store=store, clock=clock, work=work)


def test_a_failed_attempt_can_be_retried_with_the_same_key() -> None:
    store, clock = InMemoryIdempotencyStore(), ManualClock(NOW)

    def fail() -> str:
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        run_once("k", Pay("loan-1", 100), store=store, clock=clock, work=fail)
    assert run_once("k", Pay("loan-1", 100), store=store, clock=clock, work=lambda: "ok") == "ok"


def test_a_notifier_failure_is_alerted_and_does_not_raise() -> None:
    event = DomainEvent(EventType.LOAN_CLOSED, "u1", "loan-1", NOW.date())
    notifier, alerter = RecordingNotifier(failing=True), RecordingAlerter()
    assert publish([event], notifier=notifier, alerter=alerter) == 0
    assert [a.title for a in alerter.posted] == ["notification loan_closed not sent"]
    notifier.failing = False
    assert publish([event], notifier=notifier, alerter=alerter) == 1
    assert notifier.sent == [event]
