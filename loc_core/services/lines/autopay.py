"""Turning autopay on or off for a line (the borrower's setting, audited), as for a loan.

The core decides (`CreditLine.set_autopay`): asking for the setting the line already has
changes and records nothing; a CLOSED line's setting cannot be changed; a DEFAULTED line's
autopay cannot be turned on. The due job reads the setting on the line it debits, so
turning autopay off stops every due-job debit not yet sent to a rail, and turning it on
again (after a return stopped it) lets the next due date's debit go out.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLine
from loc_core.services.lines._unit import LineWriter
from loc_core.services.messagebus import Command
from loc_core.validation import Flag, Id, valid_text, validated

__all__ = ["SetLineAutopay", "set_line_autopay"]


@attrs.frozen(field_transformer=validated)
class SetLineAutopay(Command[bool]):
    """Switch autopay for a line on or off."""

    user_id: Id
    line_id: Id
    enabled: Flag
    reason: str = attrs.field(default="borrower request", validator=valid_text)
    """Why, as the audit trail should say it."""


def set_line_autopay(command: SetLineAutopay, *, lines: LineWriter) -> bool:
    """Apply the setting; returns whether it changed anything.

    Idempotent by nature: the same request again changes and records nothing.

    Raises:
        NotFound: no such line (or another user's).
        InvalidTransition: the line is CLOSED, or DEFAULTED and autopay would turn on.
    """

    def switch(line: CreditLine, today: dt.date) -> bool:
        return line.set_autopay(command.enabled, on=today, reason=command.reason)

    changed, _ = lines.change(
        command.user_id,
        command.line_id,
        switch,
        actor="api",
        request_id=(
            f"set_autopay:{command.line_id}:{command.enabled}:{lines.clock.now().isoformat()}"
        ),
    )
    return changed
