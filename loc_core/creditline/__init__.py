"""The line-of-credit product: applications, lines, draws, billing, statements, payments.

`CreditLine` is the aggregate root: its methods are the commands (`request_draw`,
`submit_payment`, `bill_cycle`, `run_overdue`, ...); each validates everything first, so
an error leaves the line exactly as it was, and records its audit `Change`s, journal
entries and events in the line's `outbox`. A `CreditLineApplication` becomes a line by
`open_line`. The rules and every policy default are in ``docs/credit-lines.md``.
"""

from loc_core.audit import Process
from loc_core.creditline.activity import ActivityKind, CycleActivity
from loc_core.creditline.application import CreditLineApplication
from loc_core.creditline.autopay import stop_autopay_after_return
from loc_core.creditline.balances import Balances
from loc_core.creditline.capacity import (
    largest_root_bytes,
    largest_statement_bytes,
    movements_in_cycle,
)
from loc_core.creditline.collections import (
    OVERDUE_JOB_AT,
    DueDecision,
    OverdueDecision,
    UpcomingDecision,
)
from loc_core.creditline.config import LATEST_CYCLE_DAY, CreditLineProduct
from loc_core.creditline.cycles import cycle_day_for, due_date_for, next_close_after
from loc_core.creditline.dispute import (
    BillingDispute,
    DisputedCharge,
    DisputeStatus,
    credited_errors,
)
from loc_core.creditline.draw import Draw, DrawStatus
from loc_core.creditline.line import CreditLine
from loc_core.creditline.payment import LocPayment
from loc_core.creditline.rails import DISBURSEMENT_RAILS, next_rail
from loc_core.creditline.statement import Statement
from loc_core.creditline.vocabulary import LineStatus
from loc_core.creditline.waiver import LineLateFeeWaiver
from loc_core.payments import REPAYMENT_RAILS

__all__ = [
    "DISBURSEMENT_RAILS",
    "LATEST_CYCLE_DAY",
    "OVERDUE_JOB_AT",
    "REPAYMENT_RAILS",
    "ActivityKind",
    "Balances",
    "BillingDispute",
    "CreditLine",
    "CreditLineApplication",
    "CreditLineProduct",
    "CycleActivity",
    "DisputeStatus",
    "DisputedCharge",
    "Draw",
    "DrawStatus",
    "DueDecision",
    "LineLateFeeWaiver",
    "LineStatus",
    "LocPayment",
    "OverdueDecision",
    "Process",
    "Statement",
    "UpcomingDecision",
    "credited_errors",
    "cycle_day_for",
    "due_date_for",
    "largest_root_bytes",
    "largest_statement_bytes",
    "movements_in_cycle",
    "next_close_after",
    "next_rail",
    "stop_autopay_after_return",
]
