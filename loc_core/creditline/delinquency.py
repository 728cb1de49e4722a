"""Past due, cure and default: how late a line is, what that does to it, what is owed now.

An amount is past due once the due date of the minimum it belongs to has passed (the
borrower has the whole due date to pay). A new statement carries the unpaid minimum
forward as `carried_past_due`, still late, so the line stays past due across cycles until
it is paid.
"""

from __future__ import annotations

import datetime as dt

from loc_core import bookkeeping
from loc_core.bookkeeping import Product
from loc_core.creditline._bookkeeping import Process, emit, step
from loc_core.creditline._state import LineState
from loc_core.creditline.vocabulary import LineStatus
from loc_core.events import AuditValue, EventType

__all__: list[str] = []

_ONE_DAY = dt.timedelta(days=1)
# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_ACTIVE, _SUSPENDED = LineStatus.ACTIVE, LineStatus.SUSPENDED


def held_back(line: LineState, day: dt.date) -> int:
    """The disputed cents held back from collection and delinquency on `day`.

    What the line's billing-error disputes hold on that day (`BillingDispute.holds_on`):
    Regulation Z 1026.13(d) forbids collecting it or treating it as late meanwhile.
    """
    if not line.disputes:
        return 0
    return sum(dispute.amount for dispute in line.disputes.values() if dispute.holds_on(day))


def past_due_amount(line: LineState, today: dt.date) -> int:
    """What the borrower should already have paid and has not, as of `today`.

    After the due date that is the whole unpaid minimum; before it, only the part carried
    from an earlier, already late minimum. An amount in a billing-error dispute is not
    past due (`held_back`): only what is unpaid beyond it.
    """
    if line.next_due_date is None:
        return 0
    outstanding = line.minimum_payment_outstanding
    if today > line.next_due_date:
        late = outstanding
    else:
        late = min(outstanding, max(0, line.carried_past_due - line.paid_since_statement))
    if late and line.disputes:
        return max(0, late - held_back(line, today))
    return late


def owed_now(line: LineState, today: dt.date) -> dict[str, AuditValue]:
    """What a notice about money the line owes says: as the line stands once changed.

    The line's status and balance (everything owed), what is past due, what is left of
    the current minimum, and ``next_due_date``: the current minimum's due date while it
    is today or later; null once it has passed (what is unpaid is then past due), when
    no minimum is set, since the next statement sets the next one, and on a DEFAULTED
    line, which is charged off and billed no new minimum.
    """
    due = line.next_due_date if line.next_due_date and line.next_due_date >= today else None
    if line.status is LineStatus.DEFAULTED:
        due = None
    return {
        "line_id": line.line_id,
        "line_status": line.status.value,
        "balance": line.total_balance,
        "past_due_amount": past_due_amount(line, today),
        "minimum_outstanding": line.minimum_payment_outstanding,
        "next_due_date": None if due is None else due.isoformat(),
    }


def first_late_day(line: LineState, today: dt.date) -> dt.date | None:
    """The first day the oldest unpaid minimum was late, or None when nothing is past due."""
    if past_due_amount(line, today) == 0 or line.next_due_date is None:
        return None
    if line.carried_past_due > line.paid_since_statement and line.carried_past_due_since:
        since = line.carried_past_due_since
    else:
        since = line.next_due_date + _ONE_DAY
    # An amount a dispute found no error in is late only after its new due date (and it
    # is late from then, even when a statement carried it while it was held back).
    for dispute in line.disputes.values():
        again = dispute.owed_again_on
        if again is not None and again < today and (since <= again or since > today):
            since = again + _ONE_DAY
    return since


def overdue_watch_from(line: LineState) -> dt.date | None:
    """The first day the overdue job may have anything to do for `line`, or None.

    What an index of lines to look at is keyed by, so the job reads only those: a
    SUSPENDED line every day (to cure or to default it); an ACTIVE one from the first
    day a minimum it still owes can be late (the first late day of a carried amount, or
    the day after the due date); never a line owing no minimum, DEFAULTED or CLOSED.
    """
    if line.status is _SUSPENDED:
        return line.opened_on
    if line.status is not _ACTIVE or line.next_due_date is None:
        return None
    if line.minimum_payment_outstanding == 0:
        return None
    if line.carried_past_due > line.paid_since_statement and line.carried_past_due_since:
        return min(line.carried_past_due_since, line.next_due_date + _ONE_DAY)
    watch = line.next_due_date + _ONE_DAY
    if line.carried_past_due > line.paid_since_statement:
        # Carried while a dispute held it back: late the day after its new due date.
        for dispute in line.disputes.values():
            if dispute.owed_again_on is not None:
                watch = min(watch, dispute.owed_again_on + _ONE_DAY)
    return watch


