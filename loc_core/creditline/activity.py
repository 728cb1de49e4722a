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
    LATE_FEE = "LATE_FEE"
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
