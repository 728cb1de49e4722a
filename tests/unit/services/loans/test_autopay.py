"""The borrower's autopay setting."""

import datetime as dt

import pytest
from unit.services.loans.harness import World

from loc_core.errors import InvalidTransition
from loc_core.services.loans import CollectionOutcome, SetAutopay, run_daily_loan_job, set_autopay


@pytest.fixture
def world() -> World:
    return World.in_memory()


def switch(world: World, loan_id: str, *, enabled: bool) -> bool:
    return set_autopay(
        SetAutopay("user-1", loan_id, enabled=enabled), uow=world.new_uow(), clock=world.clock
    )


def test_turning_autopay_off_stops_collections_and_is_audited_once(world: World) -> None:
    loan = world.open_loan()
    assert switch(world, loan.loan_id, enabled=False) is True
    assert switch(world, loan.loan_id, enabled=False) is False  # the same request again
    assert world.audit_processes("loan", loan.loan_id) == ["CREATION", "AUTOPAY_SETTING"]
    world.at(dt.date(2026, 1, 20))
    assert [r.reason for r in world.run_collections()] == ["AUTOPAY_OFF"]
    assert switch(world, loan.loan_id, enabled=True) is True
    assert [r.outcome for r in world.run_collections()] == [CollectionOutcome.CHARGED]
    assert world.loan(loan.loan_id).version == 4


def test_autopay_cannot_come_back_on_a_defaulted_loan(world: World) -> None:
    loan = world.open_loan()
    world.at(dt.date(2026, 3, 26))
    run_daily_loan_job(
        uow=world.new_uow(), clock=world.clock, notifier=world.notifier, alerter=world.alerter
    )
    with pytest.raises(InvalidTransition, match="DEFAULTED"):
        switch(world, loan.loan_id, enabled=True)
    assert switch(world, loan.loan_id, enabled=False) is False
