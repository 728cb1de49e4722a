import datetime as dt

import pytest
from deployment import Deployment
from fakes import (
    Crash,
    CrashingUnitOfWork,
    InterferingUnitOfWork,
    crash_after,
    declining,
    timing_out,
)

from loc_core.creditline import Balances, CreditLine, LineStatus
from loc_core.errors import (
    ExternalServiceError,
    IdempotencyConflict,
    InvalidRequest,
    LockNotAcquired,
    NotFound,
    Overpayment,
    RailDeclined,
)
from loc_core.ledger import CLEARING, Bucket, receivable
from loc_core.payments import Direction, PaymentStatus, Rail
from loc_core.ports import UnitOfWork
from loc_core.services.commands import GetLinePaymentReceipt, PayLine
from loc_core.services.kit import lock_key

PAY_DAY = dt.date(2026, 4, 20)


@pytest.fixture
def billed(world: Deployment, billed: CreditLine) -> CreditLine:
    """The billed line, with the clock at 10:00 on the day the borrower pays."""
    world.at(PAY_DAY, 10)
    return billed


def test_a_payment_is_taken_by_pinless_and_applied_at_once(
    world: Deployment, billed: CreditLine
) -> None:
    receipt = world.pay_line(billed, 5_000)
    payment_id = PayLine(billed.user_id, billed.line_id, 5_000, "pay-1").payment_id(Rail.PINLESS)
    assert (receipt.payment_id, receipt.rail, receipt.status, receipt.submitted_on) == (
        payment_id,
        Rail.PINLESS,
        PaymentStatus.PENDING,
        PAY_DAY,
    )
    assert receipt.paid == Balances(principal=4_211, interest=789)
    assert receipt.balances_after == Balances(principal=35_789)
    assert world.line(billed).balances == receipt.balances_after
    (transfer,) = world.sim.submitted[1:]
    assert (transfer.idempotency_key, transfer.direction, transfer.amount) == (
        payment_id,
        Direction.DEBIT,
        5_000,
    )
    ledger = world.ledger(billed.line_id)
    assert ledger.balance(CLEARING) == 5_000
    assert ledger.balance(receivable(billed.line_id, Bucket.PRINCIPAL)) == 35_789
    with world.bus.get(UnitOfWork) as uow:
        owner = uow.lines.find_payment(payment_id)
    assert owner is not None
    assert owner.owner_id == billed.line_id
    assert world.audit_processes("payment", payment_id) == ["PAYMENT"]


def test_repeating_a_payment_returns_its_receipt_and_takes_nothing_more(
    world: Deployment, billed: CreditLine
) -> None:
    first = world.pay_line(billed, 5_000)
    world.clock.advance(dt.timedelta(hours=2))
    assert world.pay_line(billed, 5_000) == first
    assert len(world.sim.submitted) == 2
    assert world.line(billed).principal_balance == 35_789
    with pytest.raises(IdempotencyConflict, match=r"used for \$50\.00, not \$60\.00"):
        world.pay_line(billed, 6_000)


def test_an_overpayment_is_refused_before_any_rail_is_called(
    world: Deployment, billed: CreditLine
) -> None:
    with pytest.raises(Overpayment, match=r"\$407\.89 owed"):
        world.pay_line(billed, 40_790)
    assert world.rails.calls[1:] == []
    assert world.pay_line(billed, 40_789, key="pay-2").balances_after == Balances()


@pytest.mark.parametrize("amount", [0, -1])
def test_an_invalid_amount_is_refused_before_any_rail_is_called(
    world: Deployment, billed: CreditLine, amount: int
) -> None:
    with pytest.raises(InvalidRequest, match="amount"):
        world.pay_line(billed, amount)
    assert world.rails.calls[1:] == []


def test_a_declined_pinless_debit_falls_back_to_ach(world: Deployment, billed: CreditLine) -> None:
    world.rails.handler = declining(world.sim, {Rail.PINLESS})
    receipt = world.pay_line(billed, 5_000)
    assert receipt.rail is Rail.ACH
    assert receipt.payment_id.endswith(":ach")
    assert world.pay_line(billed, 5_000) == receipt


def test_when_both_rails_decline_nothing_is_applied(world: Deployment, billed: CreditLine) -> None:
    world.rails.handler = declining(world.sim, {Rail.PINLESS, Rail.ACH})
    with pytest.raises(RailDeclined, match=r"pinless declined .* ach declined"):
        world.pay_line(billed, 5_000)
    assert world.line(billed).payments == {}
    world.rails.handler = world.sim.submit
    assert world.pay_line(billed, 5_000, key="pay-2").rail is Rail.PINLESS


