"""The line-of-credit product: applications, lines, draws, billing, statements, payments.

Entities are `attrs` classes changed only by the command functions re-exported here; each
command validates everything first, so an error leaves the line exactly as it was, and
records its audit `Change`s, journal entries and events in the line's `outbox`.
The rules and every policy default are in ``docs/credit-lines.md``.
"""

from loc_core.creditline._bookkeeping import Process
from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.application import (
    CreditLineApplication,
    abandon_application,
    open_line,
)
from loc_core.creditline.balances import Balances
from loc_core.creditline.billing import bill_cycle
from loc_core.creditline.closing import close_line
from loc_core.creditline.collections import (
    DueDecision,
    OverdueDecision,
    UpcomingDecision,
    billing_is_current,
    decide_due,
    decide_overdue,
    decide_upcoming,
    run_overdue,
    send_upcoming_notice,
)
from loc_core.creditline.config import LATEST_CYCLE_DAY, CreditLineProduct
from loc_core.creditline.cycles import cycle_day_for, due_date_for, next_close_after
from loc_core.creditline.delinquency import (
    days_past_due,
    first_late_day,
    overdue_watch_from,
    past_due_amount,
)
from loc_core.creditline.draws import (
    Draw,
    DrawStatus,
    disburse_draw,
    fail_draw,
    record_rail_decline,
    request_draw,
)
from loc_core.creditline.line import CreditLine
from loc_core.creditline.payments import LocPayment, settle_payment, submit_payment
from loc_core.creditline.rails import DISBURSEMENT_RAILS, REPAYMENT_RAILS, next_rail
from loc_core.creditline.statement import Statement
from loc_core.creditline.status import LineStatus

__all__ = [
    "DISBURSEMENT_RAILS",
    "LATEST_CYCLE_DAY",
    "REPAYMENT_RAILS",
    "ActivityKind",
    "Balances",
    "CreditLine",
    "CreditLineApplication",
    "CreditLineProduct",
    "CycleActivity",
    "Draw",
    "DrawStatus",
    "DueDecision",
    "LineStatus",
    "LocPayment",
    "OverdueDecision",
    "Process",
    "Statement",
    "UpcomingDecision",
    "abandon_application",
    "bill_cycle",
    "billing_is_current",
    "close_line",
    "cycle_day_for",
    "days_past_due",
    "decide_due",
    "decide_overdue",
    "decide_upcoming",
    "disburse_draw",
    "due_date_for",
    "fail_draw",
    "first_late_day",
    "next_close_after",
    "next_rail",
    "open_line",
    "overdue_watch_from",
    "past_due_amount",
    "record_rail_decline",
    "request_draw",
    "run_overdue",
    "send_upcoming_notice",
    "settle_payment",
    "submit_payment",
]
