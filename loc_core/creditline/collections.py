"""The daily jobs as decisions: due (15:00 UTC), upcoming (14:00 UTC), overdue (16:00 UTC).

Each `decide_*` function is pure: it reads the line and says what to do and why.
`send_upcoming_notice` and `run_overdue` apply their decision; running either twice on
the same day changes nothing the second time. Every job skips a line whose billing is
behind (a cycle closed and not yet billed), as the seed's `LastBillingCycleDate` guard does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import attrs

from loc_core import bookkeeping
from loc_core.bookkeeping import Movement, Product, entry_id
from loc_core.creditline._bookkeeping import Process, emit, require_in_order, step
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.balances import Balances
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.credit import apply_credit
from loc_core.creditline.cycles import due_date_for
from loc_core.creditline.delinquency import (
    announce_past_due,
    charge_off,
    cure,
    days_past_due,
    held_back,
    past_due_amount,
    suspend,
)
from loc_core.creditline.dispute import DisputedCharge, credited_errors
from loc_core.creditline.vocabulary import LineStatus
from loc_core.creditline.waiver import LineLateFeeWaiver
from loc_core.events import EventType
from loc_core.ledger import Bucket
from loc_core.payments import REPAYMENT_RAILS, Rail

__all__ = [
    "OVERDUE_JOB_AT",
    "DueDecision",
    "OverdueDecision",
    "UpcomingDecision",
    "autopay_amount",
    "late_fee_reference",
    "late_fee_reference_for",
]

OVERDUE_JOB_AT = dt.time.fromisoformat("16:00")
"""The hour (UTC) the overdue job runs for the business date (``overdue_job``'s schedule):
the borrower's cutoff. A correction booked before it leaves today's job to that run."""

_SERVICED = frozenset({LineStatus.ACTIVE, LineStatus.SUSPENDED})


def billing_is_current(line: LineState, today: dt.date) -> bool:
    """Whether `last_billing_cycle_date` is the latest close date on or before `today`."""
    return line.next_close_date > today


def _skip_reason(line: LineState, today: dt.date) -> str | None:
    if line.status not in _SERVICED:
        return f"line is {line.status.value}"
    if not billing_is_current(line, today):
        return f"the cycle closing {line.next_close_date} is not billed yet"
    if line.last_statement is None:
        return "no statement yet"
    return None


@attrs.frozen
class DueDecision:
    """What the due job should collect from a line today (0: nothing)."""

    amount: int
    reason: str
    rails: tuple[Rail, ...] = REPAYMENT_RAILS
    """The rails to try, in order."""


def decide_due(line: LineState, *, today: dt.date, missed: Collection[dt.date] = ()) -> DueDecision:
    """The rule of `CreditLine.decide_due` (documented there)."""
    reason = _skip_reason(line, today)
    if reason is not None:
        return DueDecision(0, reason)
    if not line.autopay_enabled:
        return DueDecision(0, "autopay is off")
    due = line.next_due_date
    late = due is not None and due < today and due in missed
    if today != due and not late:
        return DueDecision(0, f"not the due date ({due})")
    if line.minimum_payment_outstanding == 0:
        return DueDecision(0, "the minimum payment is met")
    told = autopay_amount(line)
    amount = collectable(line, told, today)
    if amount == 0:
        why = "the unpaid minimum is in a billing-error dispute" if told else None
        return DueDecision(0, why or "the statement's minimum is paid; the rest is not autopay's")
    missed_on = f"minimum payment due {due}, a day the due job missed"
    return DueDecision(amount, missed_on if late else "minimum payment due today")


def collectable(line: LineState, amount: int, today: dt.date) -> int:
    """`amount` less what billing-error disputes hold back today (Reg Z 1026.13(d)(1))."""
    return max(0, amount - held_back(line, today)) if line.disputes else amount


def autopay_amount(line: LineState) -> int:
    """What the due job may debit: the minimum still unpaid, at most what the statement told.

    The statement (``loc_statement_ready``, sent 21 days ahead) is the notice of the
    amount and date Regulation E 1005.10(d) asks 10 days before a varying debit. A
    correction learned since (a payment before the close returned) may raise the minimum
    the line carries; that rise was never told 10 days ahead, so autopay leaves it to the
    borrower: it debits the statement's minimum less the payments since, never more.
    """
    statement = line.last_statement
    told = 0 if statement is None else statement.minimum_payment - line.paid_since_statement
    return max(0, min(line.minimum_payment_outstanding, told))


@attrs.frozen
class UpcomingDecision:
    """Whether to remind the borrower of the coming due date, once per cycle."""

    notify: bool
    reason: str
    amount: int = 0
    due_date: dt.date | None = None


def decide_upcoming(
    line: LineState, *, today: dt.date, product: CreditLineProduct
) -> UpcomingDecision:
    """The rule of `CreditLine.decide_upcoming` (documented there)."""
    reason = _skip_reason(line, today)
    if reason is not None:
        return UpcomingDecision(notify=False, reason=reason)
    if line.upcoming_notice_sent:
        return UpcomingDecision(notify=False, reason="already notified for this cycle")
    due = line.next_due_date
    amount = collectable(line, line.minimum_payment_outstanding, today)
    if due is None or amount == 0:
        return UpcomingDecision(notify=False, reason="nothing is due")
    if today >= due:
        return UpcomingDecision(notify=False, reason="the due date has come")
    if (due - today).days > product.upcoming_notice_days:
        return UpcomingDecision(notify=False, reason="too early")
    return UpcomingDecision(notify=True, reason="payment due soon", amount=amount, due_date=due)


def send_upcoming_notice(
    line: LineState, *, today: dt.date, product: CreditLineProduct
) -> UpcomingDecision:
    """The rule of `CreditLine.send_upcoming_notice` (documented there)."""
    decision = decide_upcoming(line, today=today, product=product)
    if not decision.notify or decision.due_date is None:
        return decision
    require_in_order(line, today)
    reminded = f"reminded of {decision.amount} cents due {decision.due_date}"
    with step(line, today, process=Process.UPCOMING, reason=reminded):
        line.upcoming_notice_cycle = line.last_billing_cycle_date
    emit(
        line,
        EventType.LOC_PAYMENT_UPCOMING,
        subject_id=line.line_id,
        on=today,
        data={
            "amount": decision.amount,
            "due_date": decision.due_date.isoformat(),
            "autopay": line.autopay_enabled,
            "autopay_amount": (
                collectable(line, autopay_amount(line), today) if line.autopay_enabled else 0
            ),
        },
    )
    return decision


@attrs.frozen(kw_only=True)
class OverdueDecision:
    """What the overdue job does to a line today; every flag False means nothing."""

    reason: str
    past_due_amount: int = 0
    suspend: bool = False
    """Mark the line past due: SUSPENDED (told with the cycle's LOC_PAST_DUE)."""
    late_fee: int = 0
    """The late fee to assess (one per cycle), in cents."""
    late_fee_waived: bool = False
    """The cycle's late fee is waived (`CorrectionPolicy.late_fee_when_missed_by_return` is
    False and the cycle was missed only because of a return): the cycle is marked handled."""
    late_fee_credited: int = 0
    """The part of the cycle's late fee found in billing error (`credited_errors`), not
    assessed; a fee credited whole marks the cycle handled. Only a replay finds any."""
    late_fee_waived_by_operator: int = 0
    """The cycle's late fee (less any billing error credited) an operator waived
    (`LineLateFeeWaiver`): not assessed, the cycle marked handled. Only a replay finds
    any: a waiver is recorded for a fee already assessed."""
    default: bool = False
    """Charge the line off: DEFAULTED."""
    cure: bool = False
    """The past-due amount is paid: back to ACTIVE."""

    @property
    def acts(self) -> bool:
        """Whether the decision changes the line."""
        return (
            self.suspend
            or self.late_fee > 0
            or self.late_fee_waived
            or self.late_fee_credited > 0
            or self.late_fee_waived_by_operator > 0
            or self.default
            or self.cure
        )


def decide_overdue(
    line: LineState, *, today: dt.date, product: CreditLineProduct
) -> OverdueDecision:
    """The rule of `CreditLine.decide_overdue` (documented there)."""
    reason = _skip_reason(line, today)
    if reason is not None:
        return OverdueDecision(reason=reason)
    owed = past_due_amount(line, today)
    if owed == 0:
        if line.status is LineStatus.SUSPENDED:
            return OverdueDecision(reason="the past-due amount is paid", cure=True)
        return OverdueDecision(reason="nothing is past due")
    due = line.next_due_date
    fee_due = (
        due is not None and today > due and line.late_fee_cycle != line.last_billing_cycle_date
    )
    full_fee = min(product.late_fee_cents, line.next_minimum_payment_due) if fee_due else 0
    credited = (
        min(
            full_fee,
            credited_errors(line.disputes, DisputedCharge.LATE_FEE, late_fee_reference(line)),
        )
        if full_fee
        else 0
    )
    late_fee = full_fee - credited
    by_operator = late_fee if late_fee and _operator_waiver(line) is not None else 0
    late_fee -= by_operator
    waived = late_fee > 0 and _waives(line, today=today, product=product)
    return OverdueDecision(
        reason=f"{owed} cents past due, {days_past_due(line, today)} days past due",
        past_due_amount=owed,
        suspend=line.status is LineStatus.ACTIVE,
        late_fee=0 if waived else late_fee,
        late_fee_waived=waived,
        late_fee_credited=credited,
        late_fee_waived_by_operator=by_operator,
        default=days_past_due(line, today) >= product.default_after_days_past_due,
    )


def _operator_waiver(line: LineState) -> LineLateFeeWaiver | None:
    """The operator's waiver of the late fee of the cycle `line` billed last, if any."""
    if not line.late_fee_waivers:
        return None
    return line.late_fee_waivers.get(late_fee_reference(line))


def _waives(line: LineState, *, today: dt.date, product: CreditLineProduct) -> bool:
    """Whether the policy waives a late fee due today: the cycle was missed only by a return."""
    if product.corrections.late_fee_when_missed_by_return:
        return False
    # The replay drives run_overdue: importing it at the top would be circular.
    from loc_core.creditline.replay import missed_only_because_of_a_return  # noqa: PLC0415 - circular at the top

    return missed_only_because_of_a_return(line, today=today, product=product)


def run_overdue(line: LineState, *, today: dt.date, product: CreditLineProduct) -> OverdueDecision:
    """The rule of `CreditLine.run_overdue` (documented there)."""
    decision = decide_overdue(line, today=today, product=product)
    if not decision.acts:
        return decision
    require_in_order(line, today)
    line.overdue_job_changed_on = today
    if decision.cure:
        cure(line, today, reason="the past-due amount is paid")
    if decision.suspend:
        suspend(line, today, reason=f"{decision.past_due_amount} cents past due")
    if decision.late_fee:
        _assess_late_fee(line, decision.late_fee, today)
    if decision.late_fee_waived:
        _waive_late_fee(line, today)
    elif decision.late_fee_waived_by_operator:
        waiver = _operator_waiver(line)
        why = "" if waiver is None else f" on {waiver.waived_on}: {waiver.reason}"
        _mark_late_fee_handled(line, today, reason=f"late fee waived by an operator{why}")
    elif decision.late_fee_credited and not decision.late_fee:
        _mark_late_fee_handled(
            line, today, reason="late fee credited whole: a billing error (Reg Z 1026.13)"
        )
    handled = (
        decision.late_fee
        or decision.late_fee_waived
        or decision.late_fee_credited
        or decision.late_fee_waived_by_operator
    )
    if decision.suspend or handled:
        # Once per missed cycle: a line is suspended once, a cycle's fee handled once.
        announce_past_due(
            line,
            today,
            late_fee=decision.late_fee,
            next_due=due_date_for(line.next_close_date, product),
        )
    if decision.default:
        charge_off(line, today, reason=f"{decision.reason}: defaulted")
    return decision


def _waive_late_fee(line: LineState, today: dt.date) -> None:
    """Mark the cycle's late fee handled, charging nothing, so it is not reconsidered."""
    waived = "late fee waived: missed only because of a returned payment"
    with step(line, today, process=Process.LATE_FEE, reason=waived):
        line.late_fee_cycle = line.last_billing_cycle_date


def _mark_late_fee_handled(line: LineState, today: dt.date, *, reason: str) -> None:
    """Mark the cycle's late fee handled, charging none: credited whole, or waived."""
    with step(line, today, process=Process.LATE_FEE, reason=reason):
        line.late_fee_cycle = line.last_billing_cycle_date


def late_fee_reference(line: LineState) -> str:
    """The reference of the late fee for the cycle `line` billed last (its first entry's id).

    What the statement lists the fee under, what a dispute of it names, and what an
    operator's waiver of it is kept under.
    """
    return late_fee_reference_for(line.line_id, line.last_billing_cycle_date)


def late_fee_reference_for(line_id: str, cycle: dt.date | None) -> str:
    """The reference of line `line_id`'s late fee for the cycle closed on `cycle`.

    The id of its first entry; one charged again after a correction took it back posts
    ``<reference>:2`` (`LineState.late_fee_entries`) and keeps this reference.
    """
    return entry_id(f"{line_id}:{cycle}", Movement.LATE_FEE, product=Product.CREDITLINE)


def _assess_late_fee(line: LineState, fee: int, today: dt.date) -> None:
    """Charge the cycle billed last its late fee: once, or again after a correction took it.

    The entry names its occurrence (`LineState.late_fee_entries`): a fee a correction
    took back and this job charges again posts ``<line>:<cycle>:late_fee:2``. The
    statement lists it under the fee's reference (`late_fee_reference`), what a dispute
    or a waiver names, whatever its occurrence.
    """
    cycle = line.last_billing_cycle_date
    late = f"late fee for the minimum due {line.next_due_date}"
    with step(line, today, process=Process.LATE_FEE, reason=late):
        line.fee_balance += fee
        line.late_fee_cycle = cycle
        line.late_fee_entries += 1
        entry = bookkeeping.late_fee(
            product=Product.CREDITLINE,
            cause=f"{line.line_id}:{cycle}",
            reference=line.line_id,
            bucket=Bucket.FEE,
            amount=fee,
            on=today,
            memo=f"late on the minimum due {line.next_due_date}",
            occurrence=line.late_fee_entries,
        )
        line.outbox.entries.append(entry)
        line.cycle_activity.append(
            CycleActivity(
                kind=ActivityKind.LATE_FEE,
                reference=late_fee_reference(line),
                on=today,
                amount=fee,
                effect=Balances(fees=fee),
            )
        )
    apply_credit(line, today, cause=entry.entry_id)
