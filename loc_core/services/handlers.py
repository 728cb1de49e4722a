"""The handler table: every command of both products, each with its one use case.

Entrypoints never call these functions themselves: they build a command and hand it to
the `MessageBus` the bootstrap returns, which injects the ports each handler declares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from loc_core.events import DomainEvent
from loc_core.ports import QueueMessage
from loc_core.services import lines, loans
from loc_core.services.checks import (
    check_acceptance_fits,
    check_leases_outlast_rails,
    check_line_items_fit,
    check_loan_items_fit,
)
from loc_core.services.documents import (
    GetAdverseActionNotice,
    GetApplicationAgreement,
    GetLineApplicationAgreement,
    GetLoanAgreement,
    GetStatementDocument,
    ReadDocument,
    get_adverse_action_notice,
    get_application_agreement,
    get_line_application_agreement,
    get_loan_agreement,
    get_statement_document,
    read_document,
)
from loc_core.services.filing import (
    RENDER_DOCUMENT,
    RenderDocument,
    RenderMissingDocuments,
    file_adverse_action_notice,
    file_statement,
    render_document,
    render_missing_documents,
)
from loc_core.services.job_pages import JOB_PAGE, RunJobPage, run_job_page
from loc_core.services.kit import post_operations_alert
from loc_core.services.messagebus import Command, EventHandler, Handler, StartupCheck
from loc_core.services.moving import BookTakenDebit
from loc_core.services.notifications import (
    RESEND_NOTIFICATION,
    ResendNotification,
    notify_borrower,
    resend_notification,
)
from loc_core.services.queries import (
    GetLine,
    GetLineApplication,
    GetLoan,
    GetLoanApplication,
    ListLineApplications,
    ListLines,
    ListLoanApplications,
    ListLoans,
    ReadAuditTrail,
    ReadProcessAuditTrail,
    ReadUserAuditTrail,
    get_line,
    get_line_application,
    get_loan,
    get_loan_application,
    list_line_applications,
    list_lines,
    list_loan_applications,
    list_loans,
    read_audit_trail,
    read_process_audit_trail,
    read_user_audit_trail,
)
from loc_core.services.reconciling import (
    RECONCILE_PAGE,
    EnqueueReconciliations,
    ListBook,
    enqueue_reconciliations,
    list_book,
)
from loc_core.services.recovery import (
    BookLostTransfer,
    RecoverTransfers,
    SettleTransferByHand,
    book_lost_transfer,
    book_taken_debit,
    recover_transfers,
    settle_transfer_by_hand,
)
from loc_core.services.refund_payouts import RecordRefundPaid, record_refund_paid
from loc_core.services.settlement import SettleTransfer, handle_settlement_event

__all__ = ["EVENT_HANDLERS", "HANDLERS", "MESSAGES", "STARTUP_CHECKS"]

HANDLERS: Mapping[type[Command[Any]], Handler] = {
    # installment loans
    loans.CheckEligibility: loans.check_loan_eligibility,
    loans.ApplyForLoan: loans.apply_for_loan,
    loans.AcceptOffer: loans.accept_offer,
    loans.AbandonExpiredApplication: loans.abandon_expired_application,
    loans.SetAutopay: loans.set_autopay,
    loans.MakePayment: loans.make_payment,
    loans.BookBackdatedLoanPayment: loans.book_backdated_payment,
    loans.WaiveLateFee: loans.waive_late_fee,
    GetLoan: get_loan,
    ListLoans: list_loans,
    GetLoanApplication: get_loan_application,
    ListLoanApplications: list_loan_applications,
    ResendNotification: resend_notification,
    loans.GetPaymentReceipt: loans.get_payment_receipt,
    loans.EnqueueDueInstallments: loans.enqueue_due_installments,
    loans.CollectInstallment: loans.collect_installment,
    loans.RunDailyLoanJob: loans.run_daily_loan_job,
    loans.ReconcileLoan: loans.reconcile_loan,
    # lines of credit
    lines.ApplyForLine: lines.apply_for_line,
    lines.AcceptLineOffer: lines.accept_line_offer,
    lines.AbandonExpiredLineApplication: lines.abandon_expired_line_application,
    lines.DrawFromLine: lines.draw_from_line,
    lines.PayLine: lines.pay_line,
    lines.BookBackdatedLinePayment: lines.book_backdated_line_payment,
    lines.BookBackdatedDraw: lines.book_backdated_draw,
    GetLine: get_line,
    ListLines: list_lines,
    GetLineApplication: get_line_application,
    ListLineApplications: list_line_applications,
    lines.GetLinePaymentReceipt: lines.get_line_payment_receipt,
    lines.ListLineStatements: lines.list_line_statements,
    lines.GetLineStatement: lines.get_line_statement,
    lines.BillClosedCycles: lines.bill_closed_cycles,
    lines.SendUpcomingNotices: lines.send_upcoming_payment_notices,
    lines.CollectDueMinimums: lines.collect_due_minimum_payments,
    lines.MarkOverdueLines: lines.mark_overdue_lines,
    lines.ReconcileLine: lines.reconcile_line,
    lines.CloseLine: lines.close_credit_line,
    lines.SetLineAutopay: lines.set_line_autopay,
    lines.DisputeBillingError: lines.dispute_billing_error,
    lines.ResolveBillingDispute: lines.resolve_billing_dispute,
    lines.WaiveLineLateFee: lines.waive_line_late_fee,
    # both: the rails' settlement events, finishing what a dead process left open, and
    # the reconciliation job's pages, and the other jobs' pages handed on
    SettleTransfer: handle_settlement_event,
    RecoverTransfers: recover_transfers,
    SettleTransferByHand: settle_transfer_by_hand,
    BookTakenDebit: book_taken_debit,
    BookLostTransfer: book_lost_transfer,
    EnqueueReconciliations: enqueue_reconciliations,
    ListBook: list_book,
    RunJobPage: run_job_page,
    ReadAuditTrail: read_audit_trail,
    # documents: links to a statement's PDF or a loan's agreement, and the bytes
    GetStatementDocument: get_statement_document,
    GetApplicationAgreement: get_application_agreement,
    GetLoanAgreement: get_loan_agreement,
    GetLineApplicationAgreement: get_line_application_agreement,
    GetAdverseActionNotice: get_adverse_action_notice,
    ReadDocument: read_document,
    RenderMissingDocuments: render_missing_documents,
    RenderDocument: render_document,
    ReadUserAuditTrail: read_user_audit_trail,
    ReadProcessAuditTrail: read_process_audit_trail,
    # both: an operator records a refund due paid out (the payment names its loan or line)
    RecordRefundPaid: record_refund_paid,
}
"""Exactly one handler per command."""

EVENT_HANDLERS: Mapping[type[DomainEvent], Sequence[EventHandler]] = {
    DomainEvent: (
        file_statement,
        file_adverse_action_notice,
        notify_borrower,
        post_operations_alert,
    ),
}
"""What a committed domain event goes to, in order: a statement's PDF, and a rejected
application's adverse action notice, is stored before the borrower is told; an operations
alert committed with a change is posted (each handler acts on its own events and ignores
the rest)."""

MESSAGES: Mapping[str, Callable[[QueueMessage], Command[Any]]] = {
    loans.COLLECT_INSTALLMENT: loans.CollectInstallment.from_message,
    RESEND_NOTIFICATION: ResendNotification.from_message,
    RENDER_DOCUMENT: RenderDocument.from_message,
    loans.RECONCILE_LOAN: loans.ReconcileLoan.from_message,
    lines.RECONCILE_LINE: lines.ReconcileLine.from_message,
    RECONCILE_PAGE: EnqueueReconciliations.from_message,
    JOB_PAGE: RunJobPage.from_message,
}
"""How a queue message of each kind becomes its command."""

STARTUP_CHECKS: Sequence[StartupCheck] = (
    check_acceptance_fits,
    check_leases_outlast_rails,
    check_line_items_fit,
    check_loan_items_fit,
)
"""What the bus checks once when it is built (`loc_core.services.checks`)."""
