"""What a settlement handler did with a rail's event: one answer for both products."""

from __future__ import annotations

import enum

__all__ = ["SettlementHandling"]


class SettlementHandling(enum.Enum):
    """What a settlement event did, whichever product the transfer served."""

    SETTLED = "settled"
    """The payment is COMPLETED."""
    REVERSED = "reversed"
    """The payment was returned or charged back: exactly what it paid is owed again."""
    DUPLICATE = "duplicate"
    """A repeated or out-of-order delivery (a completion after the return): nothing changed."""
    DISBURSEMENT = "disbursement"
    """A transfer that paid money out (a loan's proceeds, a line's draw): nothing to book,
    since the loan or line already shows it."""
