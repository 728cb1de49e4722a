"""The borrower's autopay setting."""

import datetime as dt

import pytest
from deployment import Deployment

from loc_core.errors import InvalidTransition
from loc_core.services.commands import CollectionOutcome, SetAutopay


def switch(world: Deployment, loan_id: str, *, enabled: bool) -> bool:
    return world.bus.handle(SetAutopay("user-1", loan_id, enabled=enabled))


def test_turning_autopay_off_stops_collections_and_is_audited_once(world: Deployment) -> None:
    loan = world.open_loan()
    assert switch(world, loan.loan_id, enabled=False) is True
    assert switch(world, loan.loan_id, enabled=False) is False  # the same request again
    assert world.audit_processes("loan", loan.loan_id) == ["CREATION", "AUTOPAY_SETTING"]
    world.at(dt.date(2026, 1, 20))
    assert [r.reason for r in world.run_collections()] == ["AUTOPAY_OFF"]
    assert switch(world, loan.loan_id, enabled=True) is True
    assert [r.outcome for r in world.run_collections()] == [CollectionOutcome.CHARGED]
    assert world.loan(loan.loan_id).version == 4


def test_autopay_cannot_come_back_on_a_defaulted_loan(world: Deployment) -> None:
    loan = world.open_loan()
    world.at(dt.date(2026, 3, 26))
    world.run_daily_loan_job()
    with pytest.raises(InvalidTransition, match="DEFAULTED"):
        switch(world, loan.loan_id, enabled=True)
    assert switch(world, loan.loan_id, enabled=False) is False
