"""Billing-error notices on a line (Regulation Z 1026.13): the borrower's and the operator's.

The borrower disputes one charge of a statement (`DisputeBillingError`, the HTTP API's
``POST /lines/{line_id}/disputes``): a draw by its id, the cycle's late fee or its
interest charge, and an amount no more than that charge less earlier disputes on it. The
core checks it (within 60 days of the statement), holds the amount back from collection
and delinquency, and acknowledges it (``loc_billing_dispute_acknowledged``). An operator
resolves it (`ResolveBillingDispute`, ``loc disputes resolve``): an error found is an
effective-dated correction as of the charge's own date (interest recomputed exactly, a
payment now in excess a refund due, alerted as every refund due is); no error found
makes the amount owed again from a new due date; either way the borrower is told
(``loc_billing_dispute_resolved``). An error found on a charge beyond the correction
reach, or one whose correction would change a refund already paid out, is refused, the
dispute left OPEN (its amount still held), and operations get a CRITICAL alert.

Both are idempotent: the same key (the same dispute) returns the first answer, and a
resolution asked again returns the resolved dispute unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import attrs

from loc_core.creditline import BillingDispute, CreditLine, DisputedCharge
from loc_core.errors import CorrectionTooOld, DisputeLimitReached, RefundAlreadyPaid
from loc_core.ports import Alerter
from loc_core.services.kit import post_alert, refund_due_alerts
from loc_core.services.lines._unit import LineWriter
from loc_core.services.messagebus import Command
from loc_core.validation import Cents, Day, Flag, Id, Key, Text, validated

__all__ = [
    "DisputeBillingError",
    "ResolveBillingDispute",
    "dispute_billing_error",
    "dispute_id_for",
    "resolve_billing_dispute",
]


@attrs.frozen(field_transformer=validated)
class DisputeBillingError(Command[BillingDispute]):
    """A borrower's written notice of a billing error on one charge of a statement."""

    user_id: Id
    line_id: Id
    statement_date: Day
    """The date of the statement that first showed the error."""
    charge: DisputedCharge
    """Which kind of charge is wrong: a draw, the cycle's late fee, its interest."""
    amount: Cents
    """The disputed amount, in cents: at most the charge (less earlier disputes on it)."""
    description: Text
    """What is wrong and why, in the borrower's words (not blank)."""
    idempotency_key: Key
    """Chosen by the client, unique per line: the same key always means this notice."""
    draw_id: Id | None = None
    """The draw disputed (`DisputedCharge.DRAW` only)."""


@attrs.frozen(field_transformer=validated)
class ResolveBillingDispute(Command[BillingDispute]):
    """An operator resolves a line's open billing-error dispute after investigating it."""

    user_id: Id
    line_id: Id
    dispute_id: Id
    error_found: Flag
    """True: the error is corrected (credited); False: no error, the amount is owed again."""
    explanation: Text
    """What the borrower is told was found (not blank): on a finding of no error, the
    written explanation Regulation Z 1026.13(f) asks for."""


def dispute_id_for(command: DisputeBillingError) -> str:
    """The dispute's id, derived from the line and the client's key, so a retry finds it."""
    digest = hashlib.sha256(f"{command.line_id}\0{command.idempotency_key}".encode()).hexdigest()
    return f"dispute-{digest[:32]}"


def dispute_billing_error(
    command: DisputeBillingError, *, lines: LineWriter, alerter: Alerter
) -> BillingDispute:
    """Record and acknowledge the notice; the same key returns the first dispute.

    Raises:
        NotFound: no such line, or no statement of that date on it.
        IdempotencyConflict: the key was used for another statement, charge, amount or
            text.
        InvalidRequest: received more than 60 days after the statement; a charge not on
            it (naming ``draw_id`` or ``charge``); an amount above the charge less what
            was disputed on it; a blank description.
        InvalidTransition: the line is DEFAULTED or CLOSED.
        DisputeLimitReached: the line already has the most OPEN disputes its product
            allows (`max_disputes_per_line`); nothing changed, and operations are alerted
            (CRITICAL) to handle the notice by hand, as Regulation Z still requires.
    """
    uow = lines.uow
    with uow:
        uow.lines.get(command.user_id, command.line_id)  # NotFound for another user's line
        statement = uow.statements.get(command.user_id, command.line_id, command.statement_date)
    dispute_id = dispute_id_for(command)

    def dispute(line: CreditLine, today: dt.date) -> BillingDispute:
        return line.dispute_billing_error(
            dispute_id=dispute_id,
            statement=statement,
            charge=command.charge,
            draw_id=command.draw_id,
            amount=command.amount,
            description=command.description,
            received_on=today,
            product=lines.product,
        )

    try:
        received, _ = lines.change(
            command.user_id,
            command.line_id,
            dispute,
            actor="api",
            request_id=f"dispute:{dispute_id}",
        )
    except DisputeLimitReached as error:
        post_alert(
            alerter,
            "billing error notice refused: the line has the most open disputes; handle it by hand",
            {
                "user_id": command.user_id,
                "line_id": command.line_id,
                "statement_date": command.statement_date.isoformat(),
                "charge": command.charge.value,
                "amount": command.amount,
            },
            error=error,
        )
        raise
    return attrs.evolve(received)


def resolve_billing_dispute(
    command: ResolveBillingDispute, *, lines: LineWriter, alerter: Alerter
) -> BillingDispute:
    """Resolve the dispute and tell the borrower; the same resolution again changes nothing.

    An error found corrects the line as of the charge's date; a refund due it raises (the
    borrower paid the disputed amount meanwhile) gets the WARNING "refund due" alert in
    the same commit, as a backdated payment's does.

    Raises:
        NotFound: no such line or dispute.
        InvalidTransition: the dispute was already resolved otherwise.
        InvalidRequest: a blank explanation.
        CorrectionTooOld: an error found on a charge beyond the correction reach; alerted
            (CRITICAL), nothing changed.
        RefundAlreadyPaid: the correction would change a refund already paid out;
            alerted (CRITICAL), nothing changed.
    """

    def resolve(line: CreditLine, today: dt.date) -> BillingDispute:
        before = line.refunds_due_by_payment()
        resolved = line.resolve_billing_dispute(
            dispute_id=command.dispute_id,
            error_found=command.error_found,
            explanation=command.explanation,
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
        return resolved

    try:
        resolved, _ = lines.change(
            command.user_id,
            command.line_id,
            resolve,
            actor="operator",
            request_id=f"resolve-dispute:{command.dispute_id}",
        )
    except (CorrectionTooOld, RefundAlreadyPaid) as error:
        post_alert(
            alerter,
            "billing error found but not credited: credit it by hand",
            {
                "user_id": command.user_id,
                "line_id": command.line_id,
                "dispute_id": command.dispute_id,
            },
            error=error,
        )
        raise
    return attrs.evolve(resolved)
