"""Fixtures for the credit-line service tests: one world of in-memory adapters."""

import pytest
from unit.services.lines.world import OPENED, UowFactory, World, build_world

from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork, ManualClock


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
    return build_world(clock, new_uow)
