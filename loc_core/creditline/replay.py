"""Replay: what a line would be had every money event been known on its own day.

The line is rebuilt from its opening terms and its own commands are driven again, day by
day from the opening date to `today`, in effective order: each day bills the cycle that
closes on it (`bill_cycle`), disburses that day's draws, applies that day's payments (a
RETURNED or CHARGED_BACK payment is applied and reversed the same day, so it pays
nothing), then runs the overdue rules (`run_overdue`). Because the line's own methods do
the work, a line handled on time and its replay agree by construction.

Pending and failed draws move no money and are not replayed. A line that is CLOSED is
closed again at the end when the replayed line owes nothing; otherwise the corrected
history reopened it.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import attrs

from loc_core.creditline import billing, closing, collections, draws, payments
from loc_core.creditline._state import LineState
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.draw import Draw, DrawStatus
from loc_core.creditline.payment import LocPayment
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import InvalidTransition
from loc_core.payments import PaymentStatus, SettlementOutcome

__all__ = ["replay_line"]

_ONE_DAY = dt.timedelta(days=1)


def replay_line(line: LineState, *, today: dt.date, product: CreditLineProduct) -> LineState:
    """A fresh line that lived `line`'s money events on their effective dates, up to `today`.

    Its outbox holds every journal entry of that history (the replayed books); `line` is
    not changed. Payments replay in the order the line holds them within a day, draws
    before payments.
    """
    fresh = LineState(
        line_id=line.line_id,
        user_id=line.user_id,
        application_id=line.application_id,
        opened_on=line.opened_on,
        credit_limit=line.credit_limit,
        apr=line.apr,
        minimum_payment_percent=line.minimum_payment_percent,
        cycle_day=line.cycle_day,
    )
    disbursed: dict[dt.date, list[Draw]] = {}
    for draw in line.draws.values():
        if draw.status is DrawStatus.DISBURSED and draw.settled_on is not None:
            disbursed.setdefault(draw.settled_on, []).append(draw)
    paid: dict[dt.date, list[LocPayment]] = {}
    for payment in line.payments.values():
        paid.setdefault(payment.submitted_on, []).append(payment)
    day = line.opened_on
    while day <= today:
        while fresh.next_close_date <= day:
            billing.bill_cycle(fresh, close_date=fresh.next_close_date, today=day, product=product)
        for draw in disbursed.get(day, ()):
            _disburse(fresh, draw, day)
        for payment in paid.get(day, ()):
            _pay(fresh, payment, day)
        collections.run_overdue(fresh, today=day, product=product)
        day += _ONE_DAY
    if line.status is LineStatus.CLOSED:
        with contextlib.suppress(InvalidTransition):  # owing something, it stays open
            closing.close_line(fresh, on=today, reason="closed")
    return fresh


def _disburse(fresh: LineState, draw: Draw, day: dt.date) -> None:
    """Disburse a draw that really went out, whatever the replayed line would have allowed."""
    if draw.rail is None:  # pragma: no cover - a disbursed draw always names its rail
        raise InvalidTransition(f"draw {draw.draw_id} is DISBURSED without a rail", about=draw)
    pending = attrs.evolve(draw, status=DrawStatus.PENDING, rail=None, settled_on=None)
    fresh.draws[draw.draw_id] = pending
    fresh.pending_draws_total += draw.amount
    draws.disburse_draw(fresh, draw_id=draw.draw_id, rail=draw.rail, on=day)


def _pay(fresh: LineState, payment: LocPayment, day: dt.date) -> None:
    """Apply a payment whose money moved; one returned or charged back pays nothing."""
    payments.book_moved_payment(
        fresh, payment_id=payment.payment_id, amount=payment.amount, rail=payment.rail, on=day
    )
    if payment.status.reversed:
        payments.settle_payment(
            fresh,
            payment_id=payment.payment_id,
            outcome=SettlementOutcome(payment.status.value),
            on=day,
        )
    elif payment.status is PaymentStatus.COMPLETED:
        replayed = fresh.payments[payment.payment_id]
        replayed.status, replayed.settled_on = payment.status, payment.settled_on
