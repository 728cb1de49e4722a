"""An operations alert about a change is committed with the change, so none is lost.

Before, a return's "autopay stopped" alert, a refund due's alert and a returned
disbursement's were posted after the commit: a process that died in between left the
change written and the alert never sent, and the redelivered event was answered as a
duplicate. Each alert is now an `EventType.OPERATIONS_ALERT` event in the changed
aggregate's outbox: published with the commit's other events, or by the recovery job.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import pytest
from deployment import Deployment
from fakes import Crash, CrashingUnitOfWork
from unit.services.loans.test_returned_disbursement import disbursement
from unit.services.test_debit_returns import ach_billed, autopaid, next_day, returned
from unit.services.test_event_outbox import recover

from loc_core.events import EventType
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import SettlementHandling, SettleTransfer

dies_after_its_commit = functools.partial(CrashingUnitOfWork, after_write=True)


def titles(world: Deployment, start: str) -> list[str]:
    return [alert.title for alert in world.alerter.posted if alert.title.startswith(start)]


def loan_return() -> tuple[Deployment, SettleTransfer, str]:
    """An autopaid installment, and its R10 return a day later."""
    world = Deployment.build()
    loan, payment_id = autopaid(world)
    return (
        world,
        SettleTransfer(returned(payment_id, "R10", next_day(world))),
        f"loan {loan.loan_id}",
    )


def line_return() -> tuple[Deployment, SettleTransfer, str]:
    """A line's ACH payment, and its R10 return a day later."""
    world, line = ach_billed()
    world.at(dt.date(2026, 4, 15), 10)
    paid = world.pay_line(line, 500)
    return (
        world,
        SettleTransfer(returned(paid.payment_id, "R10", next_day(world))),
        f"line {line.line_id}",
    )


@pytest.mark.parametrize(
    "made", [pytest.param(loan_return, id="loan"), pytest.param(line_return, id="line")]
)
def test_a_return_whose_process_died_after_its_commit_alerts_operations_once(
    made: Callable[[], tuple[Deployment, SettleTransfer, str]],
) -> None:
    world, settle, owner = made()
    world.clock.set(settle.event.occurred_at)
    with pytest.raises(Crash):
        world.crashing_uow(dies_after_its_commit).handle(settle)

    assert world.settle(settle.event) is SettlementHandling.DUPLICATE  # delivered again
    assert titles(world, "autopay stopped") == []  # the process died before telling

    recover(world)
    recover(world)

    assert titles(world, "autopay stopped") == [
        f"autopay stopped on {owner}: the borrower revoked or denies the debit authorization"
    ]
    [alert] = [a for a in world.alerter.posted if a.title.startswith("autopay stopped")]
    assert (alert.details["return_code"], alert.details["autopay_stopped"]) == ("R10", True)
    assert [e.type for e in world.notifier.sent].count(EventType.AUTOPAY_STOPPED) == 1
    assert EventType.OPERATIONS_ALERT not in {e.type for e in world.notifier.sent}


def test_a_change_that_never_committed_alerts_nothing() -> None:
    world, settle, _ = loan_return()
    world.clock.set(settle.event.occurred_at)
    with pytest.raises(Crash):
        world.crashing_uow(CrashingUnitOfWork).handle(settle)  # dies before writing
    recover(world)
    assert titles(world, "autopay") == []
    assert world.settle(settle.event) is SettlementHandling.REVERSED  # delivered again
    assert len(titles(world, "autopay stopped")) == 1


def test_a_returned_disbursement_whose_process_died_alerts_the_cancellation_and_refund_once() -> (
    None
):
    world = Deployment.build()
    world.sim.down = {Rail.PINLESS}
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 7))
    paid = world.pay_loan(loan, 12_000, key="prepay")
    settle = SettleTransfer(disbursement(loan, SettlementOutcome.RETURNED))
    world.clock.set(settle.event.occurred_at)
    with pytest.raises(Crash):
        world.crashing_uow(dies_after_its_commit).handle(settle)
    assert world.settle(settle.event) is SettlementHandling.DUPLICATE
    assert world.alerts(Severity.WARNING) == []

    recover(world)
    recover(world)

    assert [(a.title, a.details.get("amount")) for a in world.alerts(Severity.WARNING)] == [
        (f"disbursement of loan {loan.loan_id} came back: the loan is cancelled", None),
        ("refund due", 12_000),
    ]
    assert world.alerts(Severity.WARNING)[1].details["payment_id"] == paid.payment_id
