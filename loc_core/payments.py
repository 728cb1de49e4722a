"""Payment vocabulary shared by both products: rails, statuses, settlement outcomes.

Both products submit payments to the same rails and hear back through the same
settlement events, so the words live here; each product decides what an event does to
its balances.
"""

from __future__ import annotations

import enum

__all__ = ["REPAYMENT_RAILS", "Direction", "PaymentStatus", "Rail", "SettlementOutcome"]


class Rail(enum.Enum):
    """A way to move money; values are the names the payments service uses."""

    ACH = "ach"
    PINLESS = "pinless"
    """Pinless debit: a card network transfer, settled at once, can be charged back."""
    RTP = "rtp"
    """Real-time payments: credits only (used to disburse, never to collect)."""


class Direction(enum.Enum):
    """Which way the money goes, from the lender's side."""

    CREDIT = "credit"
    """Lender to borrower: a disbursement or a draw."""
    DEBIT = "debit"
    """Borrower to lender: a repayment."""


class PaymentStatus(enum.Enum):
    """Where a borrower's repayment stands.

    Balances change on submission (PENDING). A RETURNED or CHARGED_BACK payment has had
    exactly what it applied reversed; those two states are final.
    """

    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    RETURNED = "RETURNED"
    CHARGED_BACK = "CHARGED_BACK"

    @property
    def reversed(self) -> bool:
        """Whether the payment's effect on balances has been undone."""
        return self is _RETURNED or self is _CHARGED_BACK


# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_RETURNED, _CHARGED_BACK = PaymentStatus.RETURNED, PaymentStatus.CHARGED_BACK


class SettlementOutcome(enum.Enum):
    """What a rail's settlement event says happened to a submitted debit."""

    COMPLETED = "COMPLETED"
    RETURNED = "RETURNED"
    """ACH return (NSF, closed account, unauthorized)."""
    CHARGED_BACK = "CHARGED_BACK"
    """Pinless debit disputed by the cardholder."""


REPAYMENT_RAILS: tuple[Rail, ...] = (Rail.PINLESS, Rail.ACH)
"""Both products collect repayments by pinless debit first, then ACH (RTP only sends
credits)."""
