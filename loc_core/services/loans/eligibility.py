"""The eligibility pre-check (seed ``precheck/``): may this borrower apply for a loan now?"""

from __future__ import annotations

import attrs

from loc_core.installment import check_eligibility
from loc_core.ports import Clock, UnitOfWork, Users
from loc_core.services.kit import moment
from loc_core.services.loans.disbursement import disbursement_pending
from loc_core.services.messagebus import Command
from loc_core.validation import Id, validated

__all__ = ["CheckEligibility", "Eligibility", "check_loan_eligibility"]


@attrs.frozen(field_transformer=validated)
class CheckEligibility(Command["Eligibility"]):
    """Ask whether a borrower may apply for an installment loan."""

    user_id: Id


@attrs.frozen
class Eligibility:
    """The pre-check's answer: every failed rule's code, empty when eligible."""

    user_id: str
    reasons: tuple[str, ...]
    """`Ineligibility` codes: USER_INACTIVE, OPEN_LOAN, DEFAULTED_LOAN, LIVE_APPLICATION,
    PENDING_DISBURSEMENT."""

    @property
    def eligible(self) -> bool:
        """Whether every rule passed."""
        return not self.reasons


def check_loan_eligibility(
    command: CheckEligibility, *, uow: UnitOfWork, users: Users, clock: Clock
) -> Eligibility:
    """Run the pre-check: active, no OPEN or DEFAULTED loan, no live or disbursing offer.

    An offer whose disbursement is pending may have paid the borrower already: its loan
    is about to be booked (`disbursement_pending`).

    Reads only; changes nothing.

    Raises:
        NotFound: when the user service does not know the user.
    """
    now, _ = moment(clock)
    user = users.get(command.user_id)
    with uow:
        loans = uow.loans.for_user(command.user_id)
        applications = uow.loan_applications.for_user(command.user_id)
        disbursing = disbursement_pending(uow, command.user_id, applications)
    reasons = check_eligibility(
        user_active=user.active,
        loan_statuses=[loan.status for loan in loans],
        applications=applications,
        now=now,
        disbursing=disbursing,
    )
    return Eligibility(command.user_id, reasons)
