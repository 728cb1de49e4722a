"""The in-memory unit of work passes the contract the DynamoDB one will."""

import datetime as dt
from collections.abc import Callable

import pytest
from contracts.audit import AuditLogContract
from contracts.fence import FenceContract
from contracts.intents import IntentRepositoryContract
from contracts.outbox import EventOutboxContract
from contracts.uow import UnitOfWorkContract, UowFactory, make_line

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryLock,
    InMemoryUnitOfWork,
    ManualClock,
    SimulatedUnderwriting,
)
from loc_core.errors import LeaseLost
from loc_core.events import DomainEvent, EventType
from loc_core.ports import EventOutbox, Lock, Underwriting, UnitOfWork


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC))


@pytest.fixture
def database(clock: ManualClock) -> InMemoryDatabase:
    return InMemoryDatabase(clock)


@pytest.fixture
def new_uow(database: InMemoryDatabase) -> UowFactory:
    def make() -> UnitOfWork:
        return InMemoryUnitOfWork(database)

    return make


@pytest.fixture
def lock(clock: ManualClock, database: InMemoryDatabase) -> Lock:
    """A lock keeping its leases in the database, as the bootstrap wires it."""
    return InMemoryLock(clock, leases=database.leases)


@pytest.fixture
def advance(clock: ManualClock) -> Callable[[dt.timedelta], None]:
    return clock.advance


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    pass


class TestInMemoryEventOutbox(EventOutboxContract):
    @pytest.fixture
    def outbox(self, database: InMemoryDatabase) -> EventOutbox:
        return database


class TestInMemoryFence(FenceContract):
    pass


class TestInMemoryIntents(IntentRepositoryContract):
    pass


def test_a_lock_not_sharing_the_database_leaves_a_fenced_commit_refused(
    clock: ManualClock, new_uow: UowFactory
) -> None:
    """A fence the database cannot see is never taken as current: the commit is refused."""
    lease = InMemoryLock(clock).acquire("k", owner="a", ttl=dt.timedelta(seconds=5))
    with new_uow() as uow:
        uow.fence(lease)
        with pytest.raises(LeaseLost):
            uow.commit(actor="a", request_id="r")


def test_simulated_underwriting_is_deterministic_per_user_and_request() -> None:
    first: Underwriting = SimulatedUnderwriting(seed=3)
    second = SimulatedUnderwriting(seed=3)
    answers = [first.decide_loan(f"u{n}", requested_amount=80_000) for n in range(40)]
    assert answers == [second.decide_loan(f"u{n}", requested_amount=80_000) for n in range(40)]
    approved = [a for a in answers if a.approved]
    assert 0 < len(approved) < 40
    assert all(a.loan_amount == 50_000 for a in approved)
    assert all(a.adverse_actions for a in answers if not a.approved)


class TestMemoryAuditLog(AuditLogContract):
    pass


def test_lines_due_between_lists_days_in_order_whatever_order_they_were_written(
    new_uow: UowFactory,
) -> None:
    """The due-date index keeps its days in order as lines are added and move."""
    march, february, april, january = (dt.date(2026, month, 5) for month in (3, 2, 4, 1))
    for number, due in enumerate([march, february, april, february], start=1):
        line = make_line(f"line-{number}", user_id=f"user-{number}")
        line.next_due_date = due
        with new_uow() as uow:
            uow.lines.add(line)
            uow.commit(actor="test", request_id=f"open-{number}")
    with new_uow() as uow:  # line-3 moves from April to January
        moved = uow.lines.get("user-3", "line-3")
        moved.next_due_date = january
        uow.lines.save(moved)
        uow.commit(actor="test", request_id="move")
    with new_uow() as uow:
        listed = [ref.line_id for ref in uow.lines.due_between(january, dt.date(2026, 12, 31))]
        assert listed == ["line-3", "line-2", "line-4", "line-1"]
        assert [ref.line_id for ref in uow.lines.due_between(february, february)] == [
            "line-2",
            "line-4",
        ]
        assert uow.lines.due_between(april, april) == []
        assert [ref.line_id for ref in uow.lines.due_between(february, march)] == [
            "line-2",
            "line-4",
            "line-1",
        ]


def _kept(database: InMemoryDatabase) -> list[tuple[dict[str, object], dt.datetime]]:
    read = database.undelivered(committed_before=dt.datetime(2100, 1, 1, tzinfo=dt.UTC), limit=9)
    return [(dict(kept.event.data), kept.committed_at) for kept in read.events]


@pytest.mark.parametrize(
    "asked_first",
    [pytest.param(False, id="delivered-at-once"), pytest.param(True, id="read-first")],
)
def test_the_outbox_keeps_one_item_per_event_id_however_late_the_id_is_computed(
    database: InMemoryDatabase,
    asked_first: bool,  # noqa: FBT001 - a pytest parameter
) -> None:
    """A later event with an earlier one's id replaces it; delivering either clears it.

    The outbox computes an event's id only when something asks for one (most events are
    delivered right after their commit): whether a read came between or not, the same
    items are kept.
    """
    day, at = dt.date(2026, 1, 6), dt.datetime(2026, 1, 6, 12, tzinfo=dt.UTC)
    later = at + dt.timedelta(hours=1)

    def event(amount: int) -> DomainEvent:
        return DomainEvent(EventType.PAYMENT_SUCCEEDED, "user-1", "pay-1", day, {"amount": amount})

    first, other, again = event(100), event(200), event(100)  # `again` has `first`'s id
    database.keep_events([first, other], at=at)
    if asked_first:
        assert _kept(database) == [({"amount": 100}, at), ({"amount": 200}, at)]
    database.keep_events([again], at=later)
    if asked_first:
        assert sorted(_kept(database), key=lambda kept: kept[1]) == [
            ({"amount": 200}, at),
            ({"amount": 100}, later),
        ]
    database.delivered([first])  # the same id as `again`: its item goes, `other` stays
    assert _kept(database) == [({"amount": 200}, at)]
    database.delivered([other])
    assert _kept(database) == []
