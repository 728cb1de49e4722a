"""Replay: what a line would be had every money event been known on its own day.

The line is rebuilt from its opening terms and its own commands are driven again, day by
day from the opening date to `today`, in effective order: each day bills the cycle that
closes on it (`bill_cycle`), disburses that day's draws and applies that day's payments
in the order they were booked (`sequence`; a RETURNED or CHARGED_BACK payment is applied
and reversed the same day, so it pays nothing), then runs the overdue rules
(`run_overdue`), then books the payments made that day after the overdue job had changed
the line (`LocPayment.after_overdue_job`) and what followed them, as it happened; a
billing-error notice received that day after the job holds nothing in it
(`BillingDispute.after_overdue_job`). Because the line's own methods do the work, a line
handled on time and its replay agree by construction.

The replayed line holds the line's billing-error disputes (records): each holds its
amount back on the days it did (`BillingDispute.holds_on`), and one resolved with an
error found takes its amount off the charge it names as of that charge's own day (a
draw's disbursal, the cycle's late fee, its interest charge: `dispute.credited_errors`),
so the corrected history never had the error (docs/credit-lines.md, *Billing errors*).
It holds the operators' late fee waivers too: the overdue rules charge no fee for a
waived cycle (docs/credit-lines.md, *A late fee waived*).

With ``count_reversed=True`` the replay is the counterfactual history in which every
RETURNED or CHARGED_BACK payment stood (applied, never reversed): it tells a cycle missed
only because of a return (`missed_only_because_of_a_return`) from one missed anyway.

Pending and failed draws move no money; each draw holds its credit from the day it was
requested until a rail sent it or it failed (at the start of that day), or to the end
while still pending, as on the line (a charged-off line paid in full stays open while a
draw is pending). A RETURNED draw is disbursed and taken back on its day, so it is owed
nothing and bears no interest. A line that is CLOSED is closed again at the end when the
replayed line owes nothing; otherwise the corrected history reopened it (a draw sent on a
CLOSED line reopens it as it was before the close).
"""

from __future__ import annotations

import contextlib
import datetime as dt

import attrs

from loc_core.creditline import billing, closing, collections, draws, payments
from loc_core.creditline._state import LineState
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.delinquency import cure_if_paid
from loc_core.creditline.draw import Draw, DrawStatus
from loc_core.creditline.payment import LocPayment
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import InvalidTransition
from loc_core.payments import PaymentStatus, SettlementOutcome
from loc_core.refunds import RefundDue, RefundStatus

__all__ = ["missed_only_because_of_a_return", "replay_line"]

_ONE_DAY = dt.timedelta(days=1)
_SENT = frozenset({DrawStatus.DISBURSED, DrawStatus.RETURNED})
"""Draws a rail sent: replayed on their day (a RETURNED one taken back at once)."""


