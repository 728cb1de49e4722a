"""Corrections on a line: adopt the replayed history, post the difference, show it next statement.

A returned or charged-back payment, a payment dated in the past, a charge a
billing-error dispute found in error (`credit_billing_error`) or a late fee an operator
waived (`waive_late_fee`) changes the line's past.
The line is replayed (`replay.replay_line`) and takes the replayed state (balances,
cycle accumulators, minimum and its satisfaction, past-due fields, status, fees), while
its records stay: draws, payments (what each paid as replayed, their status as the rails
said), the issued statement and the open cycle's opening. The books move once, on the day
the correction is booked: the money movements the replay adds (a reversal, a backdated
payment) are posted dated today, and what else differs (interest, late fees, charge-off)
is one `adjustment_entry`. The open cycle lists ADJUSTMENT lines, one per bucket that
differs, dated the correction's effective date, so the next statement's opening plus its
activity still gives its closing.

A refund already paid out (`RefundStatus.PAID`) is final: a correction whose replay would
cancel it or change what it leaves to pay out (its amount less what it applied) is
refused before the line changes (`RefundAlreadyPaid`), and one that leaves that as it was
keeps it PAID, its payout in the replayed books, with the replay's amount and application.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Concatenate, ParamSpec, TypeVar

import attrs

from loc_core.audit import ChangeRecorder, Process
from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.corrections import account_balances, adjustment_entry
from loc_core.creditline._bookkeeping import accrue, emit
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.balances import Balances
from loc_core.creditline.closing import announce_closed
from loc_core.creditline.collections import autopay_amount, late_fee_reference_for
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.cycles import due_date_for
from loc_core.creditline.delinquency import announce_charge_off, announce_past_due, owed_now
from loc_core.creditline.dispute import BillingDispute, DisputeStatus
from loc_core.creditline.draw import Draw, DrawStatus
from loc_core.creditline.payment import LocPayment
from loc_core.creditline.payments import (
    announce_failure,
    announce_success,
    applied_payment,
    require_not_reversed,
)
from loc_core.creditline.rails import DISBURSEMENT_RAILS
from loc_core.creditline.replay import replay_line
from loc_core.creditline.statement import statement_document_path
from loc_core.creditline.vocabulary import LineStatus
from loc_core.creditline.waiver import LineLateFeeWaiver
from loc_core.errors import (
    DrawAlreadyReturned,
    DuplicatePayment,
    IdempotencyConflict,
    InvalidTransition,
    NoLateFee,
    PaymentError,
    Ref,
)
from loc_core.events import EventType
from loc_core.ledger import Bucket, JournalEntry, receivable
from loc_core.money import positive_cents
from loc_core.payments import REPAYMENT_RAILS, PaymentStatus, Rail, SettlementOutcome
from loc_core.refunds import (
    RefundDue,
    RefundStatus,
    paid_refund_entries,
    require_paid_unchanged,
)

__all__ = [
    "book_backdated_draw",
    "book_backdated_payment",
    "correct",
    "credit_billing_error",
    "return_draw",
    "return_payment",
    "waive_late_fee",
]

_KEPT = frozenset(
    {
        "line_id",
        "user_id",
        "application_id",
        "opened_on",
        "credit_limit",
        "apr",
        "minimum_payment_percent",
        "cycle_day",
        "pending_draws_total",
        "money_events",
        "overdue_job_changed_on",
        "late_fee_entries",
        "charge_off_entries",
        "upcoming_notice_cycle",
        "autopay_enabled",
        "last_statement",
        "corrected_fees_this_year",
        "corrected_interest_this_year",
        "cycle_opening",
        "cycle_activity",
        "draws",
        "payments",
        "disputes",
        "late_fee_waivers",
        "version",
        "outbox",
    }
)
"""Line fields a correction keeps: terms, records, what was issued, notices, the outbox."""
_PAYMENT_KEPT = frozenset(
    {"status", "settled_on", "sequence", "after_overdue_job", "payoff_past_bound"}
)
"""A payment keeps what the rail said and when, when it was booked, and whether it was
its cycle's payoff past the movement bound; what it paid is replayed."""
_MOVEMENTS = frozenset(
    {
        EntryKind.DISBURSEMENT,
        EntryKind.DISBURSEMENT_RETURNED,
        EntryKind.PAYMENT,
        EntryKind.UNAPPLY,
        EntryKind.REFUND_DUE,
        EntryKind.REFUND_CANCELLED,
    }
)
"""Entries of money that really moved: posted as themselves (dated today), not adjusted."""

