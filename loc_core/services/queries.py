"""Reading a borrower's loan or line as it stands: no change, no lease."""

from __future__ import annotations

import attrs

from loc_core.creditline import CreditLine
from loc_core.installment import Loan
from loc_core.ports import UnitOfWork
from loc_core.services.messagebus import Command
from loc_core.validation import Id, validated

__all__ = ["GetLine", "GetLoan", "get_line", "get_loan"]


@attrs.frozen(field_transformer=validated)
class GetLoan(Command[Loan]):
    """One of a borrower's loans, with its installments and payments."""

    user_id: Id
    loan_id: Id


@attrs.frozen(field_transformer=validated)
class GetLine(Command[CreditLine]):
    """One of a borrower's lines of credit, with its draws and payments."""

    user_id: Id
    line_id: Id


def get_loan(query: GetLoan, *, uow: UnitOfWork) -> Loan:
    """The loan, read consistently; `NotFound` when the borrower has no such loan."""
    with uow:
        return uow.loans.get(query.user_id, query.loan_id)


def get_line(query: GetLine, *, uow: UnitOfWork) -> CreditLine:
    """The line, read consistently; `NotFound` when the borrower has no such line."""
    with uow:
        return uow.lines.get(query.user_id, query.line_id)
