"""Draws: money a borrower takes from the line.

A requested draw is PENDING and holds available credit. The service offers it to the rails
in order (`rails.next_rail`); the first rail that accepts makes it DISBURSED and only then
does principal rise. When every rail declines it FAILS: the hold is released and no
balance changes.
"""

from __future__ import annotations

import datetime as dt

from loc_core.audit import ChangeRecorder
from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.creditline._bookkeeping import (
    Process,
    accrue,
    book_activity,
    emit,
    require_in_order,
    step,
)
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind
from loc_core.creditline.balances import Balances
from loc_core.creditline.closing import close_when_paid_off
from loc_core.creditline.credit import apply_credit
from loc_core.creditline.delinquency import past_due_amount
from loc_core.creditline.dispute import DisputedCharge, DisputeStatus
from loc_core.creditline.draw import Draw, DrawStatus
from loc_core.creditline.rails import DISBURSEMENT_RAILS
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import (
    IdempotencyConflict,
    InsufficientCredit,
    InvalidTransition,
    LineNotActive,
    NotFound,
    Ref,
)
from loc_core.events import EventType
from loc_core.ledger import BILLING_ERRORS, FUNDING, Bucket, JournalEntry, receivable
from loc_core.money import format_cents, positive_cents
from loc_core.payments import Rail

__all__: list[str] = []


def _draw(line: LineState, draw_id: str) -> Draw:
    try:
        return line.draws[draw_id]
    except KeyError:
        raise NotFound(
            f"line {line.line_id} has no draw {draw_id!r}",
            about=Ref("draw", draw_id, line.user_id),
        ) from None


def request_draw(line: LineState, *, draw_id: str, amount: object, on: dt.date) -> Draw:
    """The rule of `CreditLine.request_draw` (documented there)."""
    cents = positive_cents(amount, field="draw amount")
    existing = _admitted(line, draw_id, cents, on)
    if existing is not None:
        return existing
    draw = Draw(
        draw_id=draw_id, line_id=line.line_id, user_id=line.user_id, amount=cents, requested_on=on
    )
    held = f"draw {draw_id} requested: credit held until a rail accepts it"
    with step(line, on, process=Process.DRAW, reason=held) as changes:
        changes.created(draw, reason="draw requested")
        line.draws[draw_id] = draw
        line.pending_draws_total += cents
    return draw


def check_draw(line: LineState, *, draw_id: str, amount: object, on: dt.date) -> None:
    """The rule of `CreditLine.check_draw` (documented there)."""
    _admitted(line, draw_id, positive_cents(amount, field="draw amount"), on)


def _admitted(line: LineState, draw_id: str, cents: int, on: dt.date) -> Draw | None:
    """The draw a repeat of `draw_id` finds, None for a new one; raises what refuses it."""
    existing = line.draws.get(draw_id)
    if existing is not None:
        if existing.amount != cents:
            raise IdempotencyConflict(
                f"draw {draw_id!r} was requested for {existing.amount} cents, not {cents}",
                about=existing,
                key=draw_id,
            )
        return existing
    if line.status is not LineStatus.ACTIVE:
        raise LineNotActive(
            f"line {line.line_id} is {line.status.value}: only an ACTIVE line can be drawn on",
            about=line,
        )
    require_in_order(line, on)
    owed = past_due_amount(line, on)
    if owed:
        raise LineNotActive(
            f"line {line.line_id} has {format_cents(owed)} past due: draws are blocked until "
            "it is paid, even before the overdue job suspends the line",
            about=line,
        )
    if cents > line.available_credit:
        raise InsufficientCredit(
            f"a draw of {format_cents(cents)} is above the available credit of "
            f"{format_cents(line.available_credit)} on line {line.line_id}",
            about=line,
        )
    return None


def _pending(line: LineState, draw_id: str, on: dt.date) -> Draw:
    draw = _draw(line, draw_id)
    if draw.status is not DrawStatus.PENDING:
        raise InvalidTransition(
            f"draw {draw_id} is already {draw.status.value}",
            about=draw,
        )
    require_in_order(line, on)
    return draw


