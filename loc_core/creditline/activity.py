"""What happened on a line during a cycle: the lines of its next statement."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from loc_core.creditline.balances import Balances

__all__ = ["ActivityKind", "CycleActivity"]


class ActivityKind(enum.Enum):
    """The kinds of activity a statement lists."""

    DRAW = "DRAW"
    PAYMENT = "PAYMENT"
    REVERSAL = "REVERSAL"
    """A payment returned (ACH) or charged back (pinless): its buckets owed again."""
    DRAW_RETURNED = "DRAW_RETURNED"
    """A draw's money the rail brought back: its principal no longer owed, as of the draw's
    day (a draw of an earlier cycle is corrected by ADJUSTMENT lines instead)."""
    LATE_FEE = "LATE_FEE"
    CREDIT_APPLIED = "CREDIT_APPLIED"
    """The line's credit balance (refunds due) applied to what it came to owe, as a
    payment is: fees, then interest, then principal."""
    ADJUSTMENT = "ADJUSTMENT"
    """A correction of an earlier cycle (interest, fee, a reversed payment's principal),
    dated the effective date it concerns."""


@attrs.frozen
class CycleActivity:
    """One movement on a line, with what it did to each bucket (signed cents)."""

    kind: ActivityKind
    reference: str
    """The draw, payment or fee's id."""
    on: dt.date
    amount: int
    """The movement's size, always positive."""
    effect: Balances
    """What it changed: a payment is negative, a draw or a fee positive."""
