"""The borrower's autopay setting on a line, through the bus (`SetLineAutopay`)."""

import copy
import datetime as dt

import attrs
import pytest
from deployment import Deployment
from fakes import settlement

from loc_core.creditline import CreditLine
from loc_core.errors import InvalidTransition, NotFound
from loc_core.payments import Rail, SettlementOutcome
from loc_core.services.commands import SetLineAutopay
from loc_core.services.lines import due_payment_id

DUE = dt.date(2026, 4, 27)
"""The `billed` line's first due date (1,989 minimum)."""


def switch(world: Deployment, line: CreditLine, *, enabled: bool, user: str = "") -> bool:
    return world.bus.handle(SetLineAutopay(user or line.user_id, line.line_id, enabled=enabled))


def test_autopay_stopped_by_an_unauthorized_return_comes_back_on_and_the_due_job_debits(
    world: Deployment, billed: CreditLine
) -> None:
    world.sim.down = {Rail.PINLESS}
    world.at(dt.date(2026, 4, 15), 10)
    paid = world.pay_line(billed, 500)
    at = world.clock.now() + dt.timedelta(days=1)
    r10 = settlement(paid.payment_id, SettlementOutcome.RETURNED, at, Rail.ACH)
    world.settle(attrs.evolve(r10, return_code="R10"))
    assert not world.line(billed).autopay_enabled
    world.at(dt.date(2026, 4, 17), 10)
    assert switch(world, billed, enabled=True) is True  # the borrower's new authorization
    assert world.line(billed).autopay_enabled
    world.at(DUE)
    assert world.due().acted == (billed.line_id,)
    debit = world.line(billed).payments[due_payment_id(billed.line_id, DUE, Rail.ACH)]
    assert debit.amount == 1_989


def test_the_same_setting_twice_is_recorded_once(world: Deployment, billed: CreditLine) -> None:
    world.at(dt.date(2026, 4, 10))
    assert switch(world, billed, enabled=False) is True
    assert switch(world, billed, enabled=False) is False  # the same request again
    processes = world.audit_processes("line", billed.line_id)
    assert processes.count("AUTOPAY_SETTING") == 1
    world.at(DUE)
    assert world.due().acted == ()
    assert due_payment_id(billed.line_id, DUE, Rail.PINLESS) not in world.line(billed).payments


def test_another_users_line_is_not_found_and_unchanged(world: Deployment) -> None:
    line = world.open_line()
    world.users.add("user-2")
    audited = world.audit_processes("line", line.line_id)
    with pytest.raises(NotFound):
        switch(world, line, enabled=False, user="user-2")
    assert world.line(line).autopay_enabled
    assert world.audit_processes("line", line.line_id) == audited


def test_a_closed_line_is_refused_and_nothing_changes(world: Deployment) -> None:
    line = world.close(world.open_line())
    before = copy.deepcopy(world.line(line))
    with pytest.raises(InvalidTransition, match="CLOSED"):
        switch(world, line, enabled=False)
    assert world.line(line) == before
