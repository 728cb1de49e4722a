"""Statement queries: a line's statements, or one by its date.

Replace the seed's statement GET endpoints (``statements/``). Statements are immutable:
billing writes each once. The line is read first, so a line that is not the user's is
`NotFound` rather than an empty list.
"""

from __future__ import annotations

import attrs

from loc_core.creditline import Statement
from loc_core.ports import UnitOfWork
from loc_core.services.messagebus import Command
from loc_core.validation import Day, Id, validated

__all__ = ["GetLineStatement", "ListLineStatements", "get_line_statement", "list_line_statements"]


@attrs.frozen(field_transformer=validated)
class ListLineStatements(Command[list[Statement]]):
    """A borrower asks for every statement of their line."""

    user_id: Id
    line_id: Id


@attrs.frozen(field_transformer=validated)
class GetLineStatement(Command[Statement]):
    """A borrower asks for the statement of one date."""

    user_id: Id
    line_id: Id
    statement_date: Day


def list_line_statements(query: ListLineStatements, *, uow: UnitOfWork) -> list[Statement]:
    """The line's statements, oldest first.

    Raises:
        NotFound: no such line for the user.
    """
    with uow:
        uow.lines.get(query.user_id, query.line_id)
        return uow.statements.for_line(query.user_id, query.line_id)


def get_line_statement(query: GetLineStatement, *, uow: UnitOfWork) -> Statement:
    """The statement of one date.

    Raises:
        NotFound: no such line for the user, or no statement on that date.
    """
    with uow:
        uow.lines.get(query.user_id, query.line_id)
        return uow.statements.get(query.user_id, query.line_id, query.statement_date)