def test_a_rail_that_cannot_be_reached_falls_back_to_the_next(
    world: Deployment, billed: CreditLine
) -> None:
    world.sim.down = {Rail.PINLESS}  # RailUnavailable: nothing was sent
    assert world.pay_line(billed, 5_000).rail is Rail.ACH
    assert [call.rail for call in world.rails.calls[1:]] == [Rail.PINLESS, Rail.ACH]
    assert len(world.line(billed).payments) == 1


def test_an_unknown_outcome_stops_and_a_retry_with_the_key_pays_once(
    world: Deployment, billed: CreditLine
) -> None:
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError, match="timed out after the request was sent"):
        world.pay_line(billed, 5_000)
    assert [call.rail for call in world.rails.calls[1:]] == [Rail.PINLESS]  # ACH untried
    assert world.line(billed).payments == {}
    assert world.pay_line(billed, 5_000).rail is Rail.PINLESS
    assert len(world.line(billed).payments) == 1
    assert len(world.sim.submitted) == 2  # the draw and one debit


def test_a_crash_after_the_rail_took_the_money_is_completed_by_the_retry(
    world: Deployment, billed: CreditLine
) -> None:
    world.rails.handler = crash_after(world.sim, {Rail.PINLESS})
    with pytest.raises(Crash):
        world.pay_line(billed, 5_000)
    with pytest.raises(Crash):
        world.using(UnitOfWork, CrashingUnitOfWork(world.database)).pay_line(billed, 5_000)
    assert world.line(billed).payments == {}
    receipt = world.pay_line(billed, 5_000)
    assert receipt.balances_after == Balances(principal=35_789)
    assert len(world.sim.submitted) == 2
    assert world.alerts()[0].title.startswith("money moved but not booked: pinless payment")


def test_a_payment_while_the_due_job_collects_is_refused(
    world: Deployment, billed: CreditLine
) -> None:
    key = lock_key("due", user_id=billed.user_id, item_id=billed.line_id)
    world.lock.acquire(key, owner="loc_due", ttl=dt.timedelta(seconds=60))
    with pytest.raises(LockNotAcquired):
        world.pay_line(billed, 5_000)
    assert world.rails.calls[1:] == []


def test_a_concurrent_change_to_the_line_does_not_lose_the_payment(
    world: Deployment, billed: CreditLine
) -> None:
    def a_draw_elsewhere() -> None:
        world.draw(billed, 1_000, key="draw-2")

    racing = InterferingUnitOfWork(world.database, a_draw_elsewhere)
    receipt = world.using(UnitOfWork, racing).pay_line(billed, 5_000)
    line = world.line(billed)
    assert receipt.payment_id in line.payments
    assert line.principal_balance == 40_000 + 1_000 - 4_211


def test_a_payment_on_a_suspended_line_cures_it(world: Deployment, billed: CreditLine) -> None:
    world.at(dt.date(2026, 4, 28), 16)
    world.overdue()
    assert world.line(billed).status is LineStatus.SUSPENDED
    world.at(dt.date(2026, 4, 29), 9)
    world.pay_line(billed, 2_489)  # the 1,989 minimum and the 500 late fee
    assert world.line(billed).status is LineStatus.ACTIVE


def test_a_receipt_can_be_read_later_with_its_settled_status(
    world: Deployment, billed: CreditLine
) -> None:
    first = world.pay_line(billed, 5_000)
    world.clock.advance(dt.timedelta(hours=1))
    world.pay_line(billed, 1_000, key="pay-2")
    world.at(PAY_DAY, 13)
    world.settle_due()
    later = world.bus.handle(
        GetLinePaymentReceipt(billed.user_id, billed.line_id, first.payment_id)
    )
    assert (later.status, later.settled_on) == (PaymentStatus.COMPLETED, PAY_DAY)
    assert later.balances_after == first.balances_after  # as of the payment, not now
    with pytest.raises(NotFound, match="no payment 'nope'"):
        world.bus.handle(GetLinePaymentReceipt(billed.user_id, billed.line_id, "nope"))
    with pytest.raises(NotFound):
        world.bus.handle(GetLinePaymentReceipt("user-2", billed.line_id, first.payment_id))
