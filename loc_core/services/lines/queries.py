"""Reading a borrower's line as it stands: no change, no lease."""

from __future__ import annotations

import attrs

from loc_core.creditline import CreditLine
from loc_core.ports import UnitOfWork
from loc_core.services.messagebus import Command

__all__ = ["GetLine", "get_line"]


@attrs.frozen
class GetLine(Command[CreditLine]):
    """One of a borrower's lines of credit, with its draws and payments."""

    user_id: str
    line_id: str


def get_line(query: GetLine, *, uow: UnitOfWork) -> CreditLine:
    """The line, read consistently.

    Raises:
        NotFound: the borrower has no such line.
    """
    with uow:
        return uow.lines.get(query.user_id, query.line_id)