def record_rail_decline(
    line: LineState, *, draw_id: str, rail: Rail, on: dt.date, reason: str = ""
) -> Draw:
    """The rule of `CreditLine.record_rail_decline` (documented there)."""
    draw = _draw(line, draw_id)
    if rail in draw.declined_rails:
        return draw
    _pending(line, draw_id, on)
    changes = ChangeRecorder(
        process=Process.DISBURSEMENT, reason=reason or f"{rail.value} declined the draw"
    )
    changes.touch(draw)
    accrue(line, on)
    draw.declined_rails = (*draw.declined_rails, rail)
    line.outbox.changes.extend(changes.changes())
    return draw


def disburse_draw(
    line: LineState, *, draw_id: str, rail: Rail, on: dt.date, use_credit: bool = True
) -> Draw:
    """The rule of `CreditLine.disburse_draw` (documented there).

    Without `use_credit` the line's credit balance does not pay the draw: a replay sends a
    RETURNED draw and takes it back at once, so nothing of it was ever owed (nor credited
    as a billing error). With it, the part of the draw found in billing error
    (`credit_billing_errors`) is credited at once, before the credit balance pays the rest.
    """
    if rail not in DISBURSEMENT_RAILS:
        raise InvalidTransition(
            f"{rail!r} cannot disburse a draw",
            about=Ref("draw", draw_id, line.user_id),
        )
    draw = _draw(line, draw_id)
    if draw.status is DrawStatus.DISBURSED and draw.rail is rail:
        return draw
    _pending(line, draw_id, on)
    entry = JournalEntry.build(
        entry_id=entry_id(draw_id, Movement.DISBURSE, product=Product.CREDITLINE),
        kind=EntryKind.DISBURSEMENT,
        effective_date=on,
        reference=line.line_id,
        debits={receivable(line.line_id, Bucket.PRINCIPAL): draw.amount},
        credits={FUNDING: draw.amount},
        memo=f"draw {draw_id} by {rail.value}",
    )
    disbursed = f"draw {draw_id} disbursed by {rail.value}"
    with step(line, on, process=Process.DISBURSEMENT, reason=disbursed) as changes:
        changes.touch(draw, reason=f"{rail.value} accepted the draw")
        if line.status is LineStatus.CLOSED:
            # Money sent after the line closed (a draw booked late, `book_backdated_draw`,
            # replayed after a charged-off line's payoff closed it): owed on the line as it
            # was before the close (DEFAULTED: charged off again), as a returned payoff does.
            line.status, line.closed_from = line.closed_from or LineStatus.ACTIVE, None
        line.pending_draws_total -= draw.amount
        line.principal_balance += draw.amount
        draw.status, draw.rail, draw.settled_on = DrawStatus.DISBURSED, rail, on
        draw.sequence = line.money_events
        line.money_events += 1
        book_activity(
            line,
            ActivityKind.DRAW,
            reference=draw_id,
            effect=Balances(principal=draw.amount),
            entry=entry,
            on=on,
        )
    if use_credit:
        _credit_billing_errors(line, draw, on)
        apply_credit(line, on, cause=draw_id)
    emit(
        line,
        EventType.LOC_DRAW_DISBURSED,
        subject_id=draw_id,
        on=on,
        data={"line_id": line.line_id, "amount": draw.amount, "rail": rail.value},
    )
    if use_credit:  # the credit balance paid all a charged-off line owed: closed (loc_closed)
        close_when_paid_off(
            line, on, why=f"draw {draw_id} paid by the credit balance", payment_id=None
        )
    return draw


def fail_draw(line: LineState, *, draw_id: str, on: dt.date, reason: str) -> Draw:
    """The rule of `CreditLine.fail_draw` (documented there)."""
    draw = _draw(line, draw_id)
    if draw.status is DrawStatus.FAILED:
        return draw
    _pending(line, draw_id, on)
    released = f"draw {draw_id} failed: hold released"
    with step(line, on, process=Process.DISBURSEMENT, reason=released) as changes:
        changes.touch(draw, reason=reason)
        line.pending_draws_total -= draw.amount
        draw.status, draw.settled_on, draw.failure_reason = DrawStatus.FAILED, on, reason
    emit(  # once: a FAILED draw is returned above, unchanged and untold
        line,
        EventType.LOC_DRAW_FAILED,
        subject_id=draw_id,
        on=on,
        data={
            "line_id": line.line_id,
            "amount": draw.amount,
            "balance": line.total_balance,
            "available_credit": line.available_credit,
        },
    )
    # The hold kept a charged-off line paid in full open: closed now, told (loc_closed).
    close_when_paid_off(line, on, why=f"draw {draw_id} failed, nothing owed", payment_id=None)
    return draw


