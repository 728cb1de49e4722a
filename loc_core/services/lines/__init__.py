"""Credit-line use cases: the seed's ``creditline`` handlers and jobs over the ports.

Each function takes a command (or, for a scheduled job, nothing but the clock's date) and
the ports it needs as keyword-only arguments. The rules, schedules, idempotency and
failure behaviour of each are in ``docs/services-lines.md``.
"""

from loc_core.services.lines._unit import LineWriter
from loc_core.services.lines.accepting import AcceptLineOffer, accept_line_offer
from loc_core.services.lines.applying import (
    ApplyForLine,
    LineIneligibility,
    apply_for_line,
    line_eligibility,
)
from loc_core.services.lines.autopay import SetLineAutopay, set_line_autopay
from loc_core.services.lines.backdating import (
    BookBackdatedDraw,
    BookBackdatedLinePayment,
    book_backdated_draw,
    book_backdated_line_payment,
)
from loc_core.services.lines.billing import (
    BILLING_CATCH_UP_DAYS,
    BillClosedCycles,
    bill_closed_cycles,
)
from loc_core.services.lines.closing import CloseLine, close_credit_line
from loc_core.services.lines.disputes import (
    DisputeBillingError,
    ResolveBillingDispute,
    dispute_billing_error,
    dispute_id_for,
    resolve_billing_dispute,
)
from loc_core.services.lines.drawing import (
    RTP_DISBURSEMENTS_FLAG,
    DrawFromLine,
    DrawTransfer,
    draw_from_line,
    draw_id_for,
    parse_draw_transfer,
)
from loc_core.services.lines.due import (
    DUE_CATCH_UP_DAYS,
    CollectDueMinimums,
    collect_due_minimum_payments,
    due_payment_id,
    due_run_key,
)
from loc_core.services.lines.expiring import (
    AbandonExpiredLineApplication,
    abandon_expired_line_application,
)
from loc_core.services.lines.fee_waiver import (
    LINE_FEE_WAIVER_TOO_OLD,
    LineLateFeeWaived,
    WaiveLineLateFee,
    waive_line_late_fee,
)
from loc_core.services.lines.jobs import JobReport
from loc_core.services.lines.overdue import MarkOverdueLines, mark_overdue_lines
from loc_core.services.lines.paying import DEBIT_LOCK_PROCESS, PayLine, pay_line
from loc_core.services.lines.receipts import (
    GetLinePaymentReceipt,
    LinePaymentReceipt,
    get_line_payment_receipt,
)
from loc_core.services.lines.reconciliation import (
    RECONCILE_LINE,
    LineReconciliation,
    ReconcileLine,
    reconcile_line,
)
from loc_core.services.lines.settling import handle_line_settlement
from loc_core.services.lines.statements import (
    GetLineStatement,
    ListLineStatements,
    get_line_statement,
    list_line_statements,
)
from loc_core.services.lines.upcoming import SendUpcomingNotices, send_upcoming_payment_notices

__all__ = [
    "BILLING_CATCH_UP_DAYS",
    "DEBIT_LOCK_PROCESS",
    "DUE_CATCH_UP_DAYS",
    "LINE_FEE_WAIVER_TOO_OLD",
    "RECONCILE_LINE",
    "RTP_DISBURSEMENTS_FLAG",
    "AbandonExpiredLineApplication",
    "AcceptLineOffer",
    "ApplyForLine",
    "BillClosedCycles",
    "BookBackdatedDraw",
    "BookBackdatedLinePayment",
    "CloseLine",
    "CollectDueMinimums",
    "DisputeBillingError",
    "DrawFromLine",
    "DrawTransfer",
    "GetLinePaymentReceipt",
    "GetLineStatement",
    "JobReport",
    "LineIneligibility",
    "LineLateFeeWaived",
    "LinePaymentReceipt",
    "LineReconciliation",
    "LineWriter",
    "ListLineStatements",
    "MarkOverdueLines",
    "PayLine",
    "ReconcileLine",
    "ResolveBillingDispute",
    "SendUpcomingNotices",
    "SetLineAutopay",
    "WaiveLineLateFee",
    "abandon_expired_line_application",
    "accept_line_offer",
    "apply_for_line",
    "bill_closed_cycles",
    "book_backdated_draw",
    "book_backdated_line_payment",
    "close_credit_line",
    "collect_due_minimum_payments",
    "dispute_billing_error",
    "dispute_id_for",
    "draw_from_line",
    "draw_id_for",
    "due_payment_id",
    "due_run_key",
    "get_line_payment_receipt",
    "get_line_statement",
    "handle_line_settlement",
    "line_eligibility",
    "list_line_statements",
    "mark_overdue_lines",
    "parse_draw_transfer",
    "pay_line",
    "reconcile_line",
    "resolve_billing_dispute",
    "send_upcoming_payment_notices",
    "set_line_autopay",
    "waive_line_late_fee",
]
