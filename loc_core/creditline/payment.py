"""A borrower's payment on a line and exactly what it paid, bucket by bucket."""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core import audit
from loc_core.creditline.balances import Balances
from loc_core.events import AuditValue
from loc_core.payments import PaymentStatus, Rail
from loc_core.refunds import RefundDue, refund_audit

__all__ = ["LocPayment"]

_NOT_AUDITED = frozenset({"refund"})


@attrs.define(kw_only=True)
class LocPayment:
    """A borrower's payment on a line and exactly what it paid, bucket by bucket."""

    payment_id: str
    line_id: str
    user_id: str
    amount: int
    rail: Rail
    submitted_on: dt.date
    statement_date: dt.date | None
    """The statement whose minimum the payment counted toward (None: before the first)."""
    paid_fees: int
    paid_interest: int
    paid_principal: int
    minimum_covered: int
    """How much of the minimum then outstanding it paid: owed again if returned later."""
    status: PaymentStatus = PaymentStatus.PENDING
    settled_on: dt.date | None = None
    """When it completed, or was returned or charged back."""
    refund: RefundDue | None = None
    """The part of `amount` the line did not owe, owed back to the borrower."""
    sequence: int = 0
    """Its place among the line's draws and payments, in the order they were booked
    (`LineState.money_events`): a replay books a day's draws and payments in this order."""
    after_overdue_job: bool = False
    """Booked on its day after the overdue job had changed the line that day (a late fee,
    past due, cured): a replay books it after that day's job, as it happened."""
    payoff_past_bound: bool = False
    """A borrower's payment of everything the line owed, booked with its cycle already
    holding `max_movements_per_cycle` draws and payments: the one payment a cycle the
    bound lets pass (``loc_core.creditline.capacity``), so a borrower can always pay off."""

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("payment", self.payment_id)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered."""
        return audit.rendered(*self.audit_fields())

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values: all but `refund`, then the refund's."""
        names, values = audit.fields(self, skip=_NOT_AUDITED)
        refund_names, refund_values = refund_audit(self.refund)
        return names + refund_names, values + refund_values

    @property
    def applied_amount(self) -> int:
        """What the payment paid on the line: `amount` less any refund due."""
        return self.paid_fees + self.paid_interest + self.paid_principal

    @property
    def applied(self) -> Balances:
        """The buckets the payment reduced."""
        return Balances(self.paid_principal, self.paid_interest, self.paid_fees)
