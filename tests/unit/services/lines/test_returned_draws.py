"""A draw whose money the rail brings back is not owed: the line is corrected as of its day.

The borrower never had the money (their account was closed, the credit came back), so
neither the draw nor its interest is owed, a late fee its unpaid minimum caused is taken
back, and a payment that then paid more than was owed becomes a refund due. The returned
money is posted as itself on the day it is learned; the rest is one adjustment entry.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import Crash, CrashingUnitOfWork, settlement, statement_adds_up

from loc_adapters.iterable import contract
from loc_core.creditline import CreditLine, CreditLineProduct, DrawStatus, LineStatus
from loc_core.disclosures import statement_disclosure
from loc_core.events import EventType
from loc_core.ledger import FUNDING, Bucket, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import (
    ListLineStatements,
    ReconcileLine,
    SettlementHandling,
    SettleTransfer,
)

DRAWN_ON = dt.date(2026, 3, 12)


def draw_id(world: Deployment, line: CreditLine) -> str:
    (only,) = world.line(line).draws
    return only


def came_back(world: Deployment, line: CreditLine, outcome: SettlementOutcome) -> object:
    """The rail's word that the draw's RTP credit came back (or completed), dated now."""
    key = f"{draw_id(world, line)}:rtp"
    return settlement(key, outcome, world.clock.now(), Rail.RTP)


def deliver(world: Deployment, line: CreditLine, outcome: SettlementOutcome) -> SettlementHandling:
    event = came_back(world, line, outcome)
    return world.settle(event)  # type: ignore[arg-type]  # `came_back` builds a SettlementEvent


def test_a_draw_returned_in_its_cycle_is_owed_nothing_once_and_told_once(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(dt.date(2026, 3, 16), 12)
    assert deliver(world, drawn, SettlementOutcome.RETURNED) is SettlementHandling.REVERSED
    line = world.line(drawn)
    draw = line.draws[draw_id(world, drawn)]
    assert (draw.status, draw.returned_on) == (DrawStatus.RETURNED, dt.date(2026, 3, 16))
    assert (line.total_balance, line.available_credit, line.status) == (
        0,
        line.credit_limit,
        LineStatus.ACTIVE,
    )
    ledger = world.ledger(drawn.line_id)
    assert ledger.balance(receivable(drawn.line_id, Bucket.PRINCIPAL)) == 0
    assert ledger.balance(FUNDING) == 0  # the money out came back in
    back = next(e for e in ledger if e.entry_id == f"{draw.draw_id}:returned")
    assert back.effective_date == dt.date(2026, 3, 16)  # booked the day it is learned
    (notice,) = (e for e in world.notifier.sent if e.type is EventType.LOC_DRAW_RETURNED)
    assert set(notice.data) == contract.DATA_FIELDS[EventType.LOC_DRAW_RETURNED]
    assert (notice.data["amount"], notice.data["balance"], notice.data["sent_on"]) == (
        40_000,
        0,
        "2026-03-12",
    )
    (warning,) = world.alerts(Severity.WARNING)
    assert "came back" in warning.title
    assert warning.details["return_code"] == "R01"

    # Delivered again, or its completion after it: nothing changes, nobody is told again.
    assert deliver(world, drawn, SettlementOutcome.RETURNED) is SettlementHandling.DUPLICATE
    assert deliver(world, drawn, SettlementOutcome.COMPLETED) is SettlementHandling.DISBURSEMENT
    assert world.line(drawn) == line
    assert world.sent().count("loc_draw_returned") == 1
    assert world.alerts(Severity.CRITICAL) == []

    # The statement lists the draw and its return, charges no interest and asks nothing.
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    (statement,) = world.bus.handle(ListLineStatements(drawn.user_id, drawn.line_id))
    assert (statement.interest_charged, statement.minimum_payment) == (0, 0)
    figures = statement_disclosure(
        statement, credit_limit=drawn.credit_limit, product=CreditLineProduct()
    )
    assert figures.draws == 0
    assert statement_adds_up(figures)
    assert [(row.description, row.amount) for row in figures.transactions] == [
        ("Draw", 40_000),
        ("Draw returned by your bank: not owed", -40_000),
    ]


def test_a_paid_minimum_becomes_a_refund_when_the_draw_comes_back_after_its_statement(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 20), 10)
    world.pay_line(billed, 1_989)  # the minimum: 789 interest, 1,200 principal
    world.at(dt.date(2026, 4, 22), 12)
    assert deliver(world, billed, SettlementOutcome.RETURNED) is SettlementHandling.REVERSED
    line = world.line(billed)
    assert (line.principal_balance, line.interest_balance, line.fee_balance) == (0, 0, 0)
    assert line.refunds_due == 1_989  # nothing was owed: the payment is owed back
    assert "refund_due" in world.sent()
    refunds = [a for a in world.alerts(Severity.WARNING) if a.title == "refund due"]
    assert [a.details["amount"] for a in refunds] == [1_989]  # operations must pay it out
    reconciled = world.bus.handle(ReconcileLine(billed.user_id, billed.line_id))
    assert reconciled.matches, reconciled.mismatches
    assert world.ledger(billed.line_id).balance(receivable(billed.line_id, Bucket.INTEREST)) == 0


def test_a_late_fee_the_returned_draw_caused_is_taken_back_and_the_line_reactivated(
    world: Deployment, billed: CreditLine
) -> None:
    world.sim.down = {Rail.PINLESS, Rail.ACH}  # the due job cannot collect the minimum
    world.run_days(dt.date(2026, 4, 27), dt.date(2026, 4, 28))
    world.sim.down = set()
    assert world.line(billed).status is LineStatus.SUSPENDED
    assert world.line(billed).fee_balance > 0
    world.at(dt.date(2026, 4, 30), 12)
    assert deliver(world, billed, SettlementOutcome.RETURNED) is SettlementHandling.REVERSED
    line = world.line(billed)
    assert (line.status, line.total_balance, line.fee_balance) == (LineStatus.ACTIVE, 0, 0)
    world.run_days(dt.date(2026, 5, 1), dt.date(2026, 6, 10))  # no fee, no past due after
    line = world.line(billed)
    assert (line.status, line.total_balance) == (LineStatus.ACTIVE, 0)
    assert world.bus.handle(ReconcileLine(billed.user_id, billed.line_id)).matches


def test_a_return_beyond_the_correction_reach_is_alerted_and_changes_nothing(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(DRAWN_ON + dt.timedelta(days=121), 12)
    before = world.line(drawn)
    assert deliver(world, drawn, SettlementOutcome.RETURNED) is SettlementHandling.MANUAL
    assert world.line(drawn) == before
    (critical,) = world.alerts(Severity.CRITICAL)
    assert "reverse it by hand" in critical.title
    assert "loc_draw_returned" not in world.sent()


def test_a_process_dying_before_the_commit_loses_nothing_and_the_redelivery_applies_once(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(dt.date(2026, 3, 16), 12)
    before = world.line(drawn)
    event = came_back(world, drawn, SettlementOutcome.RETURNED)
    dying = world.crashing_uow(CrashingUnitOfWork)
    with pytest.raises(Crash):
        dying.handle(SettleTransfer(event))  # type: ignore[arg-type]  # a SettlementEvent
    assert world.line(drawn) == before
    assert world.sent().count("loc_draw_returned") == 0
    assert world.settle(event) is SettlementHandling.REVERSED  # type: ignore[arg-type]
    assert world.settle(event) is SettlementHandling.DUPLICATE  # type: ignore[arg-type]
    assert world.line(drawn).total_balance == 0
    assert world.sent().count("loc_draw_returned") == 1
