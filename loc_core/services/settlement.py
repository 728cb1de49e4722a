"""One entry point for the rails' settlement events, whichever product a transfer serves.

The payments webhook (seed ``collections/webhook_handler.go``, Kinesis) delivers every
event for every transfer, at least once and in any order. The router recognises what a
transfer was for from its idempotency key: a loan disbursement or a draw by the key's
shape, a repayment by the payments index, and hands the event to that product's handler.
Each handler makes repeats and late events harmless, so delivering an event twice has
the effect of delivering it once.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.bookkeeping import Product
from loc_core.errors import NotFound
from loc_core.installment import DAILY_JOB_AT
from loc_core.intents import IntentKind
from loc_core.ports import (
    Alerter,
    Clock,
    Metrics,
    SettlementEvent,
    Severity,
    UnitOfWork,
)
from loc_core.services.handling import Settled, SettlementHandling, SettleTransfer
from loc_core.services.kit import alert_settlement, before_job_hour, business_date
from loc_core.services.lines import LineWriter, handle_line_settlement, parse_draw_transfer
from loc_core.services.loans import settle_payment
from loc_core.services.loans.disbursement import parse_disbursement_key
from loc_core.services.moving import Movements

__all__ = [
    "CLOCK_SKEW",
    "CREDITLINE",
    "INSTALLMENT",
    "SettleTransfer",
    "Settled",
    "SettlementHandling",
    "handle_settlement_event",
]

INSTALLMENT = Product.INSTALLMENT
CREDITLINE = Product.CREDITLINE

CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far a rail's clock may run ahead of ours before an event's time is alerted."""


_PRODUCT_OF = {
    IntentKind.DISBURSEMENT: INSTALLMENT,
    IntentKind.LOAN_PAYMENT: INSTALLMENT,
    IntentKind.AUTOPAY: INSTALLMENT,
    IntentKind.DRAW: CREDITLINE,
    IntentKind.LINE_PAYMENT: CREDITLINE,
    IntentKind.DUE_PAYMENT: CREDITLINE,
}


def handle_settlement_event(
    command: SettleTransfer,
    *,
    lines: LineWriter,
    movements: Movements,
    alerter: Alerter,
    metrics: Metrics,
    clock: Clock,
) -> Settled:
    """Route `event` to the product whose transfer it reports.

    An event for a transfer whose booking is still pending (its intent is PENDING: the
    process died between the rail's answer and the commit) is kept on the intent and
    applied once the booking lands (`SettlementHandling.HELD`), never dropped.

    An event dated after the business clock (the rail's clock runs ahead, or its time is
    wrong) is taken as of now: money is booked on the day it is learned, never on a day
    that has not come, which would charge a loan's fees as of that day or refuse a fresh
    return as older than a correction may reach. Beyond `CLOCK_SKEW`, operations are told
    (WARNING).

    Raises:
        NotFound: no loan or line knows the transfer; operations are alerted (CRITICAL),
            since money may have moved that nothing records.
    """
    event = _not_after(command.event, clock.now(), alerter)
    holder = movements.hold(event)
    if holder is not None:
        metrics.increment("loc.settlements.held")
        return Settled(_PRODUCT_OF[holder.kind], SettlementHandling.HELD)
    product = _product_of(event, lines.uow)
    if product is None:
        alert_settlement(alerter, event, "settlement event for a transfer no loan or line records")
        raise NotFound(
            f"no loan or line records transfer {event.idempotency_key!r} (event {event.event_id})",
            key=event.idempotency_key,
        )
    if product == INSTALLMENT:
        today = business_date(clock)
        handled = settle_payment(
            event,
            today=today,
            uow=lines.uow,
            publish=lines.publish,
            alerter=alerter,
            metrics=metrics,
            before_daily_job=before_job_hour(clock, today, DAILY_JOB_AT),
        )
        return Settled(INSTALLMENT, handled)
    line_handled = handle_line_settlement(event, lines=lines, alerter=alerter)
    return Settled(CREDITLINE, line_handled)


def _product_of(event: SettlementEvent, uow: UnitOfWork) -> str | None:
    """The product a transfer served: by its key's shape, else by the payments index."""
    key = event.idempotency_key
    if parse_disbursement_key(key) is not None:
        return INSTALLMENT
    if parse_draw_transfer(key) is not None:
        return CREDITLINE
    with uow:
        if uow.loans.find_payment(key) is not None:
            return INSTALLMENT
        if uow.lines.find_payment(key) is not None:
            return CREDITLINE
    return None


def _not_after(event: SettlementEvent, now: dt.datetime, alerter: Alerter) -> SettlementEvent:
    """`event`, dated `now` at the latest; a date beyond `CLOCK_SKEW` ahead is alerted."""
    if event.occurred_at <= now:
        return event
    if event.occurred_at - now > CLOCK_SKEW:
        alert_settlement(
            alerter,
            event,
            "settlement event dated after the clock: booked as of now",
            severity=Severity.WARNING,
            occurred_at=event.occurred_at.isoformat(),
            booked_at=now.isoformat(),
        )
    return attrs.evolve(event, occurred_at=now)
