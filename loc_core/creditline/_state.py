"""What a line of credit holds: its balances, cycle state, draws and payments.

`CreditLine` (in `line`) adds the commands to this state. The rule modules behind those
commands (`draws`, `payments`, `billing`, `collections`, `closing`, `delinquency`) take
the state, so none of them imports the aggregate and the package has no import cycle.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loc_core import audit
from loc_core.creditline.activity import CycleActivity
from loc_core.creditline.balances import Balances
from loc_core.creditline.cycles import open_cycle_close, reminder_pending, upcoming_notice_sent
from loc_core.creditline.dispute import BillingDispute
from loc_core.creditline.draw import Draw
from loc_core.creditline.payment import LocPayment
from loc_core.creditline.statement import Statement
from loc_core.creditline.vocabulary import LineStatus
from loc_core.creditline.waiver import LineLateFeeWaiver
from loc_core.events import AuditValue, Outbox

__all__ = ["LineState"]

_NOT_AUDITED = frozenset(
    {
        "draws",
        "payments",
        "disputes",
        "late_fee_waivers",
        "outbox",
        "cycle_activity",
        "last_statement",
        "cycle_opening",
        "version",
    }
)


def _opened_on(line: LineState) -> dt.date:
    return line.opened_on


@attrs.define(kw_only=True)
class LineState:
    """A borrower's revolving line as data: what is owed, what may still be drawn, what is due.

    Interest accrues by the daily-balance method without a loop over days: every change
    of principal first adds ``principal x days since the last change`` to
    `accrued_cent_days`, so an idle line costs nothing until it is billed.
    """

    line_id: str
    user_id: str
    application_id: str
    opened_on: dt.date
    credit_limit: int
    apr: Decimal
    """Annual percentage rate in percent units; interest is APR / 365 per day."""
    minimum_payment_percent: Decimal
    cycle_day: int
    status: LineStatus = LineStatus.ACTIVE
    principal_balance: int = 0
    interest_balance: int = 0
    fee_balance: int = 0
    pending_draws_total: int = 0
    """Draws requested and not yet accepted or failed: they hold available credit."""
    next_minimum_payment_due: int = 0
    """The last statement's minimum payment (raised by returns of earlier payments)."""
    next_due_date: dt.date | None = None
    paid_since_statement: int = 0
    """Payments submitted since the last statement, less those since reversed."""
    carried_past_due: int = 0
    """The part of the current minimum that was already late when the statement was cut."""
    carried_past_due_since: dt.date | None = None
    """The first late day of that carried part."""
    past_due_since: dt.date | None = None
    """The first late day of the oldest unpaid minimum while the line is past due."""
    late_fee_cycle: dt.date | None = None
    """The statement date of the cycle whose late fee was assessed (one per cycle)."""
    late_fee_entries: int = 0
    """How many late-fee entries the overdue job posted for the cycle billed last
    (`last_billing_cycle_date`; billing a cycle starts it at 0). A fee a correction took
    back and a later job charges again (the payment that paid it returned as of today)
    is posted ``<line>:<cycle>:late_fee:2``, and so on: an entry id is never posted twice.
    A correction keeps it."""
    charge_off_entries: int = 0
    """How many charge-off entries the overdue job posted for the line. Each is named for
    its day (``<line>:<day>:default``); a default a correction undid and a return learned
    the same day brought back, charged off again by that day's job run again, posts
    ``<line>:<day>:default:2``: an entry id is never posted twice. A correction keeps it."""
    money_events: int = 0
    """How many draws and payments the line has booked: the next one's `sequence`."""
    overdue_job_changed_on: dt.date | None = None
    """The last day the overdue job changed the line: a payment booked that day after it
    is replayed after that day's job (`LocPayment.after_overdue_job`)."""
    upcoming_notice_cycle: dt.date | None = None
    """The statement date of the cycle whose upcoming-payment notice was sent."""
    closed_from: LineStatus | None = None
    """The status a CLOSED line had, restored if a payment is reversed after closing."""
    autopay_enabled: bool = True
    """Whether the due job may debit the borrower (autopay). A returned payment whose
    reason forbids presenting it again (unauthorized, an account that cannot be debited,
    an unknown reason: `loc_core.returns`) turns it off; a correction keeps it."""
    withheld_statements: tuple[dt.date, ...] = ()
    """The statement dates billed while the line was DEFAULTED: stored, not sent (no
    `loc_statement_ready`). A correction showing the line was not charged off then sends
    them (the replay's own list, which the line takes, leaves those dates out)."""
    accrued_through: dt.date = attrs.field(default=attrs.Factory(_opened_on, takes_self=True))
    """Cent-days are summed for the days before this date; also the latest activity date."""
    accrued_cent_days: int = 0
    """End-of-day principal summed over the cycle's days before `accrued_through`."""
    last_billing_cycle_date: dt.date | None = None
    """The last close date billed, written last by billing: the due job's guard."""
    cycle_opening: Balances = attrs.field(factory=Balances)
    cycle_activity: list[CycleActivity] = attrs.field(factory=list)
    """This cycle's draws, payments, reversals and fees, for its statement."""
    last_statement: Statement | None = None
    corrected_fees_this_year: int = 0
    """What corrections since `last_statement` changed the fees that the year's issued
    statements charged (signed cents): the next statement of the same year adds it to
    `Statement.fees_year_to_date`."""
    corrected_interest_this_year: int = 0
    """The same for interest: added to the next `Statement.interest_year_to_date`."""
    draws: dict[str, Draw] = attrs.field(factory=dict)
    payments: dict[str, LocPayment] = attrs.field(factory=dict)
    disputes: dict[str, BillingDispute] = attrs.field(factory=dict)
    """The borrower's billing-error notices (`disputes`), by id: records, kept by a
    correction as draws and payments are."""
    late_fee_waivers: dict[str, LineLateFeeWaiver] = attrs.field(factory=dict)
    """Operators' late fee waivers (`waiver`), by the fee's reference
    (``<line>:<cycle>:late_fee``): records the overdue rules read in every replay, kept by
    a correction as disputes are; audited as entities of their own."""
    version: int = 0
    """Bumped once by every command that changes the line, for conditional writes."""
    outbox: Outbox = attrs.field(factory=Outbox)

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("line", self.line_id)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered: all but its draws, payments, cycle and outbox."""
        return audit.snapshot(self, skip=_NOT_AUDITED)

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values, as `audit_snapshot` renders them."""
        return audit.fields(self, skip=_NOT_AUDITED)

    @property
    def balances(self) -> Balances:
        """What the borrower owes now, by bucket."""
        return Balances(self.principal_balance, self.interest_balance, self.fee_balance)

    @property
    def total_balance(self) -> int:
        """Principal, interest and fees owed: the most a payment may be."""
        return self.principal_balance + self.interest_balance + self.fee_balance

    @property
    def refunds_due(self) -> int:
        """What the line owes its borrower back: the credit balance.

        The refunds due, less what was applied to later charges; equal to minus the
        balance of the line's ``refund_due`` ledger account.
        """
        return sum(self.refunds_due_by_payment().values())

    def refunds_due_by_payment(self) -> dict[str, int]:
        """What the line owes its borrower back, payment by payment (what each has left)."""
        return {
            payment_id: payment.refund.remaining
            for payment_id, payment in self.payments.items()
            if payment.refund is not None and payment.refund.remaining
        }

    @property
    def available_credit(self) -> int:
        """Limit less principal and pending draws, kept within [0, limit].

        It can only go below zero after a returned payment restores principal that a
        later draw had already reused; the line is then over limit and nothing can be drawn.
        """
        room = self.credit_limit - self.principal_balance - self.pending_draws_total
        return max(0, min(self.credit_limit, room))

    @property
    def cycle_start(self) -> dt.date:
        """The first day of the open cycle: the last close date billed, or the opening date."""
        return self.last_billing_cycle_date or self.opened_on

    @property
    def next_close_date(self) -> dt.date:
        """When the open cycle closes (its last day is the day before)."""
        return open_cycle_close(
            opened_on=self.opened_on,
            cycle_day=self.cycle_day,
            last_billing_cycle_date=self.last_billing_cycle_date,
        )

    @property
    def upcoming_notice_sent(self) -> bool:
        """The latest cycle's upcoming-payment notice is out (or nothing is billed yet)."""
        return upcoming_notice_sent(
            upcoming_notice_cycle=self.upcoming_notice_cycle,
            last_billing_cycle_date=self.last_billing_cycle_date,
        )

    @property
    def reminder_pending(self) -> bool:
        """Could the upcoming job have a notice to send (`cycles.reminder_pending`)?"""
        return reminder_pending(
            upcoming_notice_cycle=self.upcoming_notice_cycle,
            last_billing_cycle_date=self.last_billing_cycle_date,
            next_minimum_payment_due=self.next_minimum_payment_due,
            paid_since_statement=self.paid_since_statement,
        )

    @property
    def minimum_payment_outstanding(self) -> int:
        """What is left of the current minimum payment after payments since the statement."""
        return max(0, self.next_minimum_payment_due - self.paid_since_statement)
