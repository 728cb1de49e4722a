import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import line_offer, opened_line

from loc_core.creditline import (
    CreditLineProduct,
)
from loc_core.errors import NotFound
from loc_core.events import EventType
from loc_core.installment import Process
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, Severity, UnitOfWork
from loc_core.services.commands import SettlementHandling, SettleTransfer
from loc_core.services.settlement import CREDITLINE, INSTALLMENT, Settled
from loc_core.testing.installment import make_loan

DAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 12, 12, tzinfo=dt.UTC)
PRODUCT = CreditLineProduct()


@pytest.fixture
def world() -> Deployment:
    """A loan with a $50.00 ACH payment (user-1) and a line with a $30.00 one (user-2)."""
    world = Deployment.build(now=NOW)
    loan = make_loan(disbursed_on=dt.date(2026, 3, 2))
    loan.apply_payment("loan-pay", 5_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    line = opened_line(line_offer(LINES_OPENED, application_id="app-line", user_id="user-2"))
    line.request_draw(draw_id="d1", amount=20_000, on=DAY)
    line.disburse_draw(draw_id="d1", rail=Rail.RTP, on=DAY)
    line.submit_payment(payment_id="line-pay", amount=3_000, rail=Rail.ACH, on=DAY)
    with world.bus.get(UnitOfWork) as uow:
        uow.loans.add(loan)
        uow.lines.add(line)
        uow.commit(actor="test", request_id="setup")
    return world


def event(key: str, outcome: SettlementOutcome) -> SettlementEvent:
    return SettlementEvent(
        event_id=f"{key}:{outcome.value}",
        idempotency_key=key,
        confirmation_id="c-1",
        rail=Rail.ACH,
        outcome=outcome,
        occurred_at=NOW,
        # an NSF return: one that stops autopay also tells AUTOPAY_STOPPED (test_debit_returns)
        return_code="R01" if outcome is SettlementOutcome.RETURNED else "",
    )


def route(world: Deployment, delivered: SettlementEvent) -> tuple[Settled, list[EventType]]:
    """What the bus made of the event, and the notifications it sent for it."""
    before = len(world.notifier.sent)
    settled = world.bus.handle(SettleTransfer(delivered))
    return settled, [sent.type for sent in world.notifier.sent[before:]]


def test_a_loan_payments_return_reaches_the_loan_once(world: Deployment) -> None:
    returned = event("loan-pay", SettlementOutcome.RETURNED)
    settled, sent = route(world, returned)
    assert settled == Settled(INSTALLMENT, SettlementHandling.REVERSED)
    assert sent == [EventType.PAYMENT_FAILED]
    again, sent = route(world, returned)
    assert again == Settled(INSTALLMENT, SettlementHandling.DUPLICATE)
    assert sent == []
    assert world.loan("loan-1").outstanding_balance == 31_500


def test_a_line_payments_return_reaches_the_line_once(world: Deployment) -> None:
    returned = event("line-pay", SettlementOutcome.RETURNED)
    settled, sent = route(world, returned)
    assert settled == Settled(CREDITLINE, SettlementHandling.REVERSED)
    assert sent == [EventType.LOC_PAYMENT_FAILED]
    assert route(world, returned) == (Settled(CREDITLINE, SettlementHandling.DUPLICATE), [])
    with world.bus.get(UnitOfWork) as uow:
        assert uow.lines.get("user-2", "line-1").principal_balance == 20_000


def test_an_unknown_transfer_is_alerted_and_not_found(world: Deployment) -> None:
    with pytest.raises(NotFound, match="no loan or line records transfer 'mystery'"):
        route(world, event("mystery", SettlementOutcome.COMPLETED))
    assert [a.severity for a in world.alerts()] == [Severity.CRITICAL]


# --- an event on another rail than the payment's is not applied ----------------------
# Money may have moved that nothing records (another transfer's event, a forged key): the
# books stay as they were, operations hear at once (CRITICAL), and the event fails like an
# event for an unknown transfer.


def returned(key: str, rail: Rail) -> SettlementEvent:
    return SettlementEvent(
        event_id=f"{key}:{rail.value}:returned",
        idempotency_key=key,
        confirmation_id="c-other",
        rail=rail,
        outcome=SettlementOutcome.RETURNED,
        occurred_at=NOW,
    )


def line_balance(world: Deployment) -> int:
    with world.bus.get(UnitOfWork) as uow:
        return uow.lines.get("user-2", "line-1").principal_balance


def test_a_return_on_another_rail_leaves_the_loan_as_it_was_and_alerts(
    world: Deployment,
) -> None:
    before = world.loan("loan-1").outstanding_balance
    with pytest.raises(NotFound):
        world.bus.handle(SettleTransfer(returned("loan-pay", Rail.PINLESS)))
    loan = world.loan("loan-1")
    assert loan.outstanding_balance == before
    assert loan.payments["loan-pay"].status is PaymentStatus.PENDING
    assert [a.severity for a in world.alerts()] == [Severity.CRITICAL]
    world.bus.handle(SettleTransfer(returned("loan-pay", Rail.ACH)))  # the real one still books
    assert world.loan("loan-1").outstanding_balance == before + 5_000


def test_a_return_on_another_rail_leaves_the_line_as_it_was_and_alerts(
    world: Deployment,
) -> None:
    with pytest.raises(NotFound):
        world.bus.handle(SettleTransfer(returned("line-pay", Rail.PINLESS)))
    assert line_balance(world) == 20_000 - 3_000
    assert [a.severity for a in world.alerts()] == [Severity.CRITICAL]
    world.bus.handle(SettleTransfer(returned("line-pay", Rail.ACH)))
    assert line_balance(world) == 20_000
