"""Reading a borrower's loan as it stands: no change, no lease."""

from __future__ import annotations

import attrs

from loc_core.installment import Loan
from loc_core.ports import UnitOfWork
from loc_core.services.messagebus import Command

__all__ = ["GetLoan", "get_loan"]


@attrs.frozen
class GetLoan(Command[Loan]):
    """One of a borrower's loans, with its installments and payments."""

    user_id: str
    loan_id: str


def get_loan(query: GetLoan, *, uow: UnitOfWork) -> Loan:
    """The loan, read consistently.

    Raises:
        NotFound: the borrower has no such loan.
    """
    with uow:
        return uow.loans.get(query.user_id, query.loan_id)
