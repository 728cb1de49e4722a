"""Closing a line at the borrower's request, once nothing is owed, pending or accruing.

The core decides (`close_line`): a zero balance, no pending draw, and no interest
accrued since the last statement (a line that carried principal in the open cycle closes
after that cycle's statement is paid). Closing a CLOSED line again changes nothing. A
payment returned after closing reopens the line (see ``docs/credit-lines.md``).
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLine
from loc_core.services.lines._unit import LineWriter
from loc_core.services.messagebus import Command
from loc_core.validation import Id, valid_text, validated

__all__ = ["CloseLine", "close_credit_line"]


@attrs.frozen(field_transformer=validated)
class CloseLine(Command[CreditLine]):
    """A borrower (or an agent for them) closes a line."""

    user_id: Id
    line_id: Id
    reason: str = attrs.field(default="closed at the borrower's request", validator=valid_text)


def close_credit_line(command: CloseLine, *, lines: LineWriter) -> CreditLine:
    """Close the line; a repeat returns the closed line unchanged.

    Raises:
        NotFound: no such line.
        InvalidTransition: a balance is owed, a draw is pending, or interest is accruing.
    """

    def close(line: CreditLine, today: dt.date) -> CreditLine:
        line.close(on=today, reason=command.reason)
        return line

    line, _ = lines.change(
        command.user_id, command.line_id, close, actor="api", request_id=f"close:{command.line_id}"
    )
    return line
