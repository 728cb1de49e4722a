"""Installment-loan use cases: the original service's API handlers, jobs and workers.

Each is a function taking a command (a frozen attrs value) and its ports as keyword-only
arguments; ``docs/services-loans.md`` says what each replaces, when it runs, how it stays
idempotent and how it fails.
"""

from loc_core.services.loans.applications import ApplyForLoan, apply_for_loan
from loc_core.services.loans.autopay import SetAutopay, set_autopay
from loc_core.services.loans.backdated import (
    BookBackdatedLoanPayment,
    backdated_payment_id,
    book_backdated_payment,
)
from loc_core.services.loans.collections_job import (
    EnqueueDueInstallments,
    enqueue_due_installments,
)
from loc_core.services.loans.collections_worker import (
    COLLECT_INSTALLMENT,
    CollectInstallment,
    CollectionOutcome,
    CollectionResult,
    autopay_payment_id,
    collect_installment,
)
from loc_core.services.loans.daily import DailyJobResult, RunDailyLoanJob, run_daily_loan_job
from loc_core.services.loans.disbursement import (
    DISBURSEMENT_RAILS,
    AcceptOffer,
    accept_offer,
    disbursement_key,
)
from loc_core.services.loans.eligibility import (
    CheckEligibility,
    Eligibility,
    check_loan_eligibility,
)
from loc_core.services.loans.expiration import (
    AbandonExpiredApplication,
    ExpirationOutcome,
    abandon_expired_application,
)
from loc_core.services.loans.fee_waiver import (
    FEE_WAIVER_TOO_OLD,
    LateFeeWaived,
    WaiveLateFee,
    waive_late_fee,
)
from loc_core.services.loans.payments import (
    PAYMENT_LEASE,
    MakePayment,
    make_payment,
    manual_payment_id,
    payment_lease_key,
)
from loc_core.services.loans.receipts import (
    GetPaymentReceipt,
    PaymentReceipt,
    ReceiptLine,
    get_payment_receipt,
    receipt,
)
from loc_core.services.loans.reconciliation import (
    RECONCILE_LOAN,
    ReconcileLoan,
    Reconciliation,
    reconcile_loan,
)
from loc_core.services.loans.settlement import settle_payment

__all__ = [
    "COLLECT_INSTALLMENT",
    "DISBURSEMENT_RAILS",
    "FEE_WAIVER_TOO_OLD",
    "PAYMENT_LEASE",
    "RECONCILE_LOAN",
    "AbandonExpiredApplication",
    "AcceptOffer",
    "ApplyForLoan",
    "BookBackdatedLoanPayment",
    "CheckEligibility",
    "CollectInstallment",
    "CollectionOutcome",
    "CollectionResult",
    "DailyJobResult",
    "Eligibility",
    "EnqueueDueInstallments",
    "ExpirationOutcome",
    "GetPaymentReceipt",
    "LateFeeWaived",
    "MakePayment",
    "PaymentReceipt",
    "ReceiptLine",
    "ReconcileLoan",
    "Reconciliation",
    "RunDailyLoanJob",
    "SetAutopay",
    "WaiveLateFee",
    "abandon_expired_application",
    "accept_offer",
    "apply_for_loan",
    "autopay_payment_id",
    "backdated_payment_id",
    "book_backdated_payment",
    "check_loan_eligibility",
    "collect_installment",
    "disbursement_key",
    "enqueue_due_installments",
    "get_payment_receipt",
    "make_payment",
    "manual_payment_id",
    "payment_lease_key",
    "receipt",
    "reconcile_loan",
    "run_daily_loan_job",
    "set_autopay",
    "settle_payment",
    "waive_late_fee",
]
