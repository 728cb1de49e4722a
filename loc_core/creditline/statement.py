"""The immutable record of one closed billing cycle."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal

import attrs

from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.balances import Balances
from loc_core.refunds import RefundDue

__all__ = [
    "CreditKind",
    "CreditMovement",
    "Statement",
    "credit_movements",
    "cycle_year",
    "statement_document_path",
]


def statement_document_path(line_id: str, statement_date: dt.date) -> str:
    """The HTTP API route that answers a fresh link to a statement's PDF.

    The ``loc_statement_ready`` notification carries this path, never a presigned URL:
    an email is read days later, and the app asks the route for a short-lived link.
    """
    return f"/lines/{line_id}/statements/{statement_date.isoformat()}/document"


class CreditKind(enum.Enum):
    """How the money the line owes its borrower back (the credit balance) moved."""

    REFUND_DUE = "REFUND_DUE"
    """A payment a rail took beyond what was owed: the excess is owed back."""
    REFUND_CANCELLED = "REFUND_CANCELLED"
    """That payment was returned or charged back: the money never stayed."""
    CORRECTION = "CORRECTION"
    """A change of the credit balance no refund's dates account for (a correction that
    changed a refund's amount, or removed it, or what it applied in an issued cycle):
    shown on the statement where it is learned."""
    REFUND_PAID = "REFUND_PAID"
    """The lender sent a refund due back: the credit balance falls by it (negative)."""
    APPLIED = "APPLIED"
    """The credit balance paid what the line came to owe (`loc_core.creditline.credit`):
    it falls by what it paid (negative), as the balance owed does."""


@attrs.frozen(kw_only=True)
class CreditMovement:
    """One change of the credit balance in a cycle."""

    kind: CreditKind
    reference: str
    """The payment's id (a correction: ``<line id>:credit``)."""
    on: dt.date
    amount: int
    """Signed cents: positive adds to what the line owes the borrower back."""


def credit_movements(
    refunds: Iterable[RefundDue],
    *,
    line_id: str,
    opening: int,
    closing: int,
    applied: Iterable[CycleActivity] = (),
    cycle_start: dt.date,
    cycle_end: dt.date,
) -> tuple[CreditMovement, ...]:
    """The cycle's credit-balance movements, taking `opening` to `closing` exactly.

    A refund recorded in ``[cycle_start, cycle_end)`` adds its amount; one cancelled in
    it, or paid out in it (recorded as paid: `RefundDue.paid_booked_on`), takes it away
    (what was left of it then); each of the cycle's CREDIT_APPLIED activities (`applied`)
    takes what it paid. A refund's dates are the days it was booked (docs/corrections.md,
    "Refund dates"), so one a correction made or cancelled falls in the cycle it was booked
    in. What is left of the difference (a refund's amount a correction changed, or one it
    removed) is one CORRECTION on the cycle's last day, so the statement starts from the
    credit balance the previous statement showed and ends on the one the line owes now.
    """
    moves = [
        CreditMovement(
            kind=CreditKind.APPLIED, reference=item.reference, on=item.on, amount=-item.amount
        )
        for item in applied
    ]
    for refund in refunds:
        sent = refund.amount if refund.paid_amount is None else refund.paid_amount
        for kind, on, amount in (
            (CreditKind.REFUND_DUE, refund.recorded_on, refund.amount),
            (CreditKind.REFUND_CANCELLED, refund.cancelled_on, -refund.amount),
            (CreditKind.REFUND_PAID, refund.paid_booked_on, -sent),
        ):
            if on is not None and cycle_start <= on < cycle_end:
                moves.append(
                    CreditMovement(kind=kind, reference=refund.payment_id, on=on, amount=amount)
                )
    moves.sort(key=lambda move: move.on)
    rest = closing - opening - sum(move.amount for move in moves)
    if rest:
        moves.append(
            CreditMovement(
                kind=CreditKind.CORRECTION,
                reference=f"{line_id}:credit",
                on=cycle_end - dt.timedelta(days=1),
                amount=rest,
            )
        )
    return tuple(moves)


