"""What an installment loan holds: its terms, balances, installments and payments.

`Loan` (in `loan`) adds the commands to this state; the invariants (`_invariants`) take
the state, so neither the rules nor the aggregate import each other in a cycle.
"""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal

import attrs

from loc_core import audit
from loc_core.errors import NotFound, Ref
from loc_core.events import AuditValue, Outbox
from loc_core.installment.config import InstallmentProduct
from loc_core.installment.installment import WATERFALL, Installment
from loc_core.installment.payment import Payment
from loc_core.installment.vocabulary import (
    FeeType,
    InstallmentStatus,
    LoanStatus,
    RepaymentCadence,
)
from loc_core.ledger import Bucket
from loc_core.payments import Rail

__all__ = ["LoanState"]

_AUDITED = (
    "application_id",
    "loan_number",
    "loan_amount",
    "origination_fee",
    "fee_type",
    "fee_percent",
    "total_amount",
    "amount_disbursed",
    "outstanding_balance",
    "status",
    "repayment_cadence",
    "disbursement_date",
    "disbursement_method",
    "confirmation_id",
    "account_last_four",
    "completion_date",
    "defaulted_on",
    "autopay_enabled",
    "late_fees_assessed",
)
"""A loan's audited fields, in the order they are stored."""
_read_audited = operator.attrgetter(*_AUDITED)

# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_LOAN_CANCELLED, _LOAN_DEFAULTED = LoanStatus.CANCELLED, LoanStatus.DEFAULTED
_CANCELLED, _COMPLETED, _DEFAULTED, _OVERDUE, _SCHEDULED = (
    InstallmentStatus.CANCELLED,
    InstallmentStatus.COMPLETED,
    InstallmentStatus.DEFAULTED,
    InstallmentStatus.OVERDUE,
    InstallmentStatus.SCHEDULED,
)


@attrs.define(kw_only=True)
class LoanState:
    """An installment loan (``LOAN#``) as data: it owns its installments and payments."""

    user_id: str
    loan_id: str
    application_id: str
    loan_number: str
    loan_amount: int
    """Principal in cents."""
    origination_fee: int
    fee_type: FeeType
    fee_percent: Decimal | None
    total_amount: int
    """loan_amount + origination_fee: what the schedule repays (late fees come on top)."""
    amount_disbursed: int
    outstanding_balance: int
    """What is still owed, late fees included: the sum of the installments' balances."""
    status: LoanStatus = LoanStatus.OPEN
    repayment_cadence: RepaymentCadence
    disbursement_date: dt.date
    disbursement_method: Rail
    confirmation_id: str
    """The disbursement's confirmation id from the payments service."""
    account_last_four: str | None = None
    completion_date: dt.date | None = None
    """The day the loan was paid in full; cleared if that payment is returned. A CANCELLED
    loan's is its disbursement date, the day it is void as of."""
    defaulted_on: dt.date | None = None
    """The day the loan defaulted; kept after payoff so a return reopens it as DEFAULTED."""
    autopay_enabled: bool
    daily_job_changed_on: dt.date | None = None
    """The last business date the daily job changed the loan (an installment made overdue
    with its late fee, or the loan defaulted): a payment booked that day after it is
    replayed after that day's job (`Payment.after_daily_job`)."""
    charge_off_entries: int = 0
    """How many charge-off entries the daily job posted when it defaulted the loan: a
    correction can undo a default and a return reversed as of today bring it back, and
    each default posts its own entry (``<installment>:default``, then
    ``<installment>:default:2``: `bookkeeping.entry_id`). Kept by corrections."""
    product: InstallmentProduct
    """The terms the loan was made under (grace, late fees, default)."""
    installments: list[Installment]
    """In due-date order."""
    payments: dict[str, Payment] = attrs.field(factory=dict)
    """Every payment ever applied, by id, reversed ones included."""
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = 0
    outbox: Outbox = attrs.field(factory=Outbox)

    # --- queries ----------------------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        """Whether the disbursement came back and the loan is void (CANCELLED)."""
        return self.status is _LOAN_CANCELLED

    @property
    def late_fees_assessed(self) -> int:
        """All late fees ever charged on the loan (they stay charged when paid)."""
        return sum(installment.late_fee for installment in self.installments)

    @property
    def refunds_due(self) -> int:
        """What the loan owes its borrower back: the refunds due not cancelled.

        Equal to minus the balance of the loan's ``refund_due`` ledger account.
        """
        return sum(self.refunds_due_by_payment().values())

    def refunds_due_by_payment(self) -> dict[str, int]:
        """Each payment's refund due (not cancelled), by payment id."""
        return {
            payment.payment_id: payment.refund.amount
            for payment in self.payments.values()
            if payment.refund is not None and payment.refund.is_due
        }

    def bucket_balances(self) -> dict[Bucket, int]:
        """What is still owed per ledger bucket; equal to the loan's receivable balances."""
        totals = [0, 0, 0]
        for installment in self.installments:
            for index, unpaid in enumerate(installment.unpaid_parts()):
                totals[index] += unpaid
        return dict(zip(WATERFALL, totals, strict=True))

    def installment(self, installment_id: str) -> Installment:
        """The installment with `installment_id`.

        Raises:
            NotFound: when the loan has no such installment.
        """
        for installment in self.installments:
            if installment.installment_id == installment_id:
                return installment
        raise NotFound(
            f"loan {self.loan_id} has no installment {installment_id}",
            about=Ref("installment", installment_id, self.user_id),
        )

    def settled_status(self, installment: Installment) -> InstallmentStatus:
        """The status an installment's balance, history and loan call for."""
        if self.status is _LOAN_CANCELLED:
            return _CANCELLED
        if installment.outstanding_balance == 0:  # `is_paid`, without its call: every check asks
            return _COMPLETED
        if self.status is _LOAN_DEFAULTED:
            return _DEFAULTED
        if installment.overdue_on is not None:
            return _OVERDUE
        return _SCHEDULED

    # --- audit ------------------------------------------------------------------------

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("loan", self.loan_id)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered."""
        return audit.rendered(*self.audit_fields())

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values."""
        return _AUDITED, _read_audited(self)
