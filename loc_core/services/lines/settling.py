"""Settlement events for line transfers: the rail says what became of money it moved.

Replaces the seed's webhook handler for lines (``LOAN_DEBIT_COMPLETED``, ``_RETURNED``,
``_CHARGED_BACK``). A payment's event finds it by the transfer key it carries, which is
the payment id (`CreditLineRepository.find_payment`). COMPLETED marks the payment and
confirms it to the borrower (``loc_payment_succeeded``, with what the line owes);
RETURNED or CHARGED_BACK is a correction effective on the day the payment was applied
(`CreditLine.correct_return`): the line is replayed as if the payment had never paid
anything (interest, minimum, past due, late fee, suspension) and the difference is posted
on the business date, with the borrower told (``loc_payment_failed``, and
``loc_past_due`` when the line is newly past due). A payment older than the product's
correction reach is not corrected: operations are alerted (CRITICAL) and nothing changes
(`SettlementHandling.MANUAL`). Closed cycles are billed before a correction. A
completion changes no balance, so it bills nothing.

Events arrive at least once and in any order: a repeated delivery, a completion after a
return, a second return or chargeback all change nothing and return
`SettlementHandling.DUPLICATE`, never an error.

Draw transfers also report settlement: credits that complete. They are recognised by their
key (``draw:<user>:<line>:<key>:<rail>``) and change nothing (chosen): the line recorded
the draw when the rail accepted it. The event is still checked against the line, and
operations are alerted when money moved that the line does not show: a completion for a
draw the line shows as FAILED or sent by another rail (CRITICAL: the borrower got the
money twice or without owing it), a credit that did not complete (CRITICAL), or a draw
still PENDING (WARNING: resume it with the same key).
"""

from __future__ import annotations

import datetime as dt

from loc_core.creditline import CreditLine, DrawStatus
from loc_core.errors import CorrectionTooOld, NotFound, PaymentAlreadyReversed
from loc_core.payments import SettlementOutcome
from loc_core.ports import (
    Alerter,
    SettlementEvent,
    Severity,
    UnitOfWork,
)
from loc_core.services.handling import SettlementHandling
from loc_core.services.kit import alert_settlement, payment_not_found, require_paid_by
from loc_core.services.lines._unit import LineWriter
from loc_core.services.lines.drawing import DrawTransfer, parse_draw_transfer

__all__ = ["handle_line_settlement"]


def handle_line_settlement(
    event: SettlementEvent, *, lines: LineWriter, alerter: Alerter
) -> SettlementHandling:
    """Record what the rail reports about a line payment (or check a draw's transfer).

    Raises:
        NotFound: the transfer is neither a line payment nor a draw, or the payment went
            by another rail than the event's (operations are alerted, CRITICAL: money
            may have moved that nothing records; nothing is applied).
        ConcurrencyConflict: the line kept changing; redelivering the event is safe.
    """
    uow = lines.uow
    transfer = parse_draw_transfer(event.idempotency_key)
    if transfer is not None:
        _check_draw_transfer(transfer, event, uow, alerter)
        return SettlementHandling.DISBURSEMENT
    with uow:
        owner = uow.lines.find_payment(event.idempotency_key)
    if owner is None:
        raise payment_not_found(event.idempotency_key, "any line", event=event)

    def change(line: CreditLine, today: dt.date) -> SettlementHandling:
        payment = line.payments[event.idempotency_key]
        require_paid_by(alerter, event, payment.rail, user_id=owner.user_id, line_id=owner.owner_id)
        before = payment.status
        try:
            if event.outcome is SettlementOutcome.COMPLETED:
                line.settle_payment(payment_id=payment.payment_id, outcome=event.outcome, on=today)
            else:
                line.correct_return(
                    payment_id=payment.payment_id,
                    outcome=event.outcome,
                    today=today,
                    product=lines.product,
                    posted=uow.journal.entries_for(line.line_id),
                )
        except PaymentAlreadyReversed:
            return SettlementHandling.DUPLICATE
        if payment.status is before:
            return SettlementHandling.DUPLICATE
        return (
            SettlementHandling.REVERSED if payment.status.reversed else SettlementHandling.SETTLED
        )

    try:
        handling, _ = lines.change(
            owner.user_id,
            owner.owner_id,
            change,
            actor="rail-webhook",
            request_id=event.event_id,
            bill_first=event.outcome is not SettlementOutcome.COMPLETED,
        )
    except CorrectionTooOld as error:
        alert_settlement(
            alerter,
            event,
            f"a {event.outcome.value} payment is older than the correction reach: "
            "reverse it by hand",
            user_id=owner.user_id,
            line_id=owner.owner_id,
            error=str(error),
        )
        return SettlementHandling.MANUAL
    return handling


def _check_draw_transfer(
    transfer: DrawTransfer, event: SettlementEvent, uow: UnitOfWork, alerter: Alerter
) -> None:
    with uow:
        try:
            draw = uow.lines.get(transfer.user_id, transfer.line_id).draws.get(transfer.draw_id)
        except NotFound:
            draw = None
    rail = transfer.rail.value
    severity, problem = Severity.CRITICAL, ""
    if draw is None:
        problem = f"{rail} settled draw {transfer.draw_id}, which no line holds"
    elif event.outcome is not SettlementOutcome.COMPLETED:
        problem = f"the {rail} credit of draw {transfer.draw_id} was {event.outcome.value}"
    elif draw.status is DrawStatus.PENDING:
        severity = Severity.WARNING
        problem = f"{rail} sent draw {transfer.draw_id}, still PENDING: resume it with its key"
    elif draw.status is DrawStatus.FAILED or draw.rail is not transfer.rail:
        shown = "FAILED" if draw.rail is None else f"sent by {draw.rail.value}"
        problem = f"{rail} sent draw {transfer.draw_id}, which the line shows {shown}"
    if problem:
        alert_settlement(
            alerter,
            event,
            problem,
            severity=severity,
            user_id=transfer.user_id,
            line_id=transfer.line_id,
        )
