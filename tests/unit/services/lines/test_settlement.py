import datetime as dt

import attrs
import pytest
from deployment import Deployment
from fakes import Crash, crash_after, settlement

from loc_core.creditline import Balances, CreditLine, DrawStatus, LineStatus
from loc_core.errors import NotFound
from loc_core.ledger import Bucket, receivable
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import ListLineStatements, SettlementHandling

PAY_DAY = dt.date(2026, 3, 20)


@attrs.frozen
class Paid:
    """A payment on a line, and how a test delivers the rail's word on it."""

    world: Deployment
    line: CreditLine
    payment_id: str

    def settle(self, outcome: SettlementOutcome, rail: Rail) -> SettlementHandling:
        """Delivers an event for the payment, dated now: its outcome on `rail`."""
        now = self.world.clock.now()
        return self.world.settle(settlement(self.payment_id, outcome, now, rail))


@pytest.fixture
def paid(world: Deployment, drawn: CreditLine) -> Paid:
    """The drawn line, with $50.00 paid by pinless on 03-20."""
    world.at(PAY_DAY, 10)
    receipt = world.pay_line(drawn, 5_000)
    return Paid(world, drawn, receipt.payment_id)


@pytest.fixture
def paid_by_ach(world: Deployment, drawn: CreditLine) -> Paid:
    """The drawn line, with $50.00 paid by ACH (pinless down) on 03-20: it can be returned."""
    world.at(PAY_DAY, 10)
    world.sim.down = {Rail.PINLESS}
    receipt = world.pay_line(drawn, 5_000)
    world.sim.down = set()
    return Paid(world, drawn, receipt.payment_id)


def test_a_completion_marks_the_payment_only_and_a_repeat_is_a_duplicate(
    world: Deployment, paid: Paid
) -> None:
    world.at(PAY_DAY, 13)
    (completion,) = world.sim.due_events()[1:]  # after the draw's own credit
    assert completion.idempotency_key == paid.payment_id
    before = world.line(paid.line)
    assert world.settle(completion) is SettlementHandling.SETTLED
    after = world.line(paid.line)
    assert after.payments[paid.payment_id].status is PaymentStatus.COMPLETED
    assert after.balances == before.balances
    assert world.settle(completion) is SettlementHandling.DUPLICATE
    assert world.line(paid.line).version == after.version
    assert world.audit_processes("payment", paid.payment_id) == ["PAYMENT", "SETTLEMENT"]


def test_a_chargeback_reverses_exactly_what_was_paid_once(world: Deployment, paid: Paid) -> None:
    world.at(dt.date(2026, 3, 24), 12)
    assert paid.settle(SettlementOutcome.CHARGED_BACK, Rail.PINLESS) is SettlementHandling.REVERSED
    stored = world.line(paid.line)
    assert stored.balances == Balances(principal=40_000)
    assert stored.payments[paid.payment_id].status is PaymentStatus.CHARGED_BACK
    # a chargeback without an unauthorized reason stops autopay too (test_debit_returns)
    assert world.sent()[-2:] == ["loc_payment_failed", "autopay_stopped"]
    ledger = world.ledger(paid.line.line_id)
    assert f"{paid.payment_id}:reverse" in ledger
    assert ledger.balance(receivable(paid.line.line_id, Bucket.PRINCIPAL)) == 40_000
    sent = list(world.notifier.sent)
    assert paid.settle(SettlementOutcome.CHARGED_BACK, Rail.PINLESS) is SettlementHandling.DUPLICATE
    assert paid.settle(SettlementOutcome.RETURNED, Rail.PINLESS) is SettlementHandling.DUPLICATE
    assert world.notifier.sent == sent
    assert world.line(paid.line).balances == Balances(principal=40_000)


def test_a_return_before_the_completion_reverses_once_and_the_late_completion_is_ignored(
    world: Deployment, paid_by_ach: Paid
) -> None:
    world.at(dt.date(2026, 3, 24), 12)
    assert paid_by_ach.settle(SettlementOutcome.RETURNED, Rail.ACH) is SettlementHandling.REVERSED
    assert paid_by_ach.settle(SettlementOutcome.COMPLETED, Rail.ACH) is SettlementHandling.DUPLICATE
    assert (
        world.line(paid_by_ach.line).payments[paid_by_ach.payment_id].status
        is PaymentStatus.RETURNED
    )


def test_a_return_after_the_close_bills_the_cycle_then_adjusts_it_on_the_next(
    world: Deployment, paid_by_ach: Paid
) -> None:
    world.at(dt.date(2026, 4, 5), 3)
    assert paid_by_ach.settle(SettlementOutcome.RETURNED, Rail.ACH) is SettlementHandling.REVERSED
    (statement,) = world.bus.handle(
        ListLineStatements(paid_by_ach.line.user_id, paid_by_ach.line.line_id)
    )
    assert statement.closing.principal == 35_000  # the issued statement is never edited
    after = world.line(paid_by_ach.line)
    adjusted = {item.reference: item.effect for item in after.cycle_activity}
    interest = adjusted[f"{paid_by_ach.payment_id}:returned:interest"].interest
    assert interest > 0  # the days the returned money was counted as paid bear interest
    assert adjusted[f"{paid_by_ach.payment_id}:returned:principal"].principal == 5_000
    assert (after.principal_balance, after.interest_balance) == (
        40_000,
        statement.interest_charged + interest,
    )


