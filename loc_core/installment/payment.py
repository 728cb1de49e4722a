"""A borrower's repayment of an installment loan, and exactly what it paid.

Balances change when a payment is submitted (PENDING). The payment keeps, per
installment and bucket, what it applied, so a return or chargeback can take back exactly
that and nothing else. Money a rail took beyond what the loan owed is its `refund`.
"""

from __future__ import annotations

import datetime as dt
import operator

import attrs

from loc_core import audit
from loc_core.events import AuditValue
from loc_core.installment.installment import WATERFALL, PaymentApplication
from loc_core.installment.vocabulary import Process
from loc_core.ledger import Bucket
from loc_core.payments import PaymentStatus, Rail
from loc_core.refunds import RefundDue, refund_audit

__all__ = ["Payment"]

_READ = ("loan_id", "amount", "process", "rail", "submitted_on", "status", "settled_on")
_read_audited = operator.attrgetter(*_READ)
_AUDITED = (*_READ, "applications")
"""A payment's audited fields but its refund's, in the order they are stored."""


@attrs.define(kw_only=True)
class Payment:
    """One repayment submitted on a loan and what became of it."""

    payment_id: str
    user_id: str
    loan_id: str
    amount: int
    process: Process
    """AUTOPAY or MANUAL."""
    rail: Rail
    """ACH (can be RETURNED) or PINLESS (can be CHARGED_BACK)."""
    submitted_on: dt.date
    applications: tuple[PaymentApplication, ...]
    """What it paid, per installment and bucket; with `refund`, they add up to `amount`."""
    status: PaymentStatus = PaymentStatus.PENDING
    settled_on: dt.date | None = None
    """The day the rail reported the outcome that set `status`."""
    refund: RefundDue | None = None
    """The part of `amount` the loan did not owe, owed back to the borrower."""
    after_daily_job: bool = False
    """Booked on its day after the daily job had changed the loan that day (made an
    installment overdue with its late fee, or defaulted the loan): a replay books it
    after that day's job, as it happened, not before."""
    version: int = 0

    @property
    def applied_amount(self) -> int:
        """What the payment paid on the loan: `amount` less any refund due."""
        return sum(app.amount for app in self.applications)

    def bucket_totals(self) -> dict[Bucket, int]:
        """What the payment paid into each bucket, over all installments."""
        return {bucket: sum(app.part(bucket) for app in self.applications) for bucket in WATERFALL}

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("payment", self.payment_id)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered."""
        return audit.rendered(*self.audit_fields())

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values (applications as ``installment=amount`` pairs)."""
        applications = ",".join(f"{app.installment_id}={app.amount}" for app in self.applications)
        refund_names, refund_values = refund_audit(self.refund)
        return _AUDITED + refund_names, (*_read_audited(self), applications, *refund_values)
