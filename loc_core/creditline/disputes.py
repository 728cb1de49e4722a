"""Billing errors on a line (Regulation Z 1026.13): the notice, the hold, the resolution.

- **The notice** (`open_dispute`): a borrower's written notice that one charge of a
  statement is wrong, received within 60 days after that statement's date (1026.13(b)).
  Like a 1026.13(a) notice it names the charge: a draw the statement lists (by its id),
  the late fee its cycle charged, or its interest charge; and an amount, positive and no
  more than that charge less what earlier notices disputed on it. It is acknowledged at
  once (``loc_billing_dispute_acknowledged``, 1026.13(c)(1)) with the day it must be
  resolved by: the end of the second complete billing cycle after receipt, never more
  than 90 days (1026.13(c)(2)), and never after the correction reach from the charge's
  date ends (`resolve_by`).
- **The hold** (`held_back`): while a dispute is open, and after its resolution through
  its new due date, its amount is not collected and not past due (1026.13(d)): the due
  job debits the unpaid minimum less it, the overdue job sees past due only what is
  unpaid beyond it (no suspension, late fee or default for it), and draws are not
  refused for it. The undisputed part is collected as usual.
- **The resolution** (`resolve_dispute`): an error found is credited as an
  effective-dated correction (`correcting.credit_billing_error`): the charge is taken
  off as of its own date and the line replayed, so interest, the minimums, past due,
  late fees and any payment now in excess (a refund due) are those of a history without
  the error. No error found explains it and makes the amount owed again from a new due
  date a statement's time away (1026.13(f), (g)).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from loc_core.creditline._bookkeeping import Process, emit, require_in_order, step
from loc_core.creditline._state import LineState
from loc_core.creditline.activity import ActivityKind
from loc_core.creditline.capacity import require_dispute_room
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.correcting import credit_billing_error
from loc_core.creditline.cycles import due_date_for, next_close_after
from loc_core.creditline.delinquency import cure_if_paid, held_back, owed_now
from loc_core.creditline.dispute import BillingDispute, DisputedCharge, DisputeStatus
from loc_core.creditline.draw import DrawStatus
from loc_core.creditline.statement import Statement
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import IdempotencyConflict, InvalidRequest, InvalidTransition, NotFound
from loc_core.events import EventType
from loc_core.ledger import JournalEntry
from loc_core.money import positive_cents

__all__ = [
    "NOTICE_DAYS",
    "RESOLUTION_DAYS",
    "disputed_charge",
    "held_back",
    "open_dispute",
    "resolve_by",
    "resolve_dispute",
]

NOTICE_DAYS = 60
"""A notice must be received within this many days after the statement (1026.13(b)(1))."""
RESOLUTION_DAYS = 90
"""A dispute is resolved within two complete billing cycles, never more than 90 days."""

_ONE_DAY = dt.timedelta(days=1)
_UNSERVICED = frozenset({LineStatus.DEFAULTED, LineStatus.CLOSED})


def disputed_charge(
    line: LineState, statement: Statement, charge: DisputedCharge, draw_id: str | None
) -> tuple[str, dt.date, int]:
    """The charge a notice names on `statement`: its reference, its date, its cents.

    Raises:
        InvalidRequest: naming ``draw_id`` (a draw dispute without one, one naming a draw
            not on the statement or one whose money came back, a draw id on another
            charge) or ``charge`` (a statement with no late fee or no interest charge).
    """
    if charge is not DisputedCharge.DRAW:
        if draw_id is not None:
            raise InvalidRequest(
                f"a {charge.value} dispute names no draw; got draw_id {draw_id!r}", key="draw_id"
            )
        if charge is DisputedCharge.INTEREST:
            if statement.interest_charged <= 0:
                raise InvalidRequest(
                    f"the statement of {statement.statement_date} charged no interest",
                    key="charge",
                )
            ref = statement.statement_date.isoformat()
            return ref, statement.statement_date, statement.interest_charged
        fees = [item for item in statement.activity if item.kind is ActivityKind.LATE_FEE]
        if not fees:
            raise InvalidRequest(
                f"the statement of {statement.statement_date} charged no late fee", key="charge"
            )
        ref = fees[0].reference
        return ref, fees[0].on, sum(item.amount for item in fees if item.reference == ref)
    if draw_id is None:
        raise InvalidRequest("a draw dispute names the draw (draw_id)", key="draw_id")
    drawn = [
        item
        for item in statement.activity
        if item.kind is ActivityKind.DRAW and item.reference == draw_id
    ]
    if not drawn:
        raise InvalidRequest(
            f"draw {draw_id} is not on the statement of {statement.statement_date}",
            key="draw_id",
        )
    draw = line.draws.get(draw_id)
    if draw is not None and draw.status is DrawStatus.RETURNED:
        raise InvalidRequest(
            f"draw {draw_id} came back (returned {draw.returned_on}): none of it is owed",
            key="draw_id",
        )
    return draw_id, drawn[0].on, sum(item.amount for item in drawn)


def resolve_by(
    received_on: dt.date, cycle_day: int, *, reach_ends: dt.date = dt.date.max
) -> dt.date:
    """The last day to resolve a notice received on `received_on` (1026.13(c)(2)).

    The end of the second complete billing cycle after receipt (a cycle that starts on the
    day of receipt counts as complete), never later than 90 days after receipt, and never
    after `reach_ends`: the last day the correction reach lets an error found be credited
    as of the charge's date.

    >>> resolve_by(dt.date(2026, 4, 10), 5)  # cycles 05-05..06-04 and 06-05..07-04
    datetime.date(2026, 7, 4)
    >>> resolve_by(dt.date(2026, 4, 5), 5)  # 04-05 starts a complete cycle
    datetime.date(2026, 6, 4)
    >>> resolve_by(dt.date(2026, 4, 10), 5, reach_ends=dt.date(2026, 7, 10))  # 03-12 + 120
    datetime.date(2026, 7, 4)
    >>> resolve_by(dt.date(2026, 6, 3), 5, reach_ends=dt.date(2026, 7, 2))  # 03-04 + 120
    datetime.date(2026, 7, 2)
    """
    first = (
        received_on if received_on.day == cycle_day else next_close_after(received_on, cycle_day)
    )
    third_close = next_close_after(next_close_after(first, cycle_day), cycle_day)
    return min(third_close - _ONE_DAY, received_on + dt.timedelta(days=RESOLUTION_DAYS), reach_ends)


def open_dispute(
    line: LineState,
    *,
    dispute_id: str,
    statement: Statement,
    charge: DisputedCharge,
    draw_id: str | None,
    amount: object,
    description: str,
    received_on: dt.date,
    product: CreditLineProduct,
) -> BillingDispute:
    """The rule of `CreditLine.dispute_billing_error` (documented there)."""
    cents = positive_cents(amount)
    existing = line.disputes.get(dispute_id)
    if existing is not None:
        asked = (statement.statement_date, charge, cents, description)
        same_draw = charge is not DisputedCharge.DRAW or existing.charge_ref == draw_id
        if (
            same_draw
            and (
                existing.statement_date,
                existing.charge,
                existing.amount,
                existing.description,
            )
            == asked
        ):
            return existing
        raise IdempotencyConflict(
            f"dispute {dispute_id} was already received for another statement, charge, "
            "amount or text"
        )
    if not isinstance(description, str) or not description.strip():
        raise InvalidRequest("description must say what is wrong", key="description")
    if statement.line_id != line.line_id:
        raise InvalidRequest(
            f"statement {statement.statement_date} is not line {line.line_id}'s",
            key="statement_date",
        )
    if line.status in _UNSERVICED:
        raise InvalidTransition(
            f"line {line.line_id} is {line.status.value}: its billing errors are handled by hand",
            about=line,
        )
    late = (received_on - statement.statement_date).days
    if not 0 <= late <= NOTICE_DAYS:
        raise InvalidRequest(
            f"a billing error must be disputed within {NOTICE_DAYS} days after the statement "
            f"of {statement.statement_date}; received {received_on}",
            key="statement_date",
        )
    ref, charged_on, charged = disputed_charge(line, statement, charge, draw_id)
    before = sum(d.amount for d in line.disputes.values() if d.names(charge, ref))
    if before + cents > charged:
        raise InvalidRequest(
            f"amount {cents} is more than the {charge.value} disputed ({ref}) charged and was "
            f"not yet disputed ({charged - before} of {charged} cents)",
            key="amount",
        )
    require_dispute_room(line, product=product)
    require_in_order(line, received_on)
    dispute = BillingDispute(
        dispute_id=dispute_id,
        line_id=line.line_id,
        user_id=line.user_id,
        statement_date=statement.statement_date,
        charge=charge,
        charge_ref=ref,
        charge_on=charged_on,
        amount=cents,
        description=description,
        received_on=received_on,
        after_overdue_job=line.overdue_job_changed_on == received_on,
        resolve_by=resolve_by(
            received_on, line.cycle_day, reach_ends=charged_on + product.corrections.reach
        ),
    )
    received = f"billing error notice {dispute_id} received: {cents} cents disputed"
    with step(line, received_on, process=Process.BILLING_DISPUTE, reason=received) as changes:
        line.disputes[dispute_id] = dispute
        changes.created(dispute)
    cure_if_paid(line, received_on, why=f"the unpaid amount is disputed ({dispute_id})")
    emit(
        line,
        EventType.LOC_BILLING_DISPUTE_ACKNOWLEDGED,
        subject_id=dispute_id,
        on=received_on,
        data={
            "line_id": line.line_id,
            "dispute_id": dispute_id,
            "statement_date": statement.statement_date.isoformat(),
            "charge": charge.value,
            "charge_date": charged_on.isoformat(),
            "amount": cents,
            "received_on": received_on.isoformat(),
            "resolve_by": dispute.resolve_by.isoformat(),
        },
    )
    return dispute


def resolve_dispute(
    line: LineState,
    *,
    dispute_id: str,
    error_found: bool,
    explanation: str,
    today: dt.date,
    product: CreditLineProduct,
    posted: Sequence[JournalEntry],
    before_overdue_job: bool = False,
) -> BillingDispute:
    """The rule of `CreditLine.resolve_billing_dispute` (documented there)."""
    dispute = line.disputes.get(dispute_id)
    if dispute is None:
        raise NotFound(f"line {line.line_id} has no dispute {dispute_id}")
    outcome = DisputeStatus.RESOLVED_ERROR if error_found else DisputeStatus.RESOLVED_NO_ERROR
    if not dispute.is_open:
        if dispute.status is outcome and dispute.explanation == explanation:
            return dispute
        raise InvalidTransition(
            f"dispute {dispute_id} is already {dispute.status.value}", about=dispute
        )
    if not isinstance(explanation, str) or not explanation.strip():
        raise InvalidRequest("explanation must say what was found", key="explanation")
    if error_found:
        dispute = credit_billing_error(
            line,
            dispute_id=dispute_id,
            explanation=explanation,
            today=today,
            product=product,
            posted=posted,
            before_overdue_job=before_overdue_job,
        )
    else:
        require_in_order(line, today)
        why = f"dispute {dispute_id} resolved: no error found"
        with step(line, today, process=Process.BILLING_DISPUTE, reason=why) as changes:
            changes.touch(dispute)
            dispute.status, dispute.resolved_on, dispute.explanation = outcome, today, explanation
            dispute.owed_again_on = due_date_for(today, product)
        cure_if_paid(line, today, why=f"dispute {dispute_id} resolved")
    emit(
        line,
        EventType.LOC_BILLING_DISPUTE_RESOLVED,
        subject_id=dispute_id,
        on=today,
        data={
            **owed_now(line, today),
            "dispute_id": dispute_id,
            "statement_date": dispute.statement_date.isoformat(),
            "charge": dispute.charge.value,
            "amount": dispute.amount,
            "error_found": error_found,
            "explanation": explanation,
            "credited": dispute.credited,
            "finance_charge_credited": dispute.finance_charge,
            "refunds_due": line.refunds_due,
            "disputed_amount_due": 0 if error_found else dispute.amount,
            "disputed_amount_due_date": (
                None
                if error_found or dispute.owed_again_on is None
                else dispute.owed_again_on.isoformat()
            ),
        },
    )
    return dispute
