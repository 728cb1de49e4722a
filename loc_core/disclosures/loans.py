"""An installment offer's Truth-in-Lending figures and its APR (Regulation Z, Appendix J)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from loc_core.disclosures.figures import LoanDisclosure, ScheduledPayment
from loc_core.installment.application import LoanApplication
from loc_core.installment.config import InstallmentProduct

__all__ = ["annual_percentage_rate", "loan_disclosure"]


def annual_percentage_rate(
    *,
    amount_financed: int,
    advanced_on: dt.date,
    payments: Sequence[ScheduledPayment],
    unit_period_days: int = 14,
) -> Decimal:
    """The APR in percent (two places) of `amount_financed` advanced on `advanced_on`."""
    raise NotImplementedError  # filled in by the figures work of issue 15


def loan_disclosure(application: LoanApplication, product: InstallmentProduct) -> LoanDisclosure:
    """The Truth-in-Lending figures of an APPROVED application's offer."""
    raise NotImplementedError  # filled in by the figures work of issue 15
