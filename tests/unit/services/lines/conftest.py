"""Fixtures for the credit-line service tests: one world of in-memory adapters."""

import pytest
from unit.services.lines.world import OPENED, QUIET, ScriptedRails, UowFactory, World

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryIdempotencyStore,
    InMemoryLock,
    InMemoryMetrics,
    InMemoryUnitOfWork,
    InMemoryUsers,
    ManualClock,
    RecordingAlerter,
    RecordingNotifier,
    SequentialIds,
    SimulatedRails,
    SimulatedUnderwriting,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPENED)


@pytest.fixture
def database(clock: ManualClock) -> InMemoryDatabase:
    return InMemoryDatabase(clock)


@pytest.fixture
def new_uow(database: InMemoryDatabase) -> UowFactory:
    """How a test gets a unit of work; another store's suite overrides this fixture."""
    return lambda: InMemoryUnitOfWork(database)


@pytest.fixture
def world(clock: ManualClock, new_uow: UowFactory) -> World:
    sim = SimulatedRails(clock, seed=11, behaviour=QUIET)
    return World(
        clock=clock,
        new_uow=new_uow,
        sim=sim,
        rails=ScriptedRails(sim),
        users=InMemoryUsers(),
        underwriting=SimulatedUnderwriting(line_approval_probability=1, line_limits=(100_000,)),
        notifier=RecordingNotifier(),
        alerter=RecordingAlerter(),
        flags={},
        lock=InMemoryLock(clock),
        ids=SequentialIds(),
        idempotency=InMemoryIdempotencyStore(),
        metrics=InMemoryMetrics(),
    )