def return_draw(line: LineState, *, draw_id: str, on: dt.date) -> Draw:
    """Take back a DISBURSED draw whose money the rail brought back, on the draw's day.

    What a replay does with a RETURNED draw, right after disbursing it: principal falls by
    the draw, funding is debited back (``<draw id>:returned``, a money movement) and the
    cycle lists a DRAW_RETURNED line, so the draw never bears interest. The line's own
    correction (`CreditLine.correct_draw_return`) drives this through the replay.
    """
    draw = _draw(line, draw_id)
    if draw.status is not DrawStatus.DISBURSED or draw.rail is None:
        raise InvalidTransition(
            f"draw {draw_id} is {draw.status.value}: only a DISBURSED draw can be returned",
            about=draw,
        )
    require_in_order(line, on)
    entry = JournalEntry.build(
        entry_id=entry_id(draw_id, Movement.RETURN, product=Product.CREDITLINE),
        kind=EntryKind.DISBURSEMENT_RETURNED,
        effective_date=on,
        reference=line.line_id,
        debits={FUNDING: draw.amount},
        credits={receivable(line.line_id, Bucket.PRINCIPAL): draw.amount},
        memo=f"draw {draw_id}: {draw.rail.value} credit returned",
    )
    returned = f"draw {draw_id}: the {draw.rail.value} credit came back"
    with step(line, on, process=Process.DISBURSEMENT, reason=returned) as changes:
        changes.touch(draw, reason=returned)
        line.principal_balance -= draw.amount
        draw.status = DrawStatus.RETURNED
        book_activity(
            line,
            ActivityKind.DRAW_RETURNED,
            reference=draw_id,
            effect=Balances(principal=-draw.amount),
            entry=entry,
            on=on,
        )
    # A charged-off line that owed only this draw owes nothing: closed, as when paid off.
    close_when_paid_off(line, on, why=f"draw {draw_id} came back", payment_id=None)
    return draw


def _credit_billing_errors(line: LineState, draw: Draw, on: dt.date) -> None:
    """Credit the part of `draw` found in billing error, as of the day it was sent.

    Only a replay finds any (an error is found after the draw was sent, and the line's
    correction replays it, `correcting.credit_billing_error`): each RESOLVED_ERROR
    dispute on the draw posts ``<dispute id>:billing_error_credit`` (DR `BILLING_ERRORS`,
    CR the principal receivable) and lists an ADJUSTMENT, so the credited cents bear no
    interest and count toward no minimum from that day. Never more than the draw.
    """
    left = draw.amount
    for dispute in sorted(line.disputes.values(), key=lambda d: d.dispute_id):
        if not left:
            return
        if dispute.status is not DisputeStatus.RESOLVED_ERROR or not dispute.names(
            DisputedCharge.DRAW, draw.draw_id
        ):
            continue
        cents = min(left, dispute.amount)
        left -= cents
        entry = JournalEntry.build(
            entry_id=entry_id(
                dispute.dispute_id, Movement.CREDIT_BILLING_ERROR, product=Product.CREDITLINE
            ),
            kind=EntryKind.BILLING_ERROR_CREDIT,
            effective_date=on,
            reference=line.line_id,
            debits={BILLING_ERRORS: cents},
            credits={receivable(line.line_id, Bucket.PRINCIPAL): cents},
            memo=f"billing error {dispute.dispute_id}: draw {draw.draw_id}",
        )
        credited = f"billing error {dispute.dispute_id}: {cents} cents of draw {draw.draw_id}"
        with step(line, on, process=Process.BILLING_DISPUTE, reason=credited):
            line.principal_balance -= cents
            book_activity(
                line,
                ActivityKind.ADJUSTMENT,
                reference=dispute.dispute_id,
                effect=Balances(principal=-cents),
                entry=entry,
                on=on,
            )
