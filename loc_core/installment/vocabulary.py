"""The stored words of the installment product: statuses, processes, fee types, cadences.

`Process` is shared with the credit-line product (`loc_core.audit`) and re-exported here.

Enum values are the strings the original service stores (``loc_status``, ``loc_process``,
``loc_fee_type``, ``loc_repayment_cadence``), so an existing table stays readable.
"""

from __future__ import annotations

import enum

from loc_core.audit import Process

__all__ = ["FeeType", "InstallmentStatus", "LoanStatus", "Process", "RepaymentCadence"]


class LoanStatus(enum.Enum):
    """Where a loan stands (``loc_status`` of a ``LOAN#`` item)."""

    OPEN = "OPEN"
    """Money is owed and the loan is performing (or not yet defaulted)."""
    CLOSED = "CLOSED"
    """Paid in full; `completion_date` is set. A return of the last payment reopens it."""
    DEFAULTED = "DEFAULTED"
    """Charged off after an installment stayed overdue too long; payments still accepted."""
    CANCELLED = "CANCELLED"
    """Terminal: the rail returned the disbursement, so the loan is void as of its
    disbursement date. Nothing is owed (no principal, origination fee or late fee); every
    payment not reversed is a refund due; no payment is taken. `completion_date` is the
    disbursement date. The Go service never writes it."""


class InstallmentStatus(enum.Enum):
    """Where one installment stands (``loc_status`` of a ``LOAN#<id>#INSTALLMENT#`` item)."""

    SCHEDULED = "SCHEDULED"
    """Not fully paid and not (yet) overdue."""
    COMPLETED = "COMPLETED"
    """Outstanding balance is zero."""
    OVERDUE = "OVERDUE"
    """Unpaid past its grace period; its late fee has been assessed."""
    DEFAULTED = "DEFAULTED"
    """Unpaid when its loan defaulted."""
    CANCELLED = "CANCELLED"
    """Its loan was CANCELLED (the disbursement came back): it owes nothing, every part
    0, and no payment applies to it."""


class FeeType(enum.Enum):
    """How an application's origination fee is stated (``loc_fee_type``)."""

    FIXED = "fixed"
    """A fixed number of cents."""
    PERCENTAGE = "percentage"
    """A percent of the loan amount, rounded half-up to the cent."""


class RepaymentCadence(enum.Enum):
    """How often installments fall due (``loc_repayment_cadence``)."""

    BIWEEKLY = "biweekly"

    @property
    def days(self) -> int:
        """Calendar days between two unrolled due dates."""
        return _CADENCE_DAYS[self]


_CADENCE_DAYS = {RepaymentCadence.BIWEEKLY: 14}
