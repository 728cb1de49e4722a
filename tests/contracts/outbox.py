"""The `EventOutbox` contract: a commit keeps its events until they are delivered."""

import datetime as dt
from collections.abc import Callable

import pytest

from contracts.uow import UowFactory, pay, store_loan
from loc_core.errors import ConcurrencyConflict
from loc_core.events import DomainEvent, EventType
from loc_core.payments import SettlementOutcome
from loc_core.ports import Clock, EventOutbox

FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
PAID_ON = dt.date(2026, 1, 6)


def settle(new_uow: UowFactory, payment_id: str) -> list[DomainEvent]:
    """Pay and complete `payment_id` on loan-1: the completion's commit makes one event."""
    with new_uow() as uow:
        pay(uow, payment_id, 1_000, on=PAID_ON)
        uow.commit(actor="test", request_id=f"pay {payment_id}")
    with new_uow() as uow:
        loan = uow.loans.get("user-1", "loan-1")
        loan.settle(payment_id, SettlementOutcome.COMPLETED, today=PAID_ON)
        uow.loans.save(loan)
        return uow.commit(actor="test", request_id=f"settle {payment_id}")


def stored(new_uow: UowFactory, outbox: EventOutbox) -> None:
    """Store loan-1, its own events delivered (as the bus would after the commit)."""
    store_loan(new_uow)
    outbox.delivered(
        [k.event for k in outbox.undelivered(committed_before=FAR_FUTURE, limit=100).events]
    )


def kept(outbox: EventOutbox, before: dt.datetime = FAR_FUTURE, limit: int = 100) -> list[str]:
    return [
        k.event.subject_id for k in outbox.undelivered(committed_before=before, limit=limit).events
    ]


class EventOutboxContract:
    def test_a_commit_keeps_its_events_until_they_are_delivered(
        self, new_uow: UowFactory, outbox: EventOutbox, clock: Clock
    ) -> None:
        stored(new_uow, outbox)
        [event] = settle(new_uow, "p1")
        assert event.type is EventType.PAYMENT_SUCCEEDED
        [found] = outbox.undelivered(committed_before=FAR_FUTURE, limit=10).events
        assert (found.event, found.event.event_id) == (event, event.event_id)
        assert found.committed_at == clock.now()
        outbox.delivered([event])
        assert kept(outbox) == []

    def test_undelivered_events_come_oldest_first_up_to_the_limit_and_before_the_cutoff(
        self, new_uow: UowFactory, outbox: EventOutbox, advance: Callable[[dt.timedelta], None]
    ) -> None:
        stored(new_uow, outbox)
        settle(new_uow, "p1")
        advance(dt.timedelta(minutes=1))
        settle(new_uow, "p2")
        advance(dt.timedelta(minutes=1))
        [third] = settle(new_uow, "p3")
        assert kept(outbox) == ["p1", "p2", "p3"]
        assert kept(outbox, limit=2) == ["p1", "p2"]
        third_kept = outbox.undelivered(committed_before=FAR_FUTURE, limit=3).events[2]
        assert kept(outbox, before=third_kept.committed_at) == ["p1", "p2"]
        outbox.delivered([third])
        assert kept(outbox) == ["p1", "p2"]

    def test_a_commit_that_fails_keeps_nothing(
        self, new_uow: UowFactory, outbox: EventOutbox
    ) -> None:
        stored(new_uow, outbox)
        with new_uow() as uow:
            pay(uow, "p1", 1_000, on=PAID_ON)
            uow.commit(actor="test", request_id="pay")
        with new_uow() as stale, new_uow() as rival:
            loan = stale.loans.get("user-1", "loan-1")
            racing = rival.loans.get("user-1", "loan-1")
            racing.apply_payment(
                "p2",
                100,
                process=racing.payments["p1"].process,
                rail=racing.payments["p1"].rail,
                today=PAID_ON,
            )
            rival.loans.save(racing)
            rival.commit(actor="test", request_id="rival")
            loan.settle("p1", SettlementOutcome.COMPLETED, today=PAID_ON)
            stale.loans.save(loan)
            with pytest.raises(ConcurrencyConflict):
                stale.commit(actor="test", request_id="stale")
        assert kept(outbox) == []

    def test_delivering_an_event_not_kept_changes_nothing(
        self, new_uow: UowFactory, outbox: EventOutbox
    ) -> None:
        stored(new_uow, outbox)
        settle(new_uow, "p1")
        stranger = DomainEvent(EventType.LOAN_CLOSED, "user-2", "loan-9", PAID_ON)
        outbox.delivered([stranger, stranger])
        assert kept(outbox) == ["p1"]
