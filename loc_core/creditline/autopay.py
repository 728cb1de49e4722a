"""A line's autopay: the borrower's setting, and what a returned debit does to it.

The borrower turns autopay on or off (`set_autopay`, `CreditLine.set_autopay`), as for a
loan: audited (process AUTOPAY_SETTING), and asking for the setting the line already has
changes and records nothing. A CLOSED line's setting cannot be changed at all (nothing is
owed, the due job never looks at it); a DEFAULTED (charged-off) line's autopay can be
turned off but not on, as a defaulted loan's: the due job debits neither.

What a returned debit does (the rule is `loc_core.returns`): a return whose reason
forbids presenting the debit again (unauthorized or revoked, an account that cannot be
debited, an unknown reason) turns the line's autopay off in the same change that reverses
the payment, so no crash can leave the one without the other; the borrower is told
(``autopay_stopped``) and the due job debits the line no more (`decide_due`) until the
borrower turns it on again. An NSF return leaves autopay on.
"""

from __future__ import annotations

import datetime as dt

from loc_core.creditline._bookkeeping import Process, emit, require_in_order, step
from loc_core.creditline._state import LineState
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import DomainError, InvalidTransition
from loc_core.events import EventType
from loc_core.payments import SettlementOutcome
from loc_core.returns import (
    AutopayStop,
    autopay_stop_reason,
    autopay_stopped_data,
    classify_return,
)

__all__ = ["set_autopay", "stop_autopay_after_return"]


def set_autopay(line: LineState, enabled: bool, *, on: dt.date, reason: str) -> bool:  # noqa: FBT001 - the setting itself, not a mode switch
    """The rule of `CreditLine.set_autopay` (documented there)."""
    if not isinstance(enabled, bool):
        raise DomainError(f"enabled must be a bool, got {enabled!r}", key="enabled")
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError(f"reason must be a non-empty string, got {reason!r}", key="reason")
    if line.status is LineStatus.CLOSED:
        raise InvalidTransition(
            f"line {line.line_id} is CLOSED: its autopay cannot be changed", about=line
        )
    if enabled == line.autopay_enabled:
        return False
    if enabled and line.status is LineStatus.DEFAULTED:
        raise InvalidTransition(
            f"line {line.line_id} is DEFAULTED: autopay cannot be turned on", about=line
        )
    require_in_order(line, on)
    with step(line, on, process=Process.AUTOPAY_SETTING, reason=reason):
        line.autopay_enabled = enabled
    return True


def stop_autopay_after_return(
    line: LineState,
    *,
    payment_id: str,
    outcome: SettlementOutcome,
    return_code: str,
    today: dt.date,
) -> AutopayStop:
    """Turn autopay off when payment `payment_id`'s return forbids debiting again.

    Audited (process AUTOPAY_SETTING, the reason naming the payment and code) and told
    to the borrower once: autopay already off changes and tells nothing.

    Raises:
        ValueError: for a COMPLETED outcome (not a return).
        OutOfOrder: `today` is before the line's latest activity.
    """
    kind = classify_return(outcome, return_code)
    if not kind.stops_autopay or not line.autopay_enabled:
        return AutopayStop(kind, stopped=False)
    require_in_order(line, today)
    reason = autopay_stop_reason(kind, return_code, payment_id)
    with step(line, today, process=Process.AUTOPAY_SETTING, reason=reason):
        line.autopay_enabled = False
    emit(
        line,
        EventType.AUTOPAY_STOPPED,
        subject_id=line.line_id,
        on=today,
        data=autopay_stopped_data(kind, return_code, payment_id, line_id=line.line_id),
    )
    return AutopayStop(kind, stopped=True)
