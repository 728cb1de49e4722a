"""An operator waives a line's late fee: a correction as of the day the fee was assessed.

Customer service waives late fees (the lender's error, such as a due debit never
presented while every rail was down; hardship; goodwill). `WaiveLineLateFee` names the
fee by its cycle (`late_fee_cycle`: the date of the statement whose minimum was missed)
and hands it to `CreditLine.waive_late_fee`: the waiver is recorded on the line, the
overdue rules read it in every replay, and the line is corrected from the fee's day (a
payment that paid it pays what it would have, a line owing nothing holds its excess as a
refund due, one ``<line>:<cycle>:fee_waived:adjust`` entry dated today). A refund due
the waiver raises gets the WARNING "refund due" alert in the same commit, as a booking's.

The same request again (same cycle, key and reason) changes nothing and answers the
same; another key or reason for a fee already waived, or the key reused for another
cycle, is an `IdempotencyConflict`. A fee assessed further back than the correction
reach is refused (`CorrectionTooOld`) after a CRITICAL alert: handled by hand.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLine, LineLateFeeWaiver, LineStatus
from loc_core.errors import CorrectionTooOld
from loc_core.ports import Alerter
from loc_core.services.kit import post_alert, refund_due_alerts
from loc_core.services.lines._unit import LineWriter
from loc_core.services.messagebus import Command
from loc_core.validation import Day, Id, Key, NonBlankText, validated

__all__ = [
    "LINE_FEE_WAIVER_TOO_OLD",
    "LineLateFeeWaived",
    "WaiveLineLateFee",
    "waive_line_late_fee",
]

LINE_FEE_WAIVER_TOO_OLD = "line late fee waiver reaches too far back: handle by hand"
"""The title of the CRITICAL alert for a waiver refused beyond the correction reach."""


@attrs.frozen
class LineLateFeeWaived:
    """A line's late fee waived, as recorded, and what the line owes now."""

    line_id: str
    late_fee_cycle: dt.date
    """The statement date of the cycle whose minimum was missed."""
    fee_reference: str
    """The fee's reference on the statement (its entry id)."""
    amount: int
    """The cents waived."""
    effective_on: dt.date
    """The day the fee was assessed: the waiver's effective date."""
    waived_on: dt.date
    """The business date the waiver was booked (its adjustment entry's date)."""
    reason: str
    line_status: LineStatus
    balance: int
    """What the line owes now (principal, interest and fees)."""
    refunds_due: int
    """What the line owes the borrower back now (a fee paid on a line that owes nothing)."""


@attrs.frozen(field_transformer=validated)
class WaiveLineLateFee(Command[LineLateFeeWaived]):
    """An operator waives the late fee a line charged for one missed cycle."""

    user_id: Id
    line_id: Id
    late_fee_cycle: Day
    """The date of the statement whose minimum was missed (the line's `late_fee_cycle`
    when the fee was charged; ``loc_past_due``'s ``statement_date``)."""
    reason: NonBlankText
    """Why (lender error, hardship, goodwill), as the audit trail should say it."""
    idempotency_key: Key
    """Chosen by the operator's tool; the same key never waives twice."""


def waive_line_late_fee(
    command: WaiveLineLateFee, *, lines: LineWriter, alerter: Alerter
) -> LineLateFeeWaived:
    """Waive the cycle's late fee as of the day it was assessed; the waiver.

    Raises:
        NotFound: no such line (or another borrower's).
        NoLateFee: the line's history charges no late fee for that cycle.
        IdempotencyConflict: the fee was waived under another key or reason, or the key
            waived another cycle's fee.
        CorrectionTooOld: the fee was assessed beyond the correction reach (alerted
            CRITICAL; nothing changed).
        RefundAlreadyPaid: the waiver would change a refund already paid out.
    """

    def waive(line: CreditLine, today: dt.date) -> LineLateFeeWaived:
        before = line.refunds_due_by_payment()
        waiver = line.waive_late_fee(
            late_fee_cycle=command.late_fee_cycle,
            reason=command.reason,
            idempotency_key=command.idempotency_key,
            today=today,
            product=lines.product,
            posted=lines.uow.journal.entries_for(line.line_id),
            before_overdue_job=lines.before_overdue_job(today),
        )
        line.outbox.events.extend(
            refund_due_alerts(
                line, before, user_id=line.user_id, named=("line_id", line.line_id), on=today
            )
        )
        return _answer(line, waiver)

    try:
        waived, _ = lines.change(
            command.user_id,
            command.line_id,
            waive,
            actor="operator",
            request_id=command.idempotency_key,
        )
    except CorrectionTooOld as error:
        post_alert(
            alerter,
            LINE_FEE_WAIVER_TOO_OLD,
            {
                "user_id": command.user_id,
                "line_id": command.line_id,
                "late_fee_cycle": command.late_fee_cycle.isoformat(),
                "idempotency_key": command.idempotency_key,
                "reason": command.reason,
            },
            error=error,
        )
        raise
    return waived


def _answer(line: CreditLine, waiver: LineLateFeeWaiver) -> LineLateFeeWaived:
    return LineLateFeeWaived(
        line_id=line.line_id,
        late_fee_cycle=waiver.late_fee_cycle,
        fee_reference=waiver.fee_reference,
        amount=waiver.amount,
        effective_on=waiver.effective_on,
        waived_on=waiver.waived_on,
        reason=waiver.reason,
        line_status=line.status,
        balance=line.total_balance,
        refunds_due=line.refunds_due,
    )
