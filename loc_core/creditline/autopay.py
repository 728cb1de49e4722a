"""What a returned debit does to a line's autopay, the due job (the rule is `loc_core.returns`).

A return whose reason forbids presenting the debit again (unauthorized or revoked, an
account that cannot be debited, an unknown reason) turns the line's autopay off in the
same change that reverses the payment, so no crash can leave the one without the other;
the borrower is told (``autopay_stopped``) and the due job debits the line no more
(`decide_due`). An NSF return leaves autopay on.
"""

from __future__ import annotations

import datetime as dt

from loc_core.creditline._bookkeeping import Process, emit, require_in_order, step
from loc_core.creditline._state import LineState
from loc_core.events import EventType
from loc_core.payments import SettlementOutcome
from loc_core.returns import (
    AutopayStop,
    autopay_stop_reason,
    autopay_stopped_data,
    classify_return,
)

__all__ = ["stop_autopay_after_return"]


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