def test_an_event_for_an_unknown_transfer_is_not_found(world: Deployment) -> None:
    with pytest.raises(NotFound, match="no loan or line records transfer 'pay:line-9:k:ach'"):
        world.settle(
            settlement(
                "pay:line-9:k:ach", SettlementOutcome.COMPLETED, world.clock.now(), Rail.PINLESS
            )
        )


def test_a_draw_credit_completing_is_recognised_and_changes_nothing(world: Deployment) -> None:
    line = world.open_line()
    draw = world.draw(line, 10_000)
    before = world.line(line)
    (completion,) = world.sim.due_events()
    assert completion.idempotency_key == f"{draw.draw_id}:rtp"
    assert world.settle(completion) is SettlementHandling.DISBURSEMENT
    assert world.settle(completion) is SettlementHandling.DISBURSEMENT
    assert world.line(line) == before
    assert world.alerter.posted == []


def test_money_sent_for_a_draw_the_line_shows_as_failed_is_alerted(world: Deployment) -> None:
    line = world.open_line()
    world.sim.down = set(Rail)
    draw = world.draw(line, 10_000)
    assert draw.status is DrawStatus.FAILED
    # The rail was not unreachable after all: it sent the money and says so now.
    late = settlement(
        f"{draw.draw_id}:rtp", SettlementOutcome.COMPLETED, world.clock.now(), Rail.RTP
    )
    assert world.settle(late) is SettlementHandling.DISBURSEMENT
    alert = world.alerts()[-1]
    assert alert.title == f"rtp sent draw {draw.draw_id}, which the line shows FAILED"
    assert world.line(line).principal_balance == 0


def test_a_returned_credit_of_a_draw_the_line_never_sent_is_alerted(world: Deployment) -> None:
    line = world.open_line()
    world.sim.down = set(Rail)
    draw = world.draw(line, 10_000)
    returned = settlement(
        f"{draw.draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP
    )
    before = world.line(line)
    assert world.settle(returned) is SettlementHandling.DISBURSEMENT
    assert world.alerts(Severity.CRITICAL)[-1].title == (
        f"the rtp credit of draw {draw.draw_id} was RETURNED, but the line shows it FAILED"
    )
    assert world.line(line) == before


def test_a_draw_credit_for_a_draw_not_yet_booked_is_held_until_it_is(world: Deployment) -> None:
    line = world.open_line()
    world.rails.handler = crash_after(world.sim, {Rail.RTP})
    with pytest.raises(Crash):
        world.draw(line, 10_000)
    (completion,) = world.sim.due_events()
    assert world.settle(completion) is SettlementHandling.HELD
    assert world.settle(completion) is SettlementHandling.HELD  # a repeat is held once
    assert world.draw(line, 10_000).status is DrawStatus.DISBURSED
    assert world.alerts(Severity.WARNING) == []  # applied after the booking: nothing amiss
    assert world.alerts(Severity.CRITICAL) == []


def test_a_return_after_payoff_and_closing_reopens_the_line(world: Deployment) -> None:
    line = world.open_line()
    world.at(dt.date(2026, 3, 6), 10)
    world.draw(line, 10_000)
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    world.pay_line(line, 10_000)  # same day: no interest accrued
    world.edit_line(line, lambda stored: stored.close(on=dt.date(2026, 3, 6), reason="paid"))
    payment_id = next(iter(world.line(line).payments))
    world.at(dt.date(2026, 3, 9), 12)
    returned = settlement(payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    assert world.settle(returned) is SettlementHandling.REVERSED
    reopened = world.line(line)
    assert (reopened.status, reopened.principal_balance) == (LineStatus.ACTIVE, 10_000)


def test_a_return_older_than_the_correction_reach_is_alerted_and_changes_nothing(
    world: Deployment, paid_by_ach: Paid
) -> None:
    world.run_days(PAY_DAY + dt.timedelta(days=1), dt.date(2026, 7, 20))
    before = world.line(paid_by_ach.line)
    assert paid_by_ach.settle(SettlementOutcome.RETURNED, Rail.ACH) is SettlementHandling.MANUAL
    after = world.line(paid_by_ach.line)
    assert after.version == before.version
    assert after.payments[paid_by_ach.payment_id].status is not PaymentStatus.RETURNED
    (alert,) = world.alerts(Severity.CRITICAL)
    assert "older than the correction reach" in alert.title
