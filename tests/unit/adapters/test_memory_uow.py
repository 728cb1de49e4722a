"""The in-memory unit of work passes the contract the DynamoDB one will."""

import datetime as dt

import pytest
from contracts.uow import UnitOfWorkContract, UowFactory

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryUnitOfWork,
    ManualClock,
    SimulatedUnderwriting,
)
from loc_core.ports import Underwriting, UnitOfWork


@pytest.fixture
def new_uow() -> UowFactory:
    database = InMemoryDatabase(ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)))

    def make() -> UnitOfWork:
        return InMemoryUnitOfWork(database)

    return make


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    pass


def test_simulated_underwriting_is_deterministic_per_user_and_request() -> None:
    first: Underwriting = SimulatedUnderwriting(seed=3)
    second = SimulatedUnderwriting(seed=3)
    answers = [first.decide_loan(f"u{n}", requested_amount=80_000) for n in range(40)]
    assert answers == [second.decide_loan(f"u{n}", requested_amount=80_000) for n in range(40)]
    approved = [a for a in answers if a.approved]
    assert 0 < len(approved) < 40
    assert all(a.loan_amount == 50_000 for a in approved)
    assert all(a.adverse_actions for a in answers if not a.approved)
