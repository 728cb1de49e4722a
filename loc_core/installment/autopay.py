"""What a returned debit does to a loan's autopay (the rule is `loc_core.returns`).

A return whose reason forbids presenting the debit again (unauthorized or revoked, an
account that cannot be debited, an unknown reason) turns the loan's autopay off in the
same change that reverses the payment, so no crash can leave the one without the other;
the borrower is told (``autopay_stopped``). An NSF return leaves autopay on: the
collections worker's attempt limit bounds the re-presentments.
"""

from __future__ import annotations

import datetime as dt

from loc_core.events import DomainEvent, EventType
from loc_core.installment.loan import Loan
from loc_core.payments import SettlementOutcome
from loc_core.returns import (
    AutopayStop,
    autopay_stop_reason,
    autopay_stopped_data,
    classify_return,
)

__all__ = ["stop_autopay_after_return"]


def stop_autopay_after_return(
    loan: Loan,
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
        InvalidTimestamp: for a `today` before the loan's disbursement.
    """
    kind = classify_return(outcome, return_code)
    if not kind.stops_autopay:
        return AutopayStop(kind, stopped=False)
    reason = autopay_stop_reason(kind, return_code, payment_id)
    if not loan.set_autopay(False, today=today, reason=reason):
        return AutopayStop(kind, stopped=False)
    data = autopay_stopped_data(kind, return_code, payment_id, loan_id=loan.loan_id)
    loan.outbox.events.append(
        DomainEvent(EventType.AUTOPAY_STOPPED, loan.user_id, loan.loan_id, today, data)
    )
    return AutopayStop(kind, stopped=True)
