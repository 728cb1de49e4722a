"""Turning autopay on or off for a line (the borrower's setting, audited), as for a loan.

The core decides (`CreditLine.set_autopay`): asking for the setting the line already has
changes and records nothing; a CLOSED line's setting cannot be changed; a DEFAULTED line's
autopay cannot be turned on. The setting changes under the line's debit lease, which the
due job holds from its read of the setting until its debit is booked, so turning autopay
off (a revocation, Regulation E 1005.10(c)) stops every due-job debit not yet sent to a
rail, and one asked while a debit is being sent is refused (`LockNotAcquired`, retry
shortly), never reported done while the money goes out. Turning it on again (after a
return stopped it) lets the next due date's debit go out.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLine
from loc_core.ports import Lock
from loc_core.services.kit import leased, lock_key
from loc_core.services.lines._unit import LEASE_TTL, LineWriter
from loc_core.services.lines.paying import DEBIT_LOCK_PROCESS
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


def set_line_autopay(command: SetLineAutopay, *, lines: LineWriter, lock: Lock) -> bool:
    """Apply the setting; returns whether it changed anything.

    Idempotent by nature: the same request again changes and records nothing.

    Raises:
        NotFound: no such line (or another user's).
        InvalidTransition: the line is CLOSED, or DEFAULTED and autopay would turn on.
        LockNotAcquired: while the due job or a manual payment is debiting the line.
    """

    def switch(line: CreditLine, today: dt.date) -> bool:
        return line.set_autopay(command.enabled, on=today, reason=command.reason)

    request_id = f"set_autopay:{command.line_id}:{command.enabled}:{lines.clock.now().isoformat()}"
    with leased(
        lock,
        lock_key(DEBIT_LOCK_PROCESS, user_id=command.user_id, item_id=command.line_id),
        owner=request_id,
        ttl=LEASE_TTL,
    ):
        changed, _ = lines.change(
            command.user_id, command.line_id, switch, actor="api", request_id=request_id
        )
    return changed