def days_past_due(line: LineState, today: dt.date) -> int:
    """Whole days since the oldest unpaid minimum became late (0 when nothing is late)."""
    since = first_late_day(line, today)
    return 0 if since is None else (today - since).days + 1


def mark_past_due(line: LineState, today: dt.date, *, reason: str) -> None:
    """SUSPEND an ACTIVE line that has an amount past due and tell the borrower."""
    suspend(line, today, reason=reason)
    announce_past_due(line, today)


def suspend(line: LineState, today: dt.date, *, reason: str) -> None:
    """SUSPEND an ACTIVE line that has an amount past due; the caller tells the borrower."""
    since = first_late_day(line, today)
    with step(line, today, process=Process.OVERDUE, reason=reason):
        line.status, line.past_due_since = LineStatus.SUSPENDED, since


def announce_past_due(
    line: LineState, today: dt.date, *, late_fee: int = 0, next_due: dt.date | None = None
) -> None:
    """Tell the borrower a minimum was missed (LOC_PAST_DUE): how much, since when.

    Once per cycle whose minimum was missed (the overdue job tells it as it suspends the
    line or charges the cycle's late fee, which it does once per cycle), with the
    `late_fee` charged for it (0 when none), what the line owes now (`owed_now`) and the
    first due date ahead: `next_due`, the next statement's, when the caller knows it.
    """
    since = first_late_day(line, today)
    owed = owed_now(line, today)
    if owed["next_due_date"] is None and next_due is not None:
        owed["next_due_date"] = next_due.isoformat()
    emit(
        line,
        EventType.LOC_PAST_DUE,
        subject_id=line.line_id,
        on=today,
        data={
            **owed,
            "past_due_since": None if since is None else since.isoformat(),
            "late_fee": late_fee,
            "statement_date": (
                None
                if line.last_billing_cycle_date is None
                else line.last_billing_cycle_date.isoformat()
            ),
        },
    )


def cure(line: LineState, today: dt.date, *, reason: str) -> None:
    """Make a SUSPENDED line whose past-due amount is paid ACTIVE again."""
    with step(line, today, process=Process.CURE, reason=reason):
        line.status, line.past_due_since = LineStatus.ACTIVE, None


def cure_if_paid(line: LineState, on: dt.date, *, why: str) -> None:
    """Make a SUSPENDED line ACTIVE once nothing undisputed is past due (`why`: the audit)."""
    if line.status is LineStatus.SUSPENDED and past_due_amount(line, on) == 0:
        cure(line, on, reason=why)


def charge_off(line: LineState, today: dt.date, *, reason: str) -> None:
    """DEFAULT the line: reserve what it owes (DR CREDIT_LOSS, CR allowance) and stop interest.

    Interest accrued in the open cycle and not yet billed is not charged (non-accrual).
    The entry is named for the day, ``<line id>:<today>:default``: a correction can undo
    a default (a backdated payment), and the line's next default must post its own entry.
    It also names its occurrence after the line's first (`LineState.charge_off_entries`):
    a default undone and brought back the same day (a backdated payment booked after the
    day's job, then returned) is charged off again as ``<line id>:<today>:default:2``.
    """
    owed = line.total_balance
    with step(line, today, process=Process.DEFAULT, reason=reason):
        line.status, line.accrued_cent_days = LineStatus.DEFAULTED, 0
        if owed > 0:
            line.charge_off_entries += 1
            line.outbox.entries.append(
                bookkeeping.charge_off(
                    product=Product.CREDITLINE,
                    cause=f"{line.line_id}:{today.isoformat()}",
                    reference=line.line_id,
                    amount=owed,
                    on=today,
                    memo=f"charged off {reason}",
                    occurrence=line.charge_off_entries,
                )
            )
    announce_charge_off(line, today)


def announce_charge_off(line: LineState, today: dt.date) -> None:
    """Tell the borrower the line is charged off (LOC_CHARGED_OFF): what, by bucket, when.

    Told by the overdue job that defaults the line, or by a correction that leaves a line
    DEFAULTED that was not; a DEFAULTED line is never defaulted again, so once.
    """
    emit(
        line,
        EventType.LOC_CHARGED_OFF,
        subject_id=line.line_id,
        on=today,
        data={
            "line_id": line.line_id,
            "charged_off": line.total_balance,
            "principal": line.principal_balance,
            "interest": line.interest_balance,
            "fees": line.fee_balance,
            "charged_off_on": today.isoformat(),
            "past_due_since": None
            if line.past_due_since is None
            else line.past_due_since.isoformat(),
        },
    )
