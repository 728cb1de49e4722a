"""What both products audit with: `Process`, the name of what made a change.

Its values are the strings stored as ``loc_process`` and in every audit `Change`.
"""

from __future__ import annotations

import enum

__all__ = ["Process"]


class Process(enum.Enum):
    """What made a change (``loc_process``, and the process of every audit `Change`).

    One vocabulary for both products; each uses the members that name its processes, and
    the values are the stored strings, so existing items stay readable.
    """

    CREATION = "CREATION"
    """An installment loan (and its installments) was created from an application."""
    UNDERWRITING = "UNDERWRITING"
    """Underwriting answered an installment application."""
    OPEN = "OPEN"
    """A credit-line application was answered, or a line opened from it."""
    CONVERSION = "CONVERSION"
    """A credit-line application became a line."""
    EXPIRATION = "EXPIRATION"
    """An offer expired unaccepted."""
    AUTOPAY = "AUTOPAY"
    MANUAL = "MANUAL"
    AUTOPAY_SETTING = "AUTOPAY_SETTING"
    """A borrower (or support) switched a loan's autopay on or off."""
    DRAW = "DRAW"
    DISBURSEMENT = "DISBURSEMENT"
    BILLING = "BILLING"
    PAYMENT = "PAYMENT"
    SETTLEMENT = "SETTLEMENT"
    UNAPPLY = "UNAPPLY"
    """A payment's effect was removed because it was returned or charged back."""
    UPCOMING = "UPCOMING"
    LATE_FEE = "LATE_FEE"
    """The daily job found an amount late and assessed a late fee."""
    OVERDUE = "OVERDUE"
    """The daily job found an amount late (no fee: an installment loan's cap was reached)."""
    CURE = "CURE"
    DEFAULT = "DEFAULT"
    """The daily job defaulted (charged off) the loan or line."""
    CLOSE = "CLOSE"
