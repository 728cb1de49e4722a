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

A return or correction that would cancel or change a refund the lender already paid out
(`RefundAlreadyPaid`) changes nothing: operations are alerted (CRITICAL, "refund already
paid out: handle by hand", naming the payment and amounts) and the event is answered
`SettlementHandling.MANUAL`, as for one beyond the correction reach. Either way a return
whose code forbids debiting again (`loc_core.returns`) still turns the line's autopay off,
in a commit of its own: the money is left to operations, the authorization is not.

Draw transfers also report settlement. They are recognised by their key
(``draw:<user>:<line>:<key>:<rail>``). A completion changes nothing (chosen): the line
recorded the draw when the rail accepted it. A credit the rail brought back (RETURNED or
CHARGED_BACK: the borrower's account was closed or unknown) is a correction effective on
the day the draw was sent (`CreditLine.correct_draw_return`): the borrower never had the
money, so the line is replayed without it (no principal, no interest on it; payments that
then paid more than was owed become refunds due), the returned money and the difference
are posted on the business date, the borrower is told (``loc_draw_returned``) and
operations are alerted (WARNING: the borrower's bank details need updating). A second
delivery is `SettlementHandling.DUPLICATE`; a draw sent further back than the correction
reach is alerted (CRITICAL) and left (`SettlementHandling.MANUAL`).

Every draw event is checked against the line, and operations are alerted when money moved
that the line does not show: a completion for a draw the line shows as FAILED or sent by
another rail (CRITICAL: the borrower got the money twice or without owing it), a returned
credit of a draw the line never sent (CRITICAL), or a draw still PENDING (WARNING: resume
it with the same key).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import attrs

from loc_core.creditline import CreditLine, Draw, DrawStatus, stop_autopay_after_return
from loc_core.errors import (
    CorrectionTooOld,
    DrawAlreadyReturned,
    InvariantViolation,
    NotFound,
    PaymentAlreadyReversed,
    RefundAlreadyPaid,
)
from loc_core.events import DomainEvent
from loc_core.payments import SettlementOutcome
from loc_core.ports import (
    Alerter,
    SettlementEvent,
    Severity,
    UnitOfWork,
)
from loc_core.returns import classify_return
from loc_core.services.handling import SettlementHandling
from loc_core.services.kit import (
    alert_refund_already_paid,
    alert_settlement,
    commit_too_large,
    payment_not_found,
    post_operations_alert,
    refund_due_alert,
    refunds_raised,
    require_paid_by,
    reversed_as_of_today_alert,
    settlement_alert,
    stop_autopay_for_return,
)
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
        draw = _check_draw_transfer(transfer, event, uow, alerter)
        if draw is None or event.outcome is SettlementOutcome.COMPLETED:
            return SettlementHandling.DISBURSEMENT
        return _return_draw(transfer, event, lines=lines, alerter=alerter)
    with uow:
        owner = uow.lines.find_payment(event.idempotency_key)
    if owner is None:
        raise payment_not_found(event.idempotency_key, "any line", event=event)

    def change(line: CreditLine, today: dt.date, *, replay: bool = True) -> SettlementHandling:
        payment = line.payments[event.idempotency_key]
        require_paid_by(alerter, event, payment.rail, user_id=owner.user_id, line_id=owner.owner_id)
        before = payment.status
        try:
            if event.outcome is SettlementOutcome.COMPLETED:
                line.settle_payment(payment_id=payment.payment_id, outcome=event.outcome, on=today)
            else:
                _return(line, payment.payment_id, event, today=today, lines=lines, replay=replay)
        except PaymentAlreadyReversed:
            return SettlementHandling.DUPLICATE
        if payment.status is before:
            return SettlementHandling.DUPLICATE
        if not payment.status.reversed:
            return SettlementHandling.SETTLED
        # In the reversal's commit: no crash leaves the one without the other.
        _, alerts = stop_autopay_for_return(
            stop_autopay_after_return,
            line,
            event,
            user_id=line.user_id,
            owner=("line_id", line.line_id),
            today=today,
        )
        line.outbox.events.extend(alerts)
        return SettlementHandling.REVERSED

    handling = _correcting(
        event,
        _Target(owner.user_id, owner.owner_id, f"a {event.outcome.value} payment"),
        change,
        lines=lines,
        alerter=alerter,
        too_large=functools.partial(change, replay=False),
    )
    if handling is SettlementHandling.MANUAL:
        _stop_autopay_unreversed(event, owner.user_id, owner.owner_id, lines=lines, alerter=alerter)
    return handling


def _stop_autopay_unreversed(
    event: SettlementEvent, user_id: str, line_id: str, *, lines: LineWriter, alerter: Alerter
) -> None:
    """Stop autopay for a return left to operations (MANUAL), in a commit of its own.

    The money is reversed by hand, but the borrower's word on the debit stands whatever
    the books can do: a return that forbids presenting again turns autopay off all the
    same (`loc_core.returns`), its alert committed with the stop. With autopay off
    already nothing is committed and the alert is posted at once. An NSF return changes
    nothing, not even billing.
    """
    if event.outcome is SettlementOutcome.COMPLETED:  # pragma: no cover - never MANUAL
        return
    if not classify_return(event.outcome, event.return_code).stops_autopay:
        return

    def change(line: CreditLine, today: dt.date) -> list[DomainEvent]:
        stop, alerts = stop_autopay_for_return(
            stop_autopay_after_return,
            line,
            event,
            user_id=user_id,
            owner=("line_id", line_id),
            today=today,
        )
        if not stop.stopped:
            return alerts
        line.outbox.events.extend(alerts)
        return []

    uncommitted, _ = lines.change(
        user_id, line_id, change, actor="rail-webhook", request_id=event.event_id
    )
    for alert in uncommitted:
        post_operations_alert(alert, alerter=alerter)


@attrs.frozen
class _Target:
    user_id: str
    line_id: str
    what: str
    """What the event reports on, for the alert of a correction out of reach."""


def _return(
    line: CreditLine,
    payment_id: str,
    event: SettlementEvent,
    *,
    today: dt.date,
    lines: LineWriter,
    replay: bool,
) -> None:
    """Correct the line for a returned payment; without `replay`, reverse it as of today."""
    if not replay:
        _reverse_as_of_today(line, payment_id, event, today=today, lines=lines)
        return
    line.correct_return(
        payment_id=payment_id,
        outcome=event.outcome,
        today=today,
        product=lines.product,
        posted=lines.uow.journal.entries_for(line.line_id),
        before_overdue_job=lines.before_overdue_job(today),
    )


def _reverse_as_of_today(
    line: CreditLine, payment_id: str, event: SettlementEvent, *, today: dt.date, lines: LineWriter
) -> None:
    """Reverse a returned payment as of `today`, for a correction too large for one commit.

    The line's replayed correction would rewrite more records than one transaction holds
    (every later payment whose split it changes): the same commit would fail on every
    delivery. So the money the rail took back is booked now as a plain reversal
    (`CreditLine.settle_payment`: exactly the buckets it paid are owed again, the borrower
    told), and operations are alerted (CRITICAL, in the same commit) to correct the
    effective-dated rest (interest days, minimum, late fee) by hand.
    """
    effective = line.payments[payment_id].submitted_on
    line.settle_payment(payment_id=payment_id, outcome=event.outcome, on=today)
    line.outbox.events.append(
        reversed_as_of_today_alert(
            event,
            what=f"return of payment {payment_id} on line {line.line_id}",
            effective=effective,
            rest="interest days, minimum, late fee",
            user_id=line.user_id,
            owner=("line_id", line.line_id),
            on=today,
            limit=lines.uow.transaction_limit,
        )
    )


def _correcting(
    event: SettlementEvent,
    target: _Target,
    change: Callable[[CreditLine, dt.date], SettlementHandling],
    *,
    lines: LineWriter,
    alerter: Alerter,
    too_large: Callable[[CreditLine, dt.date], SettlementHandling] | None = None,
) -> SettlementHandling:
    """Run `change` on the line (billing first unless the event is a completion).

    A correction reaching further back than the product allows, or one that would cancel
    or change a refund already paid out, is alerted (CRITICAL) and left to operations:
    `SettlementHandling.MANUAL`, nothing changed. A correction whose commit one
    transaction cannot hold (`commit_too_large`: refused before anything was written)
    runs `too_large` instead, a change that fits; without one it is alerted (CRITICAL)
    and left to operations the same way. Either way the event is answered, never failed
    again on every delivery.
    """
    try:
        handling, _ = lines.change(
            target.user_id,
            target.line_id,
            change,
            actor="rail-webhook",
            request_id=event.event_id,
            bill_first=event.outcome is not SettlementOutcome.COMPLETED,
        )
    except InvariantViolation as error:
        if not commit_too_large(error):
            raise
        if too_large is not None:
            return _correcting(event, target, too_large, lines=lines, alerter=alerter)
        alert_settlement(
            alerter,
            event,
            f"{target.what} needs a correction too large for one commit: correct it by hand",
            user_id=target.user_id,
            line_id=target.line_id,
            error=str(error),
        )
        return SettlementHandling.MANUAL
    except CorrectionTooOld as error:
        alert_settlement(
            alerter,
            event,
            f"{target.what} is older than the correction reach: reverse it by hand",
            user_id=target.user_id,
            line_id=target.line_id,
            error=str(error),
        )
        return SettlementHandling.MANUAL
    except RefundAlreadyPaid as error:
        alert_refund_already_paid(
            alerter,
            error,
            event=event,
            user_id=target.user_id,
            line_id=target.line_id,
        )
        return SettlementHandling.MANUAL
    return handling


def _return_draw(
    transfer: DrawTransfer, event: SettlementEvent, *, lines: LineWriter, alerter: Alerter
) -> SettlementHandling:
    """Correct the line for a draw whose credit the rail brought back (module docstring)."""
    uow = lines.uow

    def change(line: CreditLine, today: dt.date) -> SettlementHandling:
        before = line.refunds_due_by_payment()
        try:
            line.correct_draw_return(
                draw_id=transfer.draw_id,
                outcome=event.outcome,
                return_code=event.return_code,
                today=today,
                product=lines.product,
                posted=uow.journal.entries_for(line.line_id),
                before_overdue_job=lines.before_overdue_job(today),
            )
        except DrawAlreadyReturned:
            return SettlementHandling.DUPLICATE
        owner = ("line_id", line.line_id)
        line.outbox.events.append(
            settlement_alert(
                event,
                f"the {transfer.rail.value} credit of draw {transfer.draw_id} came back: the "
                "draw is reversed and not owed; the borrower's bank details need updating",
                user_id=line.user_id,
                owner=owner,
                on=today,
            )
        )
        # Payments that paid the draw off now paid more than was owed: money owed back.
        line.outbox.events.extend(
            refund_due_alert(refund, user_id=line.user_id, owner=owner, on=today)
            for refund in refunds_raised(line, before)
        )
        return SettlementHandling.REVERSED

    what = f"the {event.outcome.value} credit of draw {transfer.draw_id}"
    target = _Target(transfer.user_id, transfer.line_id, what)
    return _correcting(event, target, change, lines=lines, alerter=alerter)


def _check_draw_transfer(
    transfer: DrawTransfer, event: SettlementEvent, uow: UnitOfWork, alerter: Alerter
) -> Draw | None:
    """The draw a rail's event reports on, when it is one the line sent by that rail.

    Any other case is alerted (see the module docstring) and answers None.
    """
    with uow:
        try:
            draw = uow.lines.get(transfer.user_id, transfer.line_id).draws.get(transfer.draw_id)
        except NotFound:
            draw = None
    rail = transfer.rail.value
    severity, problem = Severity.CRITICAL, ""
    sent = (
        draw is not None
        and draw.status in _SENT
        and draw.rail is transfer.rail
        and event.rail is transfer.rail
    )
    if draw is None:
        problem = f"{rail} settled draw {transfer.draw_id}, which no line holds"
    elif sent:
        return draw
    elif event.outcome is not SettlementOutcome.COMPLETED:
        problem = (
            f"the {event.rail.value} credit of draw {transfer.draw_id} was "
            f"{event.outcome.value}, but the line shows it {draw.status.value}"
            + ("" if draw.rail is None else f" by {draw.rail.value}")
        )
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
    return None


_SENT = frozenset({DrawStatus.DISBURSED, DrawStatus.RETURNED})
"""A draw a rail sent: its events are the line's to take (a return reverses it)."""
