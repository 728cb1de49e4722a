"""The eligibility pre-check run before a borrower may apply for an installment loan.

A pure function over what the service already read: the user's standing, the statuses of
their loans and their applications, and whether a loan's money is on its way to them. It
reports every rule that failed, not just the first, so the borrower hears all reasons at
once. Accepting an offer runs the same rules again before any money moves
(`services.loans.eligibility.loan_eligibility`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

from loc_core.errors import NotEligible
from loc_core.installment._checks import require_moment
from loc_core.installment.application import LoanApplication
from loc_core.installment.vocabulary import LoanStatus

__all__ = ["Ineligibility", "check_eligibility", "require_eligible"]


class Ineligibility(enum.Enum):
    """A rule of the pre-check; the value is the code `NotEligible.reasons` carries."""

    USER_INACTIVE = "USER_INACTIVE"
    """The user's account is not active."""
    OPEN_LOAN = "OPEN_LOAN"
    """The user already has an OPEN loan."""
    DEFAULTED_LOAN = "DEFAULTED_LOAN"
    """The user has a DEFAULTED loan."""
    LIVE_APPLICATION = "LIVE_APPLICATION"
    """The user holds an APPROVED offer that has neither expired nor been accepted."""
    PENDING_DISBURSEMENT = "PENDING_DISBURSEMENT"
    """An accepted offer's disbursement is neither booked nor abandoned: a rail may have
    sent the money (its outcome is unknown), so a loan may be about to be booked."""


def check_eligibility(
    *,
    user_active: bool,
    loan_statuses: Iterable[LoanStatus],
    applications: Iterable[LoanApplication],
    now: dt.datetime,
    disbursing: bool = False,
) -> tuple[str, ...]:
    """The codes of every failed rule, in `Ineligibility` order; empty when eligible.

    `disbursing` says an offer's disbursement is pending (`PENDING_DISBURSEMENT`).
    """
    now = require_moment(now)
    statuses = set(loan_statuses)
    failed = {
        Ineligibility.USER_INACTIVE: user_active is not True,
        Ineligibility.OPEN_LOAN: LoanStatus.OPEN in statuses,
        Ineligibility.DEFAULTED_LOAN: LoanStatus.DEFAULTED in statuses,
        Ineligibility.LIVE_APPLICATION: any(app.is_live(now) for app in applications),
        Ineligibility.PENDING_DISBURSEMENT: disbursing is True,
    }
    return tuple(rule.value for rule, broken in failed.items() if broken)


def require_eligible(
    *,
    user_active: bool,
    loan_statuses: Iterable[LoanStatus],
    applications: Iterable[LoanApplication],
    now: dt.datetime,
) -> None:
    """Raise `NotEligible` with every failed rule's code, or return when all rules pass."""
    reasons = check_eligibility(
        user_active=user_active, loan_statuses=loan_statuses, applications=applications, now=now
    )
    if reasons:
        raise NotEligible(reasons)
