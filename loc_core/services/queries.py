"""Reading a borrower's loans, lines and applications as they stand: no change, no lease."""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.audit import Process
from loc_core.creditline import CreditLine, CreditLineApplication
from loc_core.installment import Loan, LoanApplication, LoanStatus
from loc_core.ports import AUDIT_PAGE_LIMIT, AuditRecordPage, UnitOfWork
from loc_core.services.messagebus import Command
from loc_core.validation import Id, Validator, instance_of, valid_count, validated

__all__ = [
    "GetLine",
    "GetLineApplication",
    "GetLoan",
    "GetLoanApplication",
    "ListLineApplications",
    "ListLines",
    "ListLoanApplications",
    "ListLoans",
    "ReadAuditTrail",
    "ReadProcessAuditTrail",
    "ReadUserAuditTrail",
    "application_order",
    "get_line",
    "get_line_application",
    "get_loan",
    "get_loan_application",
    "line_order",
    "list_line_applications",
    "list_lines",
    "list_loan_applications",
    "list_loans",
    "loan_order",
    "read_audit_trail",
    "read_process_audit_trail",
    "read_user_audit_trail",
]

AUDIT_PAGE_SIZE = 20
"""Records on an audit page when the caller names no limit."""
_CURSOR: Validator = instance_of(str, optional=True)
_LIMIT: Validator = valid_count(minimum=1, maximum=AUDIT_PAGE_LIMIT)


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


@attrs.frozen(field_transformer=validated)
class ListLoans(Command[list[Loan]]):
    """A borrower's loans, newest first; only those in `status` when it is given."""

    user_id: Id
    status: LoanStatus | None = None


@attrs.frozen(field_transformer=validated)
class ListLines(Command[list[CreditLine]]):
    """A borrower's lines of credit, newest first."""

    user_id: Id


@attrs.frozen(field_transformer=validated)
class GetLoanApplication(Command[LoanApplication]):
    """One of a borrower's loan applications."""

    user_id: Id
    application_id: Id


@attrs.frozen(field_transformer=validated)
class ListLoanApplications(Command[list[LoanApplication]]):
    """A borrower's loan applications, newest first."""

    user_id: Id


@attrs.frozen(field_transformer=validated)
class GetLineApplication(Command[CreditLineApplication]):
    """One of a borrower's line applications."""

    user_id: Id
    application_id: Id


@attrs.frozen(field_transformer=validated)
class ListLineApplications(Command[list[CreditLineApplication]]):
    """A borrower's line applications, newest first."""

    user_id: Id


@attrs.frozen(field_transformer=validated)
class ReadAuditTrail(Command[AuditRecordPage]):
    """A page of one entity's audited changes (``loan``, ``line``, ``installment``, ...).

    Oldest first. For operations: it is not scoped to a borrower.
    """

    entity: Id
    entity_id: Id
    cursor: str | None = attrs.field(default=None, validator=_CURSOR)
    """The cursor of the previous page (None: the first page)."""
    limit: int = attrs.field(default=AUDIT_PAGE_SIZE, validator=_LIMIT)


@attrs.frozen(field_transformer=validated)
class ReadUserAuditTrail(Command[AuditRecordPage]):
    """A page of the audited changes to one borrower's entities, newest first (operations)."""

    user_id: Id
    cursor: str | None = attrs.field(default=None, validator=_CURSOR)
    """The cursor of the previous page (None: the first page)."""
    limit: int = attrs.field(default=AUDIT_PAGE_SIZE, validator=_LIMIT)


@attrs.frozen(field_transformer=validated)
class ReadProcessAuditTrail(Command[AuditRecordPage]):
    """A page of the changes one process (autopay, billing, ...) made, newest first (operations)."""

    process: Process
    cursor: str | None = attrs.field(default=None, validator=_CURSOR)
    """The cursor of the previous page (None: the first page)."""
    limit: int = attrs.field(default=AUDIT_PAGE_SIZE, validator=_LIMIT)


def get_loan(query: GetLoan, *, uow: UnitOfWork) -> Loan:
    """The loan, read consistently; `NotFound` when the borrower has no such loan."""
    with uow:
        return uow.loans.get(query.user_id, query.loan_id)


def get_line(query: GetLine, *, uow: UnitOfWork) -> CreditLine:
    """The line, read consistently; `NotFound` when the borrower has no such line."""
    with uow:
        return uow.lines.get(query.user_id, query.line_id)


def loan_order(loan: Loan) -> tuple[dt.datetime, str]:
    """Where a loan sits in the borrower's list (largest first): made when, then its id."""
    return loan.created_at, loan.loan_id


def line_order(line: CreditLine) -> tuple[dt.date, str]:
    """Where a line sits in the borrower's list (largest first): opened when, then its id."""
    return line.opened_on, line.line_id


def application_order(
    application: LoanApplication | CreditLineApplication,
) -> tuple[dt.datetime, str]:
    """Where an application sits in its list (largest first): made when, then its id."""
    return application.created_at, application.application_id


def list_loans(query: ListLoans, *, uow: UnitOfWork) -> list[Loan]:
    """The borrower's loans, newest first (ties by id, so the order is stable)."""
    with uow:
        loans = uow.loans.for_user(query.user_id, status=query.status)
    return sorted(loans, key=loan_order, reverse=True)


def list_lines(query: ListLines, *, uow: UnitOfWork) -> list[CreditLine]:
    """The borrower's lines, newest first (ties by id)."""
    with uow:
        lines = uow.lines.for_user(query.user_id)
    return sorted(lines, key=line_order, reverse=True)


def get_loan_application(query: GetLoanApplication, *, uow: UnitOfWork) -> LoanApplication:
    """The application; `NotFound` when the borrower has no such application."""
    with uow:
        return uow.loan_applications.get(query.user_id, query.application_id)


def list_loan_applications(
    query: ListLoanApplications, *, uow: UnitOfWork
) -> list[LoanApplication]:
    """The borrower's loan applications, newest first (ties by id)."""
    with uow:
        found = uow.loan_applications.for_user(query.user_id)
    return sorted(found, key=application_order, reverse=True)


def get_line_application(query: GetLineApplication, *, uow: UnitOfWork) -> CreditLineApplication:
    """The application; `NotFound` when the borrower has no such application."""
    with uow:
        return uow.line_applications.get(query.user_id, query.application_id)


def list_line_applications(
    query: ListLineApplications, *, uow: UnitOfWork
) -> list[CreditLineApplication]:
    """The borrower's line applications, newest first (ties by id)."""
    with uow:
        found = uow.line_applications.for_user(query.user_id)
    return sorted(found, key=application_order, reverse=True)


def read_audit_trail(query: ReadAuditTrail, *, uow: UnitOfWork) -> AuditRecordPage:
    """A page of the entity's records as stored (empty for an entity never audited)."""
    with uow:
        return uow.audit.entity_page(
            query.entity, query.entity_id, cursor=query.cursor, limit=query.limit
        )


def read_user_audit_trail(query: ReadUserAuditTrail, *, uow: UnitOfWork) -> AuditRecordPage:
    """A page of the borrower's records (empty for a borrower never audited)."""
    with uow:
        return uow.audit.user_page(query.user_id, cursor=query.cursor, limit=query.limit)


def read_process_audit_trail(query: ReadProcessAuditTrail, *, uow: UnitOfWork) -> AuditRecordPage:
    """A page of the process's records (empty for a process that changed nothing yet)."""
    with uow:
        return uow.audit.process_page(query.process.value, cursor=query.cursor, limit=query.limit)
