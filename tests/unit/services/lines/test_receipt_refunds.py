"""A line payment's receipt shows its refund due: applied to later charges, sent, or due.

What it paid and its refund's amount add up to its amount, whatever became of the
refund since.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import settlement
from unit.services.lines.test_credit_balance import paid_off_by_a_check

from loc_core.creditline import Balances, CreditLine
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.refunds import ReceiptRefund, RefundStatus
from loc_core.services.commands import (
    GetLinePaymentReceipt,
    LinePaymentReceipt,
    RecordRefundPaid,
)


@pytest.fixture
def world() -> Deployment:
    return Deployment.build(now=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), seed=5)


@pytest.fixture
def credit(world: Deployment) -> tuple[CreditLine, LinePaymentReceipt]:
    """$400.00 drawn 03-12, paid off 03-14 by a $500.00 check keyed 03-16: $100.00 owed back."""
    return paid_off_by_a_check(world)


def receipt_of(world: Deployment, line: CreditLine, payment_id: str) -> LinePaymentReceipt:
    return world.bus.handle(GetLinePaymentReceipt(line.user_id, line.line_id, payment_id))


def adds_up(receipt: LinePaymentReceipt) -> bool:
    refunded = 0 if receipt.refund is None else receipt.refund.amount
    return receipt.paid.total + refunded == receipt.amount


def test_the_receipt_a_payment_returns_shows_what_it_paid_and_the_refund_due(
    credit: tuple[CreditLine, LinePaymentReceipt],
) -> None:
    _, booked = credit

    assert booked.paid.total == 40_000
    assert booked.refund == ReceiptRefund(
        amount=10_000,
        status=RefundStatus.DUE,
        recorded_on=dt.date(2026, 3, 16),  # keyed then: its refund due entry's day
        applied=0,
        paid_amount=0,
        paid_on=None,
        paid_reference=None,
        remaining=10_000,
    )
    assert adds_up(booked)


def test_a_refund_partly_applied_to_a_later_draw_then_paid_out(
    world: Deployment, credit: tuple[CreditLine, LinePaymentReceipt]
) -> None:
    line, booked = credit
    world.at(dt.date(2026, 3, 18))
    world.draw(line, 3_000, key="draw-2")

    applied = receipt_of(world, line, booked.payment_id)
    assert applied.refund is not None
    assert (applied.refund.status, applied.refund.applied, applied.refund.remaining) == (
        RefundStatus.DUE,
        3_000,
        7_000,
    )
    assert applied.refund.paid_amount == 0
    assert world.line(line).refunds_due == 7_000
    assert adds_up(applied)
    # What it paid and the balances its booking left are as they were.
    assert (applied.paid, applied.balances_after) == (booked.paid, booked.balances_after)

    world.bus.handle(
        RecordRefundPaid(
            line.user_id, booked.payment_id, dt.date(2026, 3, 18), "chk-1", "refund sent", 7_000
        )
    )

    paid = receipt_of(world, line, booked.payment_id)
    assert paid.refund is not None
    assert (
        paid.refund.status,
        paid.refund.amount,
        paid.refund.applied,
        paid.refund.paid_amount,
        paid.refund.paid_on,
        paid.refund.paid_reference,
        paid.refund.remaining,
    ) == (RefundStatus.PAID, 10_000, 3_000, 7_000, dt.date(2026, 3, 18), "chk-1", 0)
    assert adds_up(paid)
    assert world.line(line).refunds_due == 0


def test_a_payment_reversed_after_its_draw_came_back_shows_a_cancelled_refund(
    world: Deployment,
) -> None:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    drawn = world.draw(line, 10_000)
    paid = world.pay_line(line, 10_000)
    assert paid.refund is None
    assert adds_up(paid)
    # The draw's credit comes back: the payment that paid it off paid nothing owed.
    world.at(dt.date(2026, 3, 16), 12)
    world.settle(
        settlement(f"{drawn.draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP)
    )
    owed_back = receipt_of(world, line, paid.payment_id)
    assert owed_back.paid == Balances()
    assert owed_back.refund is not None
    assert (owed_back.refund.amount, owed_back.refund.status) == (10_000, RefundStatus.DUE)
    assert adds_up(owed_back)

    world.at(dt.date(2026, 3, 17), 12)
    world.settle(
        settlement(paid.payment_id, SettlementOutcome.CHARGED_BACK, world.clock.now(), paid.rail)
    )

    reversed_ = receipt_of(world, line, paid.payment_id)
    assert reversed_.status is PaymentStatus.CHARGED_BACK
    assert reversed_.refund is not None
    assert (reversed_.refund.amount, reversed_.refund.status, reversed_.refund.remaining) == (
        10_000,
        RefundStatus.CANCELLED,
        0,
    )
    assert reversed_.settled_on == dt.date(2026, 3, 17)
    assert adds_up(reversed_)
    assert world.line(line).refunds_due == 0
