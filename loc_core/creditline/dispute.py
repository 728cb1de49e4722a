"""A billing-error notice on a line (Regulation Z 1026.13) and where it stands.

The entity only: which charge of which statement the borrower asserted is wrong (a draw,
the cycle's late fee or its interest charge, as 1026.13(a) notices name the type, date
and amount), the amount, their words, the day the lender received it, the deadline to
resolve it, and how it was resolved. The rules that open and resolve one, and what an
open dispute holds back from collection, are in `disputes`; an error found is credited
as an effective-dated correction (`correcting.credit_billing_error`;
docs/credit-lines.md, *Billing errors*).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping

import attrs

from loc_core import audit
from loc_core.events import AuditValue

__all__ = ["BillingDispute", "DisputeStatus", "DisputedCharge", "credited_errors"]


class DisputeStatus(enum.Enum):
    """Where a billing-error dispute stands; the values are the stored strings."""

    OPEN = "OPEN"
    """Received and acknowledged: the disputed amount is held back from collection."""
    RESOLVED_ERROR = "RESOLVED_ERROR"
    """The error was found: the amount is credited as of the charge's own date."""
    RESOLVED_NO_ERROR = "RESOLVED_NO_ERROR"
    """No error: explained to the borrower, the amount owed again from `owed_again_on`."""


class DisputedCharge(enum.Enum):
    """The kind of charge a dispute names; the values are the stored (and API) strings."""

    DRAW = "draw"
    """A draw listed on the statement, named by its id: effective on the day it was sent."""
    LATE_FEE = "late_fee"
    """The late fee the statement's cycle charged: effective on the day it was assessed."""
    INTEREST = "interest"
    """The statement's interest charge: effective on the statement (cycle close) date."""


@attrs.define(kw_only=True)
class BillingDispute:
    """A borrower's written notice of a billing error on one charge of one statement."""

    dispute_id: str
    line_id: str
    user_id: str
    statement_date: dt.date
    """The statement that first showed the error."""
    charge: DisputedCharge
    charge_ref: str
    """Which charge: the draw's id, the late fee's reference on the statement (its entry
    id), or the statement date (ISO) for the interest charge."""
    charge_on: dt.date
    """The charge's own date: an error found is credited as of it."""
    amount: int
    """The disputed cents: positive, at most the charge less earlier disputes on it."""
    description: str
    """The borrower's words: what is wrong and why."""
    received_on: dt.date
    """The business date the lender received the notice."""
    after_overdue_job: bool = False
    """Whether the notice was received after the overdue job had changed the line on
    `received_on`: the hold then starts after that day's job, in every replay too
    (`replay.replay_line`), so a late fee the job charged before the notice stays
    charged, as it happened (the rule `LocPayment.after_overdue_job` follows)."""
    resolve_by: dt.date
    """The last day to resolve it: two complete billing cycles, never more than 90 days,
    and never after the correction reach from `charge_on` ends."""
    status: DisputeStatus = DisputeStatus.OPEN
    resolved_on: dt.date | None = None
    explanation: str = ""
    """What the lender told the borrower when it resolved the dispute."""
    credited: int = 0
    """RESOLVED_ERROR: the cents the correction gave the borrower: what the line owed less
    after it, plus the credit balance it added (refunds due)."""
    finance_charge: int = 0
    """RESOLVED_ERROR: the part of `credited` beyond `amount`: the interest (and any fee)
    the corrected history no longer charges."""
    owed_again_on: dt.date | None = None
    """Resolved either way: the new due date of whatever the hold kept unpaid; the hold
    lasts through it (Reg Z 1026.13(g)(1): a statement's time to pay)."""

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("dispute", self.dispute_id)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered."""
        return audit.snapshot(self)

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values, as `audit_snapshot` renders them."""
        return audit.fields(self)

    @property
    def is_open(self) -> bool:
        """Whether the dispute still waits for its resolution."""
        return self.status is DisputeStatus.OPEN

    def holds_on(self, day: dt.date) -> bool:
        """Whether the disputed amount is held back from collection on `day`.

        From the day it was received: while OPEN; resolved (either way), through its
        `owed_again_on`. Date-aware, so a replay of the line's history holds what was
        held on each day. (On `received_on` a notice `after_overdue_job` holds only
        after that day's job: the replay runs the job without it.)
        """
        if day < self.received_on:
            return False
        if self.resolved_on is None:
            return True
        if self.owed_again_on is not None:
            return day <= self.owed_again_on
        return day < self.resolved_on

    def names(self, charge: DisputedCharge, ref: str) -> bool:
        """Whether the dispute is about that charge."""
        return self.charge is charge and self.charge_ref == ref


def credited_errors(
    disputes: Mapping[str, BillingDispute], charge: DisputedCharge, ref: str
) -> int:
    """The cents of that charge found in error (RESOLVED_ERROR disputes on it).

    What the charge's own code (a draw's disbursal, the late fee's assessment, the
    cycle's interest) takes off it as of its date, live and in every replay alike.
    """
    if not disputes:
        return 0
    return sum(
        dispute.amount
        for dispute in disputes.values()
        if dispute.status is DisputeStatus.RESOLVED_ERROR and dispute.names(charge, ref)
    )