def replay_line(
    line: LineState,
    *,
    today: dt.date,
    product: CreditLineProduct,
    count_reversed: bool = False,
    overdue_job_today: bool = True,
) -> LineState:
    """A fresh line that lived `line`'s money events on their effective dates, up to `today`.

    Its outbox holds every journal entry of that history (the replayed books); `line` is
    not changed. A day's draws and payments replay in the order they were booked, around
    the day's overdue job as they happened. With `count_reversed`, a returned or
    charged-back payment stands. Without `overdue_job_today`, `today`'s overdue job is
    not replayed (a correction booked before it has run: the job does it at its hour),
    and all of `today`'s draws and payments are.
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
        disputes=dict(line.disputes),  # records, held day by day (`holds_on`)
        late_fee_waivers=dict(line.late_fee_waivers),  # records: no fee for their cycles
    )
    booked, requested, failed = _by_day(line)
    day = line.opened_on
    while day <= today:
        while fresh.next_close_date <= day:
            billing.bill_cycle(fresh, close_date=fresh.next_close_date, today=day, product=product)
        for draw in requested.get(day, ()):
            _hold(fresh, draw)
        for draw in failed.get(day, ()):
            draws.fail_draw(fresh, draw_id=draw.draw_id, on=day, reason=draw.failure_reason)
        events = sorted(booked.get(day, ()), key=_booking_order)  # stable: the line's order
        after = next(
            (
                n
                for n, event in enumerate(events)
                if isinstance(event, LocPayment) and event.after_overdue_job
            ),
            len(events),
        )
        for event in events[:after]:
            _book(fresh, event, day, count_reversed=count_reversed)
        if day < today or overdue_job_today:
            _run_overdue_before_notices(fresh, day, product)
        for event in events[after:]:
            _book(fresh, event, day, count_reversed=count_reversed)
        day += _ONE_DAY
    if line.status is LineStatus.CLOSED:
        with contextlib.suppress(InvalidTransition):  # owing something, it stays open
            closing.close_line(fresh, on=today, reason="closed")
    return fresh


def _by_day(
    line: LineState,
) -> tuple[
    dict[dt.date, list[Draw | LocPayment]], dict[dt.date, list[Draw]], dict[dt.date, list[Draw]]
]:
    """By day: the draws sent and payments booked, the draws requested, the draws failed."""
    booked: dict[dt.date, list[Draw | LocPayment]] = {}
    requested: dict[dt.date, list[Draw]] = {}
    failed: dict[dt.date, list[Draw]] = {}
    for draw in line.draws.values():
        requested.setdefault(draw.requested_on, []).append(draw)
        if draw.status in _SENT and draw.settled_on is not None:
            booked.setdefault(draw.settled_on, []).append(draw)
        elif draw.status is DrawStatus.FAILED and draw.settled_on is not None:
            failed.setdefault(draw.settled_on, []).append(draw)
    for payment in line.payments.values():
        booked.setdefault(payment.submitted_on, []).append(payment)
    return booked, requested, failed


def _run_overdue_before_notices(fresh: LineState, day: dt.date, product: CreditLineProduct) -> None:
    """Run `day`'s overdue job as it ran: before the notices received after it that day.

    A billing-error notice received on `day` after the job had changed the line
    (`BillingDispute.after_overdue_job`) holds nothing in that job: for its length the
    dispute counts as received the day after (its credit, if an error was found, still
    applies as of the charge's own day); after the job it holds again, and cures the line
    if nothing undisputed is then past due, as its receipt did. The records are never
    changed: the line's own dispute is put back as it was.
    """
    late = {
        dispute_id: dispute
        for dispute_id, dispute in fresh.disputes.items()
        if dispute.after_overdue_job and dispute.received_on == day
    }
    if not late:
        collections.run_overdue(fresh, today=day, product=product)
        return
    fresh.disputes.update({i: attrs.evolve(d, received_on=day + _ONE_DAY) for i, d in late.items()})
    try:
        collections.run_overdue(fresh, today=day, product=product)
    finally:
        fresh.disputes.update(late)
    # Received after the job, the notices held their amounts at once: a line with nothing
    # undisputed past due then was cured by them (`dispute_billing_error`), so it is here.
    cure_if_paid(fresh, day, why=f"the unpaid amount is disputed ({', '.join(sorted(late))})")


def missed_only_because_of_a_return(
    line: LineState, *, today: dt.date, product: CreditLineProduct
) -> bool:
    """Whether the late fee `line` owes today is for a cycle missed only because of a return.

    So it is when `line` holds a returned or charged-back payment and, in the history where
    every such payment stood, the cycle billed last gets no late fee by `today`. That
    history holds no reversed payment, so deciding it never asks this again.
    """
    if not any(payment.status.reversed for payment in line.payments.values()):
        return False
    stood = replay_line(line, today=today, product=product, count_reversed=True)
    return stood.late_fee_cycle != line.last_billing_cycle_date


def _booking_order(event: Draw | LocPayment) -> tuple[int, int]:
    """A day's draws and payments in the order they were booked.

    A draw comes first on a tie: records that predate `sequence` hold 0 for all.
    """
    return (event.sequence, 0 if isinstance(event, Draw) else 1)


def _book(
    fresh: LineState, event: Draw | LocPayment, day: dt.date, *, count_reversed: bool
) -> None:
    if isinstance(event, Draw):
        _disburse(fresh, event, day)
    else:
        _pay(fresh, event, day, count_reversed=count_reversed)


def _hold(fresh: LineState, draw: Draw) -> None:
    """Hold a draw's credit from the day it was requested, as the line did.

    Until a rail sent it (`_disburse`) or it failed (at the start of that day), or to the
    end while it is still pending: a charged-off line paid in full meanwhile stays open
    (`close_when_paid_off`), in the replay as on the line.
    """
    fresh.draws[draw.draw_id] = attrs.evolve(
        draw,
        status=DrawStatus.PENDING,
        rail=None,
        settled_on=None,
        failure_reason="",
        returned_on=None,
    )
    fresh.pending_draws_total += draw.amount


def _disburse(fresh: LineState, draw: Draw, day: dt.date) -> None:
    """Disburse a draw that really went out, whatever the replayed line would have allowed."""
    if draw.rail is None:  # pragma: no cover - a disbursed draw always names its rail
        raise InvalidTransition(f"draw {draw.draw_id} is DISBURSED without a rail", about=draw)
    returned = draw.status is DrawStatus.RETURNED
    draws.disburse_draw(
        fresh, draw_id=draw.draw_id, rail=draw.rail, on=day, use_credit=not returned
    )
    if returned:
        draws.return_draw(fresh, draw_id=draw.draw_id, on=day)


def _pay(fresh: LineState, payment: LocPayment, day: dt.date, *, count_reversed: bool) -> None:
    """Apply a payment whose money moved; one returned or charged back pays nothing.

    With `count_reversed` a returned or charged-back payment stands, as if it completed.
    """
    payments.book_moved_payment(
        fresh, payment_id=payment.payment_id, amount=payment.amount, rail=payment.rail, on=day
    )
    stands = count_reversed and payment.status.reversed
    if payment.status.reversed and not stands:
        payments.settle_payment(
            fresh,
            payment_id=payment.payment_id,
            outcome=SettlementOutcome(payment.status.value),
            on=day,
        )
    elif payment.status is PaymentStatus.COMPLETED or stands:
        replayed = fresh.payments[payment.payment_id]
        replayed.status, replayed.settled_on = PaymentStatus.COMPLETED, payment.settled_on
    _keep_payout(fresh.payments[payment.payment_id].refund, payment.refund)


def _keep_payout(replayed: RefundDue | None, live: RefundDue | None) -> None:
    """Mark the replayed refund of a payment whose refund was paid out PAID, as it is.

    What was sent is not the line's to apply: from its payment's day the replayed refund
    keeps only what the live one applied before the payout, so the replay applies it to
    the same charges (`require_paid_unchanged` refuses a correction that changes that).
    """
    if replayed is None or live is None or not live.is_paid or not replayed.is_due:
        return
    replayed.status = RefundStatus.PAID
    replayed.paid_on, replayed.paid_reference = live.paid_on, live.paid_reference
    replayed.paid_booked_on = live.paid_booked_on
    replayed.paid_amount = live.amount if live.paid_amount is None else live.paid_amount
