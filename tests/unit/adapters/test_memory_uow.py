"""The in-memory unit of work passes the contract the DynamoDB one will."""

import datetime as dt
from collections.abc import Callable

import pytest
from contracts.audit import AuditLogContract
from contracts.fence import FenceContract
from contracts.intents import IntentRepositoryContract
from contracts.outbox import EventOutboxContract
from contracts.uow import UnitOfWorkContract, UowFactory

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryLock,
    InMemoryUnitOfWork,
    ManualClock,
    SimulatedUnderwriting,
)
from loc_core.errors import LeaseLost
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