P = ParamSpec("P")
R = TypeVar("R")


def _tried_first(
    rule: Callable[Concatenate[LineState, P], R],
) -> Callable[Concatenate[LineState, P], R]:
    """With a refund paid out on the line, run the correction `rule` on a copy first.

    A correction that would change a paid-out refund is refused (`correct`) once the
    record it corrects for is on the line: trying it on a copy first makes the refusal
    leave the line exactly as it was. A line with no payout is corrected at once.
    """

    @functools.wraps(rule)
    def tried(line: LineState, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if any(p.refund is not None and p.refund.is_paid for p in line.payments.values()):
            rule(copy.deepcopy(line), *args, **kwargs)
        return rule(line, *args, **kwargs)

    return tried


@_tried_first
def return_payment(
    line: LineState,
    *,
    payment_id: str,
    outcome: SettlementOutcome,
    today: dt.date,
    product: CreditLineProduct,
    posted: Sequence[JournalEntry],
    before_overdue_job: bool = False,
) -> LocPayment:
    """The rule of `CreditLine.correct_return` (documented there)."""
    payment = applied_payment(line, payment_id)
    if outcome is SettlementOutcome.COMPLETED:
        raise InvalidTransition(
            f"a completion of payment {payment_id} corrects nothing", about=payment
        )
    require_not_reversed(payment)
    effective = payment.submitted_on
    product.corrections.require_within(
        effective, today=today, about=Ref("payment", payment_id, line.user_id)
    )
    status = PaymentStatus(outcome.value)
    recorder = ChangeRecorder(
        process=Process.UNAPPLY,
        reason=f"the rail reported {status.value}: reversed as of {effective}",
    )
    recorder.touch(payment)
    payment.status, payment.settled_on = status, today
    line.outbox.changes.extend(recorder.changes())
    correct(
        line,
        cause=f"{payment_id}:{status.value.lower()}",
        effective=effective,
        today=today,
        product=product,
        posted=posted,
        reason=f"payment {payment_id} {status.value}, reversed as of {effective}",
        before_overdue_job=before_overdue_job,
    )
    announce_failure(line, payment, today)
    return payment


@_tried_first
def return_draw(
    line: LineState,
    *,
    draw_id: str,
    outcome: SettlementOutcome,
    return_code: str,
    today: dt.date,
    product: CreditLineProduct,
    posted: Sequence[JournalEntry],
    before_overdue_job: bool = False,
) -> Draw:
    """The rule of `CreditLine.correct_draw_return` (documented there)."""
    about = Ref("draw", draw_id, line.user_id)
    draw = line.draws.get(draw_id)
    if draw is None:
        raise PaymentError(f"line {line.line_id} has no draw {draw_id!r}", about=about)
    if outcome is SettlementOutcome.COMPLETED:
        raise InvalidTransition(f"a completion of draw {draw_id} corrects nothing", about=draw)
    if draw.status is DrawStatus.RETURNED:
        raise DrawAlreadyReturned(
            f"draw {draw_id} was already returned, learned on {draw.returned_on}", about=draw
        )
    if draw.status is not DrawStatus.DISBURSED or draw.settled_on is None:
        raise InvalidTransition(
            f"draw {draw_id} is {draw.status.value}: only a DISBURSED draw can come back",
            about=draw,
        )
    effective = draw.settled_on
    product.corrections.require_within(effective, today=today, about=about)
    code = f" ({return_code})" if return_code else ""
    recorder = ChangeRecorder(
        process=Process.DISBURSEMENT,
        reason=f"the rail reported the credit {outcome.value}{code}: reversed as of {effective}",
    )
    recorder.touch(draw)
    draw.status, draw.returned_on = DrawStatus.RETURNED, today
    line.outbox.changes.extend(recorder.changes())
    correct(
        line,
        cause=f"{draw_id}:returned",
        effective=effective,
        today=today,
        product=product,
        posted=posted,
        reason=f"draw {draw_id} {outcome.value}{code}, reversed as of {effective}",
        before_overdue_job=before_overdue_job,
    )
    emit(
        line,
        EventType.LOC_DRAW_RETURNED,
        subject_id=draw_id,
        on=today,
        data={
            "amount": draw.amount,
            "sent_on": effective.isoformat(),
            "available_credit": line.available_credit,
            **owed_now(line, today),
        },
    )
    return draw


@_tried_first
def book_backdated_payment(
    line: LineState,
    *,
    payment_id: str,
    amount: object,
    rail: Rail,
    effective_on: dt.date,
    reason: str,
    today: dt.date,
    product: CreditLineProduct,
    posted: Sequence[JournalEntry],
    before_overdue_job: bool = False,
    settled: bool = True,
    after_job: bool = False,
) -> LocPayment:
    """The rule of `CreditLine.book_backdated_payment` (documented there)."""
    cents = positive_cents(amount, field="payment amount")
    about = Ref("payment", payment_id, line.user_id)
    if rail not in REPAYMENT_RAILS:
        raise PaymentError(f"{rail!r} cannot collect a repayment", about=about)
    if payment_id in line.payments:
        raise DuplicatePayment(
            f"payment {payment_id!r} was already applied to {line.line_id}", about=about
        )
    _require_backdatable(line, "payment", effective_on, today=today, product=product, about=about)
    payment = LocPayment(
        payment_id=payment_id,
        line_id=line.line_id,
        user_id=line.user_id,
        amount=cents,
        rail=rail,
        submitted_on=effective_on,
        statement_date=None,
        # Money already received: no rail will settle it (but a lost debit's rail will).
        status=PaymentStatus.COMPLETED if settled else PaymentStatus.PENDING,
        settled_on=effective_on if settled else None,
        paid_fees=0,
        paid_interest=0,
        paid_principal=0,
        minimum_covered=0,
        sequence=line.money_events,  # last of its day's events, before its day's job
        after_overdue_job=after_job,  # ... unless its rail took it after that job's hour
    )
    line.money_events += 1
    line.payments[payment_id] = payment
    _correct_with(
        line,
        payment,
        ChangeRecorder(process=Process.PAYMENT, reason=f"backdated: {reason}"),
        _Backdating(effective_on, today, product, posted, before_overdue_job),
        why=f"payment {payment_id} applied as of {effective_on}: {reason}",
    )
    if settled:
        announce_success(line, payment, today)  # no rail will settle it: its only notice
    return payment


@_tried_first
def book_backdated_draw(
    line: LineState,
    *,
    draw_id: str,
    amount: object,
    rail: Rail,
    effective_on: dt.date,
    reason: str,
    today: dt.date,
    product: CreditLineProduct,
    posted: Sequence[JournalEntry],
    before_overdue_job: bool = False,
) -> Draw:
    """The rule of `CreditLine.book_backdated_draw` (documented there)."""
    cents = positive_cents(amount, field="draw amount")
    about = Ref("draw", draw_id, line.user_id)
    if rail not in DISBURSEMENT_RAILS:
        raise PaymentError(f"{rail!r} cannot send a draw", about=about)
    if draw_id in line.draws:
        raise DuplicatePayment(f"draw {draw_id!r} is already on {line.line_id}", about=about)
    _require_backdatable(line, "draw", effective_on, today=today, product=product, about=about)
    draw = Draw(
        draw_id=draw_id,
        line_id=line.line_id,
        user_id=line.user_id,
        amount=cents,
        requested_on=effective_on,
        status=DrawStatus.DISBURSED,
        rail=rail,
        settled_on=effective_on,
        sequence=line.money_events,  # last of its day's events
    )
    line.money_events += 1
    line.draws[draw_id] = draw
    _correct_with(
        line,
        draw,
        ChangeRecorder(process=Process.DRAW, reason=f"backdated: {reason}"),
        _Backdating(effective_on, today, product, posted, before_overdue_job),
        why=f"draw {draw_id} sent as of {effective_on}: {reason}",
    )
    return draw


@_tried_first
def credit_billing_error(
    line: LineState,
    *,
    dispute_id: str,
    explanation: str,
    today: dt.date,
    product: CreditLineProduct,
    posted: Sequence[JournalEntry],
    before_overdue_job: bool = False,
) -> BillingDispute:
    """Resolve an OPEN dispute with an error found: credited as of the charge's own date.

    The dispute becomes RESOLVED_ERROR, the effective-dated fact the charge's own code
    reads in every replay (`dispute.credited_errors`: a draw's disbursal, the cycle's late
    fee, its interest charge take the amount off), and the line is corrected from the
    charge's date (`correct`, cause the dispute's id): interest by the daily-balance
    method without the error, the minimums, past due, late fees and default replayed, a
    payment now in excess a refund due, all booked today (``<dispute id>:adjust``) and
    shown as ADJUSTMENT lines on the next statement. What the hold kept unpaid is due
    again `due_date_for(today)`, held until then (`owed_again_on`). `credited` and
    `finance_charge` say what the correction gave the borrower.

    Raises:
        CorrectionTooOld: the charge is older than the correction reach (nothing changed;
            the dispute stays OPEN and its amount held).
        RefundAlreadyPaid: the correction would change a refund already paid out.
    """
    dispute = line.disputes[dispute_id]
    product.corrections.require_within(
        dispute.charge_on, today=today, about=Ref("dispute", dispute_id, line.user_id)
    )
    owed_before = line.total_balance - line.refunds_due
    recorder = ChangeRecorder(
        process=Process.BILLING_DISPUTE,
        reason=f"dispute {dispute_id} resolved: error found, credited as of {dispute.charge_on}",
    )
    recorder.touch(dispute)
    dispute.status, dispute.resolved_on = DisputeStatus.RESOLVED_ERROR, today
    dispute.explanation, dispute.owed_again_on = explanation, due_date_for(today, product)
    correct(
        line,
        cause=dispute_id,
        effective=dispute.charge_on,
        today=today,
        product=product,
        posted=posted,
        reason=f"billing error {dispute_id} credited as of {dispute.charge_on}",
        before_overdue_job=before_overdue_job,
    )
    dispute.credited = owed_before - (line.total_balance - line.refunds_due)
    dispute.finance_charge = max(0, dispute.credited - dispute.amount)
    line.outbox.changes.extend(recorder.changes())
    return dispute


@_tried_first
def waive_late_fee(
    line: LineState,
    *,
    late_fee_cycle: dt.date,
    reason: str,
    idempotency_key: str,
    today: dt.date,
    product: CreditLineProduct,
    posted: Sequence[JournalEntry],
    before_overdue_job: bool = False,
) -> LineLateFeeWaiver:
    """The rule of `CreditLine.waive_late_fee` (documented there)."""
    reference = late_fee_reference_for(line.line_id, late_fee_cycle)
    known = _known_waiver(line, reference, reason=reason, idempotency_key=idempotency_key)
    if known is not None:
        return known
    about = Ref("late_fee_waiver", reference, line.user_id)
    # The fee as the line's corrected history charges it (a dispute may have credited
    # part of it, a correction taken it back): the replay the correction starts from.
    job_today = not before_overdue_job or line.overdue_job_changed_on == today
    history = replay_line(line, today=today, product=product, overdue_job_today=job_today)
    fee = next((e for e in history.outbox.entries if e.entry_id == reference), None)
    if fee is None:
        raise NoLateFee(
            f"line {line.line_id} carries no late fee for the cycle closed {late_fee_cycle} "
            "to waive",
            about=about,
        )
    product.corrections.require_within(fee.effective_date, today=today, about=about)
    waiver = LineLateFeeWaiver(
        line_id=line.line_id,
        user_id=line.user_id,
        late_fee_cycle=late_fee_cycle,
        fee_reference=reference,
        amount=fee.net(receivable(line.line_id, Bucket.FEE)),
        effective_on=fee.effective_date,
        waived_on=today,
        reason=reason,
        idempotency_key=idempotency_key,
    )
    why = f"late fee of {waiver.amount} cents waived: {reason}"
    recorder = ChangeRecorder(process=Process.FEE_WAIVER, reason=why)
    recorder.created(waiver)
    line.late_fee_waivers[reference] = waiver
    correct(
        line,
        cause=f"{line.line_id}:{late_fee_cycle}:fee_waived",
        effective=waiver.effective_on,
        today=today,
        product=product,
        posted=posted,
        reason=why,
        before_overdue_job=before_overdue_job,
        process=Process.FEE_WAIVER,
    )
    line.outbox.changes[:0] = recorder.changes()
    emit(
        line,
        EventType.LOC_LATE_FEE_WAIVED,
        subject_id=reference,
        on=today,
        data={
            **owed_now(line, today),
            "statement_date": late_fee_cycle.isoformat(),
            "due_date": due_date_for(late_fee_cycle, product).isoformat(),
            "amount": waiver.amount,
            "assessed_on": waiver.effective_on.isoformat(),
            "refunds_due": line.refunds_due,
        },
    )
    return waiver


def _known_waiver(
    line: LineState, reference: str, *, reason: str, idempotency_key: str
) -> LineLateFeeWaiver | None:
    """The waiver this request already made (the same request again), else None.

    Raises:
        IdempotencyConflict: the fee was waived by another request, or this key waived
            another cycle's fee.
    """
    for known in line.late_fee_waivers.values():
        if known.fee_reference == reference:
            if (known.idempotency_key, known.reason) == (idempotency_key, reason):
                return known
            raise IdempotencyConflict(
                f"the late fee of line {line.line_id} for the cycle closed "
                f"{known.late_fee_cycle} was already waived on {known.waived_on} under key "
                f"{known.idempotency_key!r}: {known.reason}",
                about=known,
                key=idempotency_key,
            )
        if known.idempotency_key == idempotency_key:
            raise IdempotencyConflict(
                f"idempotency key {idempotency_key!r} waived line {line.line_id}'s late fee "
                f"for the cycle closed {known.late_fee_cycle}, not another",
                about=known,
                key=idempotency_key,
            )
    return None


@attrs.frozen
class _Backdating:
    effective_on: dt.date
    today: dt.date
    product: CreditLineProduct
    posted: Sequence[JournalEntry]
    before_overdue_job: bool = False


def _correct_with(
    line: LineState,
    record: LocPayment | Draw,
    recorder: ChangeRecorder,
    backdating: _Backdating,
    *,
    why: str,
) -> None:
    """Correct the line for a backdated `record` it now holds; its creation is audited first."""
    recorder.created(record)
    correct(
        line,
        cause=record.audit_key()[1],
        effective=backdating.effective_on,
        today=backdating.today,
        product=backdating.product,
        posted=backdating.posted,
        reason=why,
        before_overdue_job=backdating.before_overdue_job,
    )
    line.outbox.changes[:0] = recorder.changes()


def _require_backdatable(
    line: LineState,
    what: str,
    effective_on: dt.date,
    *,
    today: dt.date,
    product: CreditLineProduct,
    about: Ref,
) -> None:
    """Refuse an effective date outside the line's life or beyond the correction reach."""
    if not line.opened_on <= effective_on <= today:
        raise InvalidTransition(
            f"a {what} effective {effective_on} is outside the life of line {line.line_id} "
            f"(opened {line.opened_on}, today {today})",
            about=about,
        )
    product.corrections.require_within(effective_on, today=today, about=about)


def correct(
    line: LineState,
    *,
    cause: str,
    effective: dt.date,
    today: dt.date,
    product: CreditLineProduct,
    posted: Sequence[JournalEntry],
    reason: str,
    before_overdue_job: bool = False,
    process: Process = Process.CORRECTION,
) -> JournalEntry | None:
    """Make `line` what its replay to `today` says, and post the difference once.

    `posted` is the line's journal as stored; entries already in the line's outbox (a
    cycle billed in the same commit) count as posted too. Returns the adjustment entry,
    None when the books already agreed (the same correction again posts nothing).

    `before_overdue_job` says the correction is booked before the hour of today's overdue
    job (`OVERDUE_JOB_AT`): the replay then stops short of today's job, which does its
    work at its hour, unless that job has already changed this line today
    (`overdue_job_changed_on`: a run ahead of its hour), whose work the replay keeps.

    `process` is what the audit records the line's and payments' changes as (an
    operator's late fee waiver is FEE_WAIVER).

    Raises:
        RefundAlreadyPaid: the replay would cancel or change a refund already paid out;
            raised before the line changes.
    """
    job_today = not before_overdue_job or line.overdue_job_changed_on == today
    fresh = replay_line(line, today=today, product=product, overdue_job_today=job_today)
    accrue(fresh, today)
    require_paid_unchanged(
        {payment_id: payment.refund for payment_id, payment in line.payments.items()},
        {payment_id: payment.refund for payment_id, payment in fresh.payments.items()},
        about=line,
        what=f"correction {cause}",
    )
    before = _Before.of(line)
    recorder = ChangeRecorder(process=process, reason=reason)
    recorder.touch(line)
    for payment in line.payments.values():
        recorder.touch(payment)
    bridge = fresh.cycle_opening.plus(line.cycle_opening.negated())
    for item in line.cycle_activity:
        if item.kind is ActivityKind.ADJUSTMENT:
            bridge = bridge.plus(item.effect.negated())
    kept_adjustments = [a for a in line.cycle_activity if a.kind is ActivityKind.ADJUSTMENT]
    for field in attrs.fields(type(line)):
        if field.name not in _KEPT:
            setattr(line, field.name, getattr(fresh, field.name))
    booked = {entry.entry_id: entry.effective_date for entry in (*posted, *line.outbox.entries)}
    for payment_id, payment in line.payments.items():
        replayed = fresh.payments[payment_id]
        # A refund paid out comes back PAID with its payout (`replay._keep_payout`); its
        # amount and what it applied are the replay's (only what is left to pay out must
        # not change), so the record, the statement and the books say the same.
        _date_as_booked(replayed.refund, payment.refund, today, booked=booked)
        for field in attrs.fields(LocPayment):
            if field.name not in _PAYMENT_KEPT:
                setattr(payment, field.name, getattr(replayed, field.name))
    _count_corrected_charges(line, fresh)
    if fresh.overdue_job_changed_on == today:
        # The replay ran today's overdue job and it changed the line (a fee, a
        # suspension): a payment booked later today came after it, in every later replay.
        line.overdue_job_changed_on = today
    line.cycle_activity = [
        *fresh.cycle_activity,
        *kept_adjustments,
        *_adjustment_lines(bridge, cause=cause, effective=effective),
    ]
    line.outbox.changes.extend(recorder.changes())
    entry = _post_difference(line, fresh, cause=cause, today=today, posted=posted, reason=reason)
    _announce(line, before, today, product)
    _announce_default_undone(line, fresh, before, today)
    return entry


def _date_as_booked(
    replayed: RefundDue | None,
    live: RefundDue | None,
    today: dt.date,
    *,
    booked: Mapping[str, dt.date],
) -> None:
    """Date the replayed refund of a payment as its entries are: the day each was booked.

    The replay records a refund on its payment's day and cancels it on the day the
    payment was reversed; the books post what the correction adds dated `today`
    (`_post_difference`). So a refund the line already held keeps the day it was recorded
    (and cancelled, when it was), and what the correction makes new (the refund itself,
    its cancellation) is dated `today`: the line statement shows it in the cycle that
    holds the entry (`credit_movements`), never in a cycle already closed.

    A refund the line no longer held (an earlier correction dropped it) that the replay
    brings back cancelled, when both its entries are in the books (`booked`: entry id to
    date), was booked and cancelled then and nets to nothing now: no entry is posted for
    it, so it keeps those entries' days.
    """
    if replayed is None:
        return
    if live is None and replayed.status is RefundStatus.CANCELLED:
        due = booked.get(
            entry_id(replayed.payment_id, Movement.REFUND_DUE, product=Product.CREDITLINE)
        )
        cancelled = booked.get(
            entry_id(replayed.payment_id, Movement.CANCEL_REFUND, product=Product.CREDITLINE)
        )
        if due is not None and cancelled is not None:
            replayed.recorded_on, replayed.cancelled_on = due, cancelled
            return
    replayed.recorded_on = today if live is None else live.recorded_on
    if replayed.status is not RefundStatus.CANCELLED:
        return
    if live is not None and live.status is RefundStatus.CANCELLED:
        replayed.cancelled_on = live.cancelled_on
    else:
        replayed.cancelled_on = today


def _announce_default_undone(
    line: LineState, fresh: LineState, before: _Before, today: dt.date
) -> None:
    """What a correction around a charged-off line tells: its close, its withheld statements."""
    if line.status is LineStatus.CLOSED and not before.closed:
        # The corrected history paid the charged-off line in full (a backdated payment).
        announce_closed(line, today, payment_id=None, corrected=True)
    _send_withheld_statements(line, fresh, before.withheld, today)


def _send_withheld_statements(
    line: LineState, fresh: LineState, withheld: tuple[dt.date, ...], today: dt.date
) -> None:
    """Send the statements withheld while charged off that the corrected history sends.

    A cycle closed while the line was DEFAULTED was stored and not sent (Regulation Z
    1026.5(b)(2)(i)); when the replay shows the line was not charged off at that close
    (it sent that cycle's `loc_statement_ready`), the borrower gets the statement now:
    `loc_statement_ready` dated today, ``corrected`` true, with what the line owes now
    (`owed_now`: the minimum it now carries and its due date) and, as the regular
    statement notice, ``autopay`` and ``autopay_amount``: what the due job will debit on
    that due date (`autopay_amount`; 0 with autopay off or no due date ahead). The line takes the
    replay's `withheld_statements`, which leaves those dates out, so a correction
    replayed or delivered again sends nothing more.
    """
    if not withheld:
        return
    sent_by_replay = {
        str(event.data["statement_date"])
        for event in fresh.outbox.events
        if event.type is EventType.LOC_STATEMENT_READY
    }
    owed = owed_now(line, today)
    # What the due job will debit on the next due date, as every notice of the minimum
    # says it (`autopay_amount`: at most what the issued statement told); none when no
    # due date is ahead (the next statement sets the next one).
    debits = line.autopay_enabled and owed["next_due_date"] is not None
    autopay = {
        "autopay": line.autopay_enabled,
        "autopay_amount": autopay_amount(line) if debits else 0,
    }
    for day in withheld:
        if day in line.withheld_statements or day.isoformat() not in sent_by_replay:
            continue
        emit(
            line,
            EventType.LOC_STATEMENT_READY,
            subject_id=line.line_id,
            on=today,
            data={
                "statement_date": day.isoformat(),
                "document": statement_document_path(line.line_id, day),
                "corrected": True,
                **owed,
                **autopay,
            },
        )


_PAST_DUE = frozenset({LineStatus.SUSPENDED, LineStatus.DEFAULTED})
"""Statuses of a line with an amount past due: one that becomes so is announced."""


@attrs.frozen
class _Before:
    """What the line was before a correction, to tell only what the correction made new."""

    status: LineStatus
    late_fee_cycle: dt.date | None
    """The last cycle the overdue job handled (its late fee charged or waived): told."""
    owed_back: dict[str, int]
    closed: bool = False
    withheld: tuple[dt.date, ...] = ()
    """The statements withheld while it was charged off (`LineState.withheld_statements`)."""

    @classmethod
    def of(cls, line: LineState) -> _Before:
        """The line as it is, before the correction changes it.

        A line its payoff closed while charged off counts as DEFAULTED: its default was
        told then, so a return that reopens it tells no more.
        """
        status = line.status
        if status is LineStatus.CLOSED and line.closed_from is LineStatus.DEFAULTED:
            status = LineStatus.DEFAULTED
        return cls(
            status,
            line.late_fee_cycle,
            line.refunds_due_by_payment(),
            closed=line.status is LineStatus.CLOSED,
            withheld=line.withheld_statements,
        )


def _announce(line: LineState, before: _Before, today: dt.date, product: CreditLineProduct) -> None:
    """Tell the borrower what the correction made new, dated today.

    LOC_PAST_DUE when the line, not past due before, now is (SUSPENDED, or DEFAULTED at
    once: a closed line's payoff returned after 90 days), or when it is past due and the
    replay handled a later cycle than the line had (a minimum newly missed, its late fee
    charged): each missed cycle is told once, by the job or by the correction. LOC_CHARGED_OFF
    when the line, not DEFAULTED before, now is (the replay charged it off). REFUND_DUE for
    each refund due the corrected history created or raised above `owed_back`, as a
    payment booked on a paid-off line does: the event names the payment that holds it
    and its whole amount.
    """
    status, handled = before.status, before.late_fee_cycle
    newly_missed = line.late_fee_cycle is not None and (
        handled is None or line.late_fee_cycle > handled
    )
    if line.status in _PAST_DUE and (status not in _PAST_DUE or newly_missed):
        announce_past_due(
            line,
            today,
            late_fee=_late_fee_of(line, line.late_fee_cycle) if newly_missed else 0,
            next_due=due_date_for(line.next_close_date, product),
        )
    if status is not LineStatus.DEFAULTED and line.status is LineStatus.DEFAULTED:
        announce_charge_off(line, today)
    for payment_id, amount in line.refunds_due_by_payment().items():
        if amount > before.owed_back.get(payment_id, 0):
            emit(
                line,
                EventType.REFUND_DUE,
                subject_id=payment_id,
                on=today,
                data={
                    "line_id": line.line_id,
                    "amount": amount,
                    "payment_amount": line.payments[payment_id].amount,
                },
            )


def _late_fee_of(line: LineState, cycle: dt.date | None) -> int:
    """The late fee the open cycle's activity shows charged for the cycle `cycle` closed."""
    if cycle != line.last_billing_cycle_date:
        return 0
    return sum(a.amount for a in line.cycle_activity if a.kind is ActivityKind.LATE_FEE)


def _count_corrected_charges(line: LineState, fresh: LineState) -> None:
    """Keep what the replay changed in the fees and interest the year's statements charged.

    The replayed last statement's year-to-date totals less the issued one's: every
    correction of this cycle is in that replay, so the difference is set, not added.
    Cycles still open are counted by their own statement, from their activity.
    """
    issued, replayed = line.last_statement, fresh.last_statement
    if issued is None or replayed is None or issued.statement_date != replayed.statement_date:
        return
    line.corrected_fees_this_year = replayed.fees_year_to_date - issued.fees_year_to_date
    line.corrected_interest_this_year = (
        replayed.interest_year_to_date - issued.interest_year_to_date
    )


def _adjustment_lines(bridge: Balances, *, cause: str, effective: dt.date) -> list[CycleActivity]:
    """One ADJUSTMENT line per bucket the corrected earlier cycles changed."""
    parts = (
        ("principal", Balances(principal=bridge.principal)),
        ("interest", Balances(interest=bridge.interest)),
        ("fees", Balances(fees=bridge.fees)),
    )
    return [
        CycleActivity(
            kind=ActivityKind.ADJUSTMENT,
            reference=f"{cause}:{bucket}",
            on=effective,
            amount=abs(effect.total),
            effect=effect,
        )
        for bucket, effect in parts
        if effect.total
    ]


def _post_difference(
    line: LineState,
    fresh: LineState,
    *,
    cause: str,
    today: dt.date,
    posted: Sequence[JournalEntry],
    reason: str,
) -> JournalEntry | None:
    """Post the replay's new money movements as themselves, and the rest as one adjustment."""
    books = [*posted, *line.outbox.entries]
    known = {entry.entry_id for entry in books}
    moved = [
        attrs.evolve(entry, effective_date=today)
        for entry in fresh.outbox.entries
        if entry.kind in _MOVEMENTS and entry.entry_id not in known
    ]
    line.outbox.entries.extend(moved)
    entry = adjustment_entry(
        product=Product.CREDITLINE,
        cause=cause,
        reference=line.line_id,
        posted=account_balances([*books, *moved]),
        # The replay recreates refunds as DUE: the payouts already made stay made.
        replayed=account_balances(
            [
                *fresh.outbox.entries,
                *paid_refund_entries(
                    (payment.refund for payment in line.payments.values()),
                    owner=line.line_id,
                    product=Product.CREDITLINE,
                ),
            ]
        ),
        on=today,
        memo=reason,
    )
    if entry is not None:
        line.outbox.entries.append(entry)
    return entry
