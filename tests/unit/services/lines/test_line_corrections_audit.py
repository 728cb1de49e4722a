"""Audit of effective-dated corrections on lines, driven through the use cases.

Each test delivers a correction late (a return weeks after the payment, an operator's
backdated entry) and checks what a borrower, an operator or an auditor sees: the same
line and books as the events delivered on time, the alerts and events owed, and
idempotent operator commands.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from deployment import LINES_OPENED, Deployment
from fakes import settlement

from loc_core.corrections import account_balances
from loc_core.creditline import CreditLine, LineStatus
from loc_core.errors import IdempotencyConflict
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import (
    BookBackdatedDraw,
    BookBackdatedLinePayment,
    SettlementHandling,
)

Hook = Callable[[Deployment], object]


def _live(
    world: Deployment, first: dt.date, last: dt.date, hooks: dict[tuple[dt.date, int], Hook]
) -> None:
    """The line's days: billing 08:00, upcoming 14:00, overdue 16:00, and the hooks at their hour.

    No due job: it would collect a minimum, and the tests compare histories that differ
    only in when a correction is learned.
    """
    day = first
    while day <= last:
        steps: list[tuple[int, Hook]] = [
            (8, lambda w: w.bill()),
            (14, lambda w: w.upcoming()),
            (16, lambda w: w.overdue()),
            *((hour, hook) for (on, hour), hook in hooks.items() if on == day),
        ]
        for hour, step in sorted(steps, key=lambda s: s[0]):
            world.at(day, hour)
            step(world)
        day += dt.timedelta(days=1)


def _pay_by_ach(line: CreditLine, amount: int, key: str, ids: list[str]) -> Hook:
    def pay(world: Deployment) -> None:
        world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
        ids.append(world.pay_line(line, amount, key=key).payment_id)
        world.sim.down = set()

    return pay


def _return(ids: list[str]) -> Hook:
    def returned(world: Deployment) -> None:
        event = settlement(ids[0], SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
        assert world.settle(event) is SettlementHandling.REVERSED

    return returned


def _backdated(line: CreditLine, amount: int, effective_on: dt.date, key: str) -> Hook:
    def book(world: Deployment) -> None:
        world.bus.handle(
            BookBackdatedLinePayment(
                user_id=line.user_id,
                line_id=line.line_id,
                amount=amount,
                effective_on=effective_on,
                reason="cheque keyed late",
                idempotency_key=key,
            )
        )

    return book


def _drawn() -> tuple[Deployment, CreditLine]:
    """$400.00 drawn on 03-12; the 04-05 statement asks 1,989 cents by 04-27."""
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    return world, line


# --- an operator's backdated entries: one key, one booking ------------------------------


def _cheque(line: CreditLine) -> BookBackdatedLinePayment:
    return BookBackdatedLinePayment(
        user_id=line.user_id,
        line_id=line.line_id,
        amount=5_000,
        effective_on=dt.date(2026, 3, 15),
        reason="cheque received 03-15",
        idempotency_key="cheque-1",
    )


def _lost_draw(line: CreditLine) -> BookBackdatedDraw:
    return BookBackdatedDraw(
        user_id=line.user_id,
        line_id=line.line_id,
        amount=5_000,
        effective_on=dt.date(2026, 3, 10),
        reason="sent 03-10, its answer lost",
        idempotency_key="lost-1",
    )


@pytest.mark.parametrize(
    ("book", "change"),
    [
        pytest.param(_cheque, {"effective_on": dt.date(2026, 3, 16)}, id="payment-another-day"),
        pytest.param(_cheque, {"rail": Rail.PINLESS}, id="payment-another-rail"),
        pytest.param(_cheque, {"amount": 4_999}, id="payment-another-amount"),
        pytest.param(_lost_draw, {"effective_on": dt.date(2026, 3, 11)}, id="draw-another-day"),
        pytest.param(_lost_draw, {"rail": Rail.RTP}, id="draw-another-rail"),
        pytest.param(_lost_draw, {"amount": 4_999}, id="draw-another-amount"),
    ],
)
def test_a_backdated_key_reused_for_other_money_is_a_conflict(
    book: Callable[[CreditLine], BookBackdatedLinePayment | BookBackdatedDraw],
    change: dict[str, Any],
) -> None:
    world, line = _drawn()
    world.at(dt.date(2026, 3, 20), 10)
    command = book(line)
    world.bus.handle(command)
    before = world.line(line)
    with pytest.raises(IdempotencyConflict):
        world.bus.handle(attrs.evolve(command, **change))
    assert world.line(line).version == before.version


# --- a backdated payment on a paid-off line: the money is owed back -----------------------


def test_a_backdated_payment_on_a_paid_off_line_is_a_refund_due_alerted_and_announced() -> None:
    """Paid off 03-06; a cheque of $50.00 received 03-10 is keyed on 03-20."""
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()
    world.at(dt.date(2026, 3, 6), 10)
    world.draw(line, 10_000)
    world.pay_line(line, 10_000, key="payoff")
    world.at(dt.date(2026, 3, 20), 10)
    command = BookBackdatedLinePayment(
        user_id=line.user_id,
        line_id=line.line_id,
        amount=5_000,
        effective_on=dt.date(2026, 3, 10),
        reason="cheque received 03-10",
        idempotency_key="cheque-1",
    )
    receipt = world.bus.handle(command)  # nothing was owed: the receipt still answers
    assert (receipt.amount, receipt.paid.total, receipt.balances_after.total) == (5_000, 0, 0)
    assert world.line(line).refunds_due == 5_000
    (alert,) = world.alerts(Severity.WARNING)
    assert (alert.title, alert.details["amount"]) == ("refund due", 5_000)
    assert world.sent().count("refund_due") == 1
    world.bus.handle(command)  # the same key again: nothing more to refund or tell
    assert len(world.alerts(Severity.WARNING)) == 1
    assert world.sent().count("refund_due") == 1


# --- a return learned on the day after the due date, then a payment ----------------------


def test_a_fee_a_return_charged_today_stays_paid_by_a_later_payment_through_later_replays() -> None:
    """The 04-27 minimum, paid 04-20, comes back at 17:00 on 04-28, after that day's 16:00
    job: the replay of 04-28 is past due with its late fee at once (learned before 16:00,
    that job would charge it at its hour). The borrower pays minimum and fee at 18:00. An
    unrelated backdated payment keyed on 05-02 must leave that fee charged and paid, as
    the same payments on the same days without the backdated entry do."""
    worlds = []
    for backdated in (False, True):
        world, line = _drawn()
        first: list[str] = []
        hooks: dict[tuple[dt.date, int], Hook] = {
            (dt.date(2026, 4, 20), 10): _pay_by_ach(line, 1_989, "pay-1", first),
            (dt.date(2026, 4, 28), 17): _return(first),
            (dt.date(2026, 4, 28), 18): _pay_by_ach(line, 2_489, "pay-2", []),
        }
        if backdated:
            hooks[dt.date(2026, 5, 2), 10] = _backdated(line, 100, dt.date(2026, 5, 1), "c-1")
        else:
            hooks[dt.date(2026, 5, 1), 10] = _pay_by_ach(line, 100, "pay-3", [])
        _live(world, dt.date(2026, 3, 13), dt.date(2026, 5, 3), hooks)
        worlds.append((world, world.line(line)))
    (plain, plain_line), (corrected, corrected_line) = worlds
    assert plain_line.late_fee_cycle == dt.date(2026, 4, 5)  # the return charged the fee
    assert corrected_line.late_fee_cycle == plain_line.late_fee_cycle
    assert corrected_line.principal_balance == plain_line.principal_balance
    assert corrected_line.balances == plain_line.balances
    assert account_balances(corrected.ledger(corrected_line.line_id)) == account_balances(
        plain.ledger(plain_line.line_id)
    )


# --- a closed line whose payoff comes back after default's 90 days ------------------------


def test_a_closed_lines_payoff_returned_into_default_tells_the_borrower_it_is_past_due() -> None:
    """Paid off and closed on 04-05, the payoff returned on 08-01: as of 04-05 the line was
    never paid, past due since 04-28 and DEFAULTED on its 90th day. The borrower hears of
    it (loc_past_due) as when the return is known on time, and the books agree."""
    worlds = []
    for returned_on in (dt.date(2026, 4, 5), dt.date(2026, 8, 1)):
        world, line = _drawn()
        payoff: list[str] = []

        def close(world: Deployment, line: CreditLine = line) -> None:
            world.close(line)

        hooks: dict[tuple[dt.date, int], Hook] = {
            (dt.date(2026, 4, 5), 10): _pay_by_ach(line, 40_789, "payoff", payoff),
            (dt.date(2026, 4, 5), 11): close,
            (returned_on, 12): _return(payoff),
        }
        _live(world, dt.date(2026, 3, 13), dt.date(2026, 8, 2), hooks)
        worlds.append((world, world.line(line)))
    (on_time, on_time_line), (late, late_line) = worlds
    assert late_line.status is on_time_line.status is LineStatus.DEFAULTED
    assert late_line.past_due_since == on_time_line.past_due_since == dt.date(2026, 4, 28)
    assert account_balances(late.ledger(late_line.line_id)) == account_balances(
        on_time.ledger(on_time_line.line_id)
    )
    assert "loc_past_due" in on_time.sent()
    assert on_time.sent().count("loc_charged_off") == 1
    assert sorted(late.sent()[-3:]) == ["loc_charged_off", "loc_past_due", "loc_payment_failed"]
    assert late.sent().count("loc_charged_off") == 1
