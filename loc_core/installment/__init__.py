"""The installment-loan product: applications, schedules, loans, installments, payments.

The rules, every policy default and a worked example are in ``docs/installment-loans.md``.
"""

from loc_core.installment.allocation import allocate
from loc_core.installment.application import LoanApplication
from loc_core.installment.autopay import stop_autopay_after_return
from loc_core.installment.capacity import largest_installment_bytes, manual_payments
from loc_core.installment.collections import (
    CollectionSkip,
    autopay_amount,
    collection_skip_reason,
)
from loc_core.installment.config import InstallmentProduct
from loc_core.installment.eligibility import Ineligibility, check_eligibility, require_eligible
from loc_core.installment.fees import OriginationFee
from loc_core.installment.installment import (
    WATERFALL,
    Installment,
    LateFeeWaiver,
    PaymentApplication,
)
from loc_core.installment.loan import DAILY_JOB_AT, Loan
from loc_core.installment.origination import check_origination, originate
from loc_core.installment.payment import Payment
from loc_core.installment.schedule import ScheduledInstallment, build_schedule
from loc_core.installment.vocabulary import (
    FeeType,
    InstallmentStatus,
    LoanStatus,
    Process,
    RepaymentCadence,
)

__all__ = [
    "DAILY_JOB_AT",
    "WATERFALL",
    "CollectionSkip",
    "FeeType",
    "Ineligibility",
    "Installment",
    "InstallmentProduct",
    "InstallmentStatus",
    "LateFeeWaiver",
    "Loan",
    "LoanApplication",
    "LoanStatus",
    "OriginationFee",
    "Payment",
    "PaymentApplication",
    "Process",
    "RepaymentCadence",
    "ScheduledInstallment",
    "allocate",
    "autopay_amount",
    "build_schedule",
    "check_eligibility",
    "check_origination",
    "collection_skip_reason",
    "largest_installment_bytes",
    "manual_payments",
    "originate",
    "require_eligible",
    "stop_autopay_after_return",
]