def cycle_year(close_date: dt.date) -> int:
    """The calendar year of the cycle closing on `close_date`: that of its last day."""
    return (close_date - dt.timedelta(days=1)).year


_DRAWS = frozenset({ActivityKind.DRAW, ActivityKind.DRAW_RETURNED})
"""A draw the rail brought back within its cycle nets out of the cycle's draws."""


@attrs.frozen(kw_only=True)
class Statement:
    """A cycle's figures as the borrower sees them; never changed once written.

    ``opening + sum of every activity's effect + interest_charged == closing``, bucket by
    bucket: billing checks it before writing.
    """

    line_id: str
    user_id: str
    cycle_start: dt.date
    """First day of the cycle (inclusive): the previous close or the opening date."""
    cycle_end: dt.date
    """The close date (exclusive): it belongs to the next cycle."""
    statement_date: dt.date
    """The close date; the due date counts from it."""
    opening: Balances
    closing: Balances
    activity: tuple[CycleActivity, ...]
    """Every draw, payment, reversal and fee of the cycle, in the order it happened."""
    apr: Decimal
    cent_days: int
    """Sum over the cycle's days of the end-of-day principal, in cents: the interest base."""
    interest_charged: int
    fees_charged: int
    past_due_amount: int
    """The unpaid part of the previous minimum, included in `minimum_payment`."""
    minimum_payment: int
    due_date: dt.date
    opening_credit: int = 0
    """What the line owed its borrower back when the cycle opened (refunds due): the
    previous statement's `closing_credit`."""
    credit_activity: tuple[CreditMovement, ...] = ()
    """How the credit balance moved in the cycle, in date order."""
    fees_year_to_date: int = 0
    """The fees charged on the statements of its `totals_year`, this one's included
    (1026.7(b)(6)(iii)): the sum of their `fees_charged`."""
    interest_year_to_date: int = 0
    """The interest charged on the statements of its `totals_year`, this one's included:
    the sum of their `interest_charged`."""

    @property
    def closing_credit(self) -> int:
        """What the line owes its borrower back at the close: refunds due not yet paid."""
        return self.opening_credit + sum(move.amount for move in self.credit_activity)

    @property
    def days(self) -> int:
        """How many days the cycle had."""
        return (self.cycle_end - self.cycle_start).days

    @property
    def totals_year(self) -> int:
        """The calendar year whose year-to-date totals this statement carries.

        The year of the cycle's last day (the day before the close date, the closing date
        the statement discloses), not of the statement date: with cycle day 1 the
        statement dated January 1 closes December's cycle and is the year's last.
        """
        return cycle_year(self.cycle_end)

    def _of(self, kind: ActivityKind) -> tuple[CycleActivity, ...]:
        return tuple(item for item in self.activity if item.kind is kind)

    @property
    def draws(self) -> tuple[CycleActivity, ...]:
        """The draws disbursed in the cycle, and those of them the rail brought back."""
        return tuple(item for item in self.activity if item.kind in _DRAWS)

    @property
    def payments(self) -> tuple[CycleActivity, ...]:
        """The payments applied in the cycle."""
        return self._of(ActivityKind.PAYMENT)

    @property
    def reversals(self) -> tuple[CycleActivity, ...]:
        """The payments returned or charged back in the cycle."""
        return self._of(ActivityKind.REVERSAL)

    @property
    def credits_applied(self) -> tuple[CycleActivity, ...]:
        """What the line's credit balance paid in the cycle (`loc_core.creditline.credit`)."""
        return self._of(ActivityKind.CREDIT_APPLIED)

    @property
    def fees(self) -> tuple[CycleActivity, ...]:
        """The fees assessed in the cycle."""
        return self._of(ActivityKind.LATE_FEE)

    @property
    def adjustments(self) -> tuple[CycleActivity, ...]:
        """Corrections of earlier cycles booked in this one (effective-dated)."""
        return self._of(ActivityKind.ADJUSTMENT)
