"""The immutable record of one closed billing cycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.balances import Balances

__all__ = ["Statement", "statement_document_path"]


def statement_document_path(line_id: str, statement_date: dt.date) -> str:
    """The HTTP API route that answers a fresh link to a statement's PDF.

    The ``loc_statement_ready`` notification carries this path, never a presigned URL:
    an email is read days later, and the app asks the route for a short-lived link.
    """
    return f"/lines/{line_id}/statements/{statement_date.isoformat()}/document"


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

    @property
    def days(self) -> int:
        """How many days the cycle had."""
        return (self.cycle_end - self.cycle_start).days

    def _of(self, kind: ActivityKind) -> tuple[CycleActivity, ...]:
        return tuple(item for item in self.activity if item.kind is kind)

    @property
    def draws(self) -> tuple[CycleActivity, ...]:
        """The draws disbursed in the cycle."""
        return self._of(ActivityKind.DRAW)

    @property
    def payments(self) -> tuple[CycleActivity, ...]:
        """The payments applied in the cycle."""
        return self._of(ActivityKind.PAYMENT)

    @property
    def reversals(self) -> tuple[CycleActivity, ...]:
        """The payments returned or charged back in the cycle."""
        return self._of(ActivityKind.REVERSAL)

    @property
    def fees(self) -> tuple[CycleActivity, ...]:
        """The fees assessed in the cycle."""
        return self._of(ActivityKind.LATE_FEE)

    @property
    def adjustments(self) -> tuple[CycleActivity, ...]:
        """Corrections of earlier cycles booked in this one (effective-dated)."""
        return self._of(ActivityKind.ADJUSTMENT)
