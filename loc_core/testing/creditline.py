"""Hypothesis strategies and a state machine for lines of credit.

    from loc_core.testing.creditline import CreditLineLifecycle

    TestCreditLineLifecycle = CreditLineLifecycle.TestCase

The state machine drives one line through several cycles (draws, payments, returns,
chargebacks, days passing with billing and the daily jobs, cures, closing, an operator's
late fee waivers, billing-error disputes and their resolutions, backdated payments and
draws and returns corrected as of their day, each booked before or after the day's
overdue job) and checks after every step that the ledger proves the line's balances and
that interest equals a naive day-by-day recomputation; after a fee posted on a cycle a
correction changed, that the books charge the fees the line's replayed history does.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from loc_core.bookkeeping import EntryKind
from loc_core.corrections import account_balances
from loc_core.creditline import (
    DISBURSEMENT_RAILS,
    REPAYMENT_RAILS,
    ActivityKind,
    BillingDispute,
    CreditLine,
    CreditLineApplication,
    CreditLineProduct,
    DisputedCharge,
    DisputeStatus,
    Draw,
    DrawStatus,
    LineLateFeeWaiver,
    LineStatus,
    LocPayment,
    Statement,
    next_rail,
)
from loc_core.creditline.collections import late_fee_reference_for
from loc_core.creditline.disputes import NOTICE_DAYS, disputed_charge
from loc_core.creditline.replay import replay_line
from loc_core.errors import (
    CorrectionTooOld,
    DrawAlreadyReturned,
    DuplicatePayment,
    IdempotencyConflict,
    InsufficientCredit,
    InvalidAmount,
    InvalidTransition,
    LineNotActive,
    LocError,
    NoLateFee,
    Overpayment,
    PaymentAlreadyReversed,
    RefundAlreadyPaid,
    RefundNotSettled,
)
from loc_core.ledger import (
    Bucket,
    JournalEntry,
    Ledger,
    allowance,
    income,
    receivable,
    refund_due,
)
from loc_core.money import exact_context
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import LineRef
from loc_core.refunds import RefundDue
from loc_core.testing._calendar import FIRST_DAY, moments

__all__ = [
    "CreditLineLifecycle",
    "a_day_passes",
    "approved_applications",
    "disbursed_draw",
    "draw_amounts",
    "lines",
    "make_line",
    "naive_interest",
    "opening_moments",
    "payment_amounts",
    "percents",
    "products",
]

R = TypeVar("R")

_ONE_DAY = dt.timedelta(days=1)
_BOOKED_LATE = 6
"""Backdated payments and draws and corrected returns one run books at most: each replays
the line's whole life, and a run's steps stay about as cheap as its other rules."""
_EXACT = exact_context(60)
"""Not the caller's `decimal` context: a suite that set its own draws the same percents."""


def percents(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    """Percentages with two decimals (``Decimal("29.99")``) within ``[low, high]``."""
    return st.integers(math.ceil(low.scaleb(2, _EXACT)), math.floor(high.scaleb(2, _EXACT))).map(
        lambda hundredths: Decimal(hundredths).scaleb(-2, _EXACT)
    )


@st.composite
def products(draw: st.DrawFn) -> CreditLineProduct:
    """Valid credit-line products around the policy defaults."""
    due_days = draw(st.integers(10, 24))
    pct_min = draw(percents(Decimal("0.5"), Decimal(3)))
    apr_max = draw(percents(Decimal(10), Decimal(36)))
    return CreditLineProduct(
        cycle_day=draw(st.none() | st.integers(1, 28)),
        statement_to_due_days=due_days,
        minimum_payment_percent_min=pct_min,
        minimum_payment_percent_max=draw(percents(pct_min, Decimal(10))),
        apr_min=draw(percents(Decimal(0), apr_max)),
        apr_max=apr_max,
        late_fee_cents=draw(st.integers(0, 2_500)),
        default_after_days_past_due=draw(st.integers(30, 120)),
        upcoming_notice_days=draw(st.integers(1, due_days)),
    )


def opening_moments() -> st.SearchStrategy[dt.datetime]:
    """Aware UTC moments a line may open at, leap days, month ends and holidays often."""
    return moments()


@st.composite
def approved_applications(
    draw: st.DrawFn,
    product: CreditLineProduct | None = None,
    created_at: dt.datetime | None = None,
) -> CreditLineApplication:
    """APPROVED applications whose terms sit within `product`'s bounds."""
    product = product or CreditLineProduct()
    return CreditLineApplication.approved(
        application_id=f"app-{draw(st.uuids()).hex[:12]}",
        user_id=f"user-{draw(st.uuids()).hex[:12]}",
        created_at=created_at or draw(opening_moments()),
        credit_limit=draw(st.integers(5_000, 500_000)),
        apr=draw(percents(product.apr_min, product.apr_max)),
        minimum_payment_percent=draw(
            percents(product.minimum_payment_percent_min, product.minimum_payment_percent_max)
        ),
        product=product,
    )


@st.composite
def lines(draw: st.DrawFn, product: CreditLineProduct | None = None) -> CreditLine:
    """Freshly opened ACTIVE lines under `product` (the default product when `None`).

    Each opens the moment its application is approved, on an `opening_moments` day (so
    on the calendar's edge days often, never after `LAST_DAY`); its outbox holds only the
    opening's audit change, no event or journal entry.
    """
    product = product or CreditLineProduct()
    application = draw(approved_applications(product))
    return application.open_line(
        line_id=f"line-{draw(st.uuids()).hex[:12]}",
        now=application.created_at,
        product=product,
    )


def draw_amounts(line: CreditLine) -> st.SearchStrategy[int]:
    """Draw amounts the line can take now (at least one cent, even when it cannot)."""
    return st.integers(1, max(1, line.available_credit))


def payment_amounts(line: CreditLine) -> st.SearchStrategy[int]:
    """Payment amounts from one cent to the whole balance (one cent when nothing is owed)."""
    return st.integers(1, max(1, line.total_balance))


def make_line(
    *,
    credit_limit: int = 100_000,
    apr: Decimal = Decimal(10),
    minimum_payment_percent: Decimal = Decimal(1),
    opened_on: dt.date = dt.date(2024, 1, 1),
    product: CreditLineProduct | None = None,
    line_id: str = "line-1",
    user_id: str = "user-1",
) -> CreditLine:
    """An ACTIVE line opened at midnight UTC on `opened_on`, on its application's terms.

    As `installment.make_loan` is for loans: the one way a test opens a line by hand
    (application ``app-1``). Its outbox still holds what opening it recorded.
    """
    chosen = product if product is not None else CreditLineProduct()
    application = CreditLineApplication.approved(
        application_id="app-1",
        user_id=user_id,
        created_at=dt.datetime(opened_on.year, opened_on.month, opened_on.day, tzinfo=dt.UTC),
        credit_limit=credit_limit,
        apr=apr,
        minimum_payment_percent=minimum_payment_percent,
        product=chosen,
    )
    return application.open_line(line_id=line_id, now=application.created_at, product=chosen)


def a_day_passes(line: CreditLine, day: dt.date, *, product: CreditLineProduct) -> Statement | None:
    """`day`'s jobs on `line`, as the scheduler runs them; the statement billed, if any.

    Billing on the line's close date, then the overdue job. What they record stays in the
    line's outbox, for the test to post.
    """
    statement = None
    if day == line.next_close_date:
        statement = line.bill_cycle(close_date=day, today=day, product=product)
    line.run_overdue(today=day, product=product)
    return statement


def disbursed_draw(
    line: CreditLine, *, draw_id: str, amount: int, on: dt.date, rail: Rail = Rail.RTP
) -> Draw:
    """Request a draw and have `rail` accept it at once."""
    line.request_draw(draw_id=draw_id, amount=amount, on=on)
    return line.disburse_draw(draw_id=draw_id, rail=rail, on=on)


def naive_interest(end_of_day_principals: list[int], apr: Decimal) -> int:
    """Interest recomputed day by day, independently of the library's arithmetic.

    Each day's principal x APR / 365, summed exactly, then rounded half-up once.
    """
    exact = sum(Fraction(principal) * Fraction(apr) / 36_500 for principal in end_of_day_principals)
    return math.floor(exact + Fraction(1, 2))


def _expect(condition: bool, message: str) -> None:  # noqa: FBT001 - an assertion helper
    if not condition:
        raise AssertionError(message)


class CreditLineLifecycle(RuleBasedStateMachine):
    """One line across several cycles, with every rule a borrower or a rail can trigger."""

    def __init__(self) -> None:
        super().__init__()
        self.product = CreditLineProduct()
        self.ledger = Ledger()
        self.ids = itertools.count(1)
        self.today = FIRST_DAY
        self.end_of_day: dict[dt.date, int] = {}
        self.defaulted_on: dt.date | None = None
        self.statements = 0
        self.money_in_on: dt.date | None = None
        """The last day a payment was applied or reversed, or a correction booked (a
        returned draw waits past it)."""
        self.issued: dict[dt.date, Statement] = {}
        """The statements billed, by date, as the store keeps them (a dispute names one)."""
        self.fees: dict[dt.date, dt.date] = {}
        """Each cycle a late fee was posted for: the day it was assessed (after a
        correction, as the line's replayed history charges them, waived ones left out)."""
        self.corrections = 0
        """How many corrections (returns, waivers, errors credited) the line has booked."""
        self.booked_late = 0
        self.corrected_on: dt.date | None = None
        """The last day a correction was booked (it may have changed what a statement's
        charges come to in the corrected history)."""
        """Backdated payments and draws and corrected returns booked (`_BOOKED_LATE`)."""
        self.reversed_as_of_their_day: set[str] = set()
        """Payments a correction reversed as of the day they were applied
        (`CreditLine.correct_return`): the line and its replay reverse them alike."""
        self.fees_booked = False
        """Whether the overdue job posted a late fee since the books' fees were last
        checked against the line's replayed history, on a cycle a correction changed."""
        self.corrected_this_cycle = False
        """Whether a correction was booked since the cycle billed last (a fee it took back
        may be charged again: `each_cycles_late_fee_is_charged_once_net`)."""
        self.fees_unknown = False
        """Whether a correction was booked since `fees` was last taken from the line's
        replayed history (a backdated draw, a return corrected, may charge a fee)."""
        self.replayed: tuple[int, int] = (0, 0)
        """The waivers and corrections when the waivers were last checked against a replay."""
        self.line = CreditLine(
            line_id="unopened",
            user_id="nobody",
            application_id="none",
            opened_on=self.today,
            credit_limit=1,
            apr=Decimal(0),
            minimum_payment_percent=Decimal(1),
            cycle_day=1,
        )

    # -- helpers -------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.ids)}"

    def _flush(self) -> None:
        recorded = self.line.outbox.drain()
        waived = {waiver.fee_reference for waiver in self.line.late_fee_waivers.values()}
        cycle = self.line.last_billing_cycle_date
        fee = late_fee_reference_for(self.line.line_id, cycle) if cycle else None
        for entry in recorded.entries:
            if entry.kind is EntryKind.CHARGE_OFF and ":default:" in entry.entry_id:
                event("a charge-off posted again after a correction undid it")
            if entry.kind is not EntryKind.LATE_FEE:
                continue
            # A fee charged again after a correction took it back: ``<reference>:2``.
            again = not entry.entry_id.endswith(":late_fee")
            reference = entry.entry_id.rsplit(":", 1)[0] if again else entry.entry_id
            _expect(reference not in waived, f"{entry.entry_id} waived, charged again")
            if cycle is not None and reference == fee:
                self.fees[cycle] = entry.effective_date
            if again:
                event("a late fee charged again after a correction took it back")
            self.fees_booked = self.fees_booked or self.corrected_this_cycle
        self.ledger.post_all(recorded.entries)
        for happened in recorded.events:
            event(happened.type.value)
        event(f"status {self.line.status.value}")
        if self.line.status is LineStatus.DEFAULTED and self.defaulted_on is None:
            self.defaulted_on = self.today

    def _refused(
        self, error: type[LocError], command: Callable[..., object], *args: object
    ) -> None:
        """Run a command that must fail with `error` and leave the line exactly as it was."""
        before = copy.deepcopy(self.line)
        try:
            command(*args)
        except error:
            _expect(self.line == before, f"{error.__name__} changed the line")
        else:
            msg = f"expected {error.__name__}"
            raise AssertionError(msg)

    # -- setup ---------------------------------------------------------------------------

    @initialize(data=st.data())
    def open(self, data: st.DataObject) -> None:
        """Open a line from an approved application under a drawn product."""
        self.product = data.draw(st.just(CreditLineProduct()) | products(), label="product")
        application = data.draw(approved_applications(self.product), label="application")
        self.line = application.open_line(
            line_id=self._next_id("line"),
            now=application.created_at,
            product=self.product,
        )
        self.today = self.line.opened_on
        self._flush()

    # -- draws ---------------------------------------------------------------------------

    @rule(
        data=st.data(),
        rtp_enabled=st.booleans(),
        declining=st.sets(st.sampled_from(DISBURSEMENT_RAILS)),
        leave_pending=st.booleans(),
    )
    def draw(
        self,
        data: st.DataObject,
        rtp_enabled: bool,  # noqa: FBT001 - hypothesis passes rule arguments by keyword
        declining: set[Rail],
        leave_pending: bool,  # noqa: FBT001 - same
    ) -> None:
        """Request a draw; offer it to the rails unless it is left pending."""
        line = self.line
        amount = data.draw(st.integers(1, line.credit_limit + 1), label="draw amount")
        draw_id = self._next_id("draw")
        if line.status is not LineStatus.ACTIVE:
            self._refused(LineNotActive, self._request, draw_id, amount)
            return
        if amount > line.available_credit:
            self._refused(InsufficientCredit, self._request, draw_id, amount)
            return
        available = line.available_credit
        self._request(draw_id, amount)
        _expect(line.available_credit == available - amount, "a pending draw holds credit")
        if not leave_pending:
            self._offer_to_rails(draw_id, rtp_enabled=rtp_enabled, declining=declining)
        self._flush()

    def _request(self, draw_id: str, amount: int) -> None:
        self.line.request_draw(draw_id=draw_id, amount=amount, on=self.today)

    def _offer_to_rails(self, draw_id: str, *, rtp_enabled: bool, declining: set[Rail]) -> None:
        line = self.line
        draw = line.draws[draw_id]
        enabled = set(DISBURSEMENT_RAILS) if rtp_enabled else {Rail.PINLESS, Rail.ACH}
        principal, pending = line.principal_balance, line.pending_draws_total
        owed, credit = line.total_balance, line.refunds_due
        while (
            rail := next_rail(DISBURSEMENT_RAILS, enabled=enabled, declined=draw.declined_rails)
        ) is not None:
            if rail in declining:
                line.record_rail_decline(draw_id=draw_id, rail=rail, on=self.today)
                continue
            line.disburse_draw(draw_id=draw_id, rail=rail, on=self.today)
            # The credit balance (refunds due) pays the draw first, as far as it goes.
            applied = min(credit, owed + draw.amount)
            _expect(line.refunds_due == credit - applied, "the credit balance pays the draw")
            _expect(
                line.total_balance == owed + draw.amount - applied
                and line.principal_balance <= principal + draw.amount,
                "principal rises by what the credit balance did not pay",
            )
            _expect(rail is not Rail.RTP or rtp_enabled, "RTP used while switched off")
            break
        else:
            line.fail_draw(draw_id=draw_id, on=self.today, reason="every rail declined")
            _expect(line.principal_balance == principal, "a failed draw moves no money")
        _expect(line.pending_draws_total == pending - draw.amount, "the hold is released")

    @precondition(lambda self: self.line.pending_draws_total > 0)
    @rule(data=st.data(), rtp_enabled=st.booleans())
    def settle_pending_draw(self, data: st.DataObject, rtp_enabled: bool) -> None:  # noqa: FBT001 - keyword from hypothesis
        """Offer a draw left pending to the rails."""
        pending = sorted(
            draw_id
            for draw_id, draw in self.line.draws.items()
            if draw.status is DrawStatus.PENDING
        )
        draw_id = data.draw(st.sampled_from(pending), label="pending draw")
        declining = data.draw(st.sets(st.sampled_from(DISBURSEMENT_RAILS)), label="declining")
        self._offer_to_rails(draw_id, rtp_enabled=rtp_enabled, declining=declining)
        self._flush()

    def _returnable(self) -> list[str]:
        """DISBURSED draws whose return the machine can recompute exactly, day by day.

        Sent in the current cycle (no statement billed since) and after the last payment
        applied or reversed: taking the draw back then lowers each day's principal from its
        sending on by its amount and changes nothing else. (Older draws, whose return
        rewrites statements and turns payments into refunds, are the corrections suite's:
        ``docs/corrections.md``; so are draws the credit balance paid part of, whose return
        gives that credit back; and every draw once a payment was reversed by the rail's
        word on a later day than it was applied: the machine reverses it from that day, as
        `CreditLine.settle_payment` does, where a correction's replay reverses it from the
        day it was applied.)
        """
        line = self.line
        if self._replay_differs():
            return []
        paid_by_credit = {
            item.reference
            for item in line.cycle_activity
            if item.kind is ActivityKind.CREDIT_APPLIED
        }
        return sorted(
            draw_id
            for draw_id, draw in line.draws.items()
            if draw.status is DrawStatus.DISBURSED
            and draw.settled_on is not None
            and draw.settled_on >= line.cycle_start
            and (self.money_in_on is None or self.money_in_on < draw.settled_on)
            and draw_id not in paid_by_credit
        )

    def _charged_off(self) -> bool:
        """Whether the line's history, as it now stands, charged it off.

        DEFAULTED, or CLOSED from DEFAULTED (`closed_from`: a charged-off line its payoff
        closed). A correction that moves the charge-off moves the interest and late fees
        it stops, so what the line owes may then change by less than the amount corrected.
        """
        line = self.line
        return LineStatus.DEFAULTED in (line.status, line.closed_from)

    def _replay_differs(self) -> bool:
        """Whether a payment was reversed later than it was applied: its replay differs.

        The line reverses it from the rail's day, a correction's replay from the day it
        was applied, so a correction may then raise the cent-days or charge a late fee
        the line never posted.
        """
        return any(
            payment.status.reversed
            and payment.settled_on != payment.submitted_on
            and payment_id not in self.reversed_as_of_their_day
            for payment_id, payment in self.line.payments.items()
        )

    @precondition(lambda self: bool(self._returnable()))
    @rule(data=st.data(), outcome=st.sampled_from(SettlementOutcome))
    def draw_comes_back(self, data: st.DataObject, outcome: SettlementOutcome) -> None:
        """The rail returns a draw's credit: the line owes as if it had never been sent."""
        line = self.line
        draw_id = data.draw(st.sampled_from(self._returnable()), label="returned draw")
        draw = line.draws[draw_id]
        sent_on = draw.settled_on
        if outcome is SettlementOutcome.COMPLETED or sent_on is None:
            self._refused(InvalidTransition, self._return_draw, draw_id, outcome)
            return
        before = line.balances
        self._return_draw(draw_id, outcome)
        _expect(draw.status is DrawStatus.RETURNED and draw.returned_on == self.today, "RETURNED")
        _expect(
            (line.principal_balance, line.interest_balance, line.fee_balance)
            == (before.principal - draw.amount, before.interest, before.fees),
            "a returned draw takes back its principal and nothing else",
        )
        for day in self.end_of_day:  # the history the interest invariant recomputes
            if day >= sent_on:
                self.end_of_day[day] -= draw.amount
        self.corrections += 1
        self.corrected_this_cycle = self.fees_unknown = True
        self.corrected_on = self.today
        self._flush()

    @precondition(
        lambda self: any(d.status is not DrawStatus.DISBURSED for d in self.line.draws.values())
    )
    @rule(data=st.data())
    def return_of_a_draw_never_sent_is_refused(self, data: st.DataObject) -> None:
        """A return of a draw pending, failed or already returned changes nothing."""
        line = self.line
        draw_id = data.draw(
            st.sampled_from(
                sorted(i for i, d in line.draws.items() if d.status is not DrawStatus.DISBURSED)
            ),
            label="draw never sent",
        )
        returned = line.draws[draw_id].status is DrawStatus.RETURNED
        self._refused(
            DrawAlreadyReturned if returned else InvalidTransition,
            self._return_draw,
            draw_id,
            SettlementOutcome.RETURNED,
        )

    def _return_draw(self, draw_id: str, outcome: SettlementOutcome) -> Draw:
        return self.line.correct_draw_return(
            draw_id=draw_id,
            outcome=outcome,
            return_code="R03",
            today=self.today,
            product=self.product,
            posted=self.ledger.entries(),
        )

    # -- payments ------------------------------------------------------------------------

    @rule(data=st.data(), rail=st.sampled_from(REPAYMENT_RAILS), before_overdue_job=st.booleans())
    def pay(self, data: st.DataObject, rail: Rail, before_overdue_job: bool = False) -> None:  # noqa: FBT001, FBT002 - keyword from hypothesis; a suite driving the rule by hand pays after the job, as before
        """Pay any amount up to the balance; refused when nothing is owed.

        Paid after today's overdue job (the machine's days end with it), or the next day
        before its job. After a job that changed the line that day, the payment is marked
        `after_overdue_job` and every replay books it after that job.
        """
        self._before_the_job(lambda: self._pay(data, rail), before_overdue_job=before_overdue_job)

    def _pay(self, data: st.DataObject, rail: Rail) -> None:
        line = self.line
        payment_id = self._next_id("pay")
        if line.total_balance == 0:
            self._refused(Overpayment, self._submit, payment_id, 1, rail)
            return
        amount = data.draw(payment_amounts(line), label="payment amount")
        before = line.balances
        payment = self._submit(payment_id, amount, rail)
        applied = payment.applied
        _expect(applied.total == amount, "the waterfall places every cent")
        _expect(
            applied.fees == min(amount, before.fees)
            and applied.interest == min(amount - applied.fees, before.interest),
            "fees, then interest, then principal",
        )
        _expect(line.balances == before.plus(applied.negated()), "balances fall by the payment")
        _expect(
            payment.after_overdue_job == (line.overdue_job_changed_on == self.today),
            "a payment is after the job exactly when the day's job changed the line",
        )
        if payment.after_overdue_job:
            event("paid after the day's overdue job changed the line")
        self._flush()

    @rule(excess=st.integers(1, 50_000), rail=st.sampled_from(REPAYMENT_RAILS))
    def book_money_that_moved(self, excess: int, rail: Rail) -> None:
        """A rail took more than the line owes (all of it when paid off): the rest is a refund."""
        line = self.line
        owed, status = line.total_balance, line.status
        self.money_in_on = self.today
        payment = line.book_moved_payment(
            payment_id=self._next_id("moved"), amount=owed + excess, rail=rail, on=self.today
        )
        _expect(payment.applied_amount == owed, "what was owed is paid")
        _expect(
            payment.refund is not None and payment.refund.amount == excess,
            "the excess is a refund due",
        )
        _expect(line.total_balance == 0, "a line paid off")
        _expect(
            line.status is status
            or status is LineStatus.SUSPENDED
            or (status is LineStatus.DEFAULTED and line.status is LineStatus.CLOSED),
            "a refund changes no status (paying the past-due amount cures a suspension, "
            "paying a charged-off line in full closes it)",
        )
        self._flush()

    @precondition(
        lambda self: any(p.refund and p.refund.is_due for p in self.line.payments.values())
    )
    @rule(data=st.data())
    def pay_out_a_refund(self, data: st.DataObject) -> None:
        """The lender sends a refund due back: the credit balance falls by it, once.

        Not while its payment is PENDING: the rail can still take that money back.
        """
        line = self.line
        due = sorted(pid for pid, p in line.payments.items() if p.refund and p.refund.is_due)
        payment_id = data.draw(st.sampled_from(due), label="refund")
        owed_back = line.refunds_due

        def record() -> RefundDue:
            return line.record_refund_paid(
                payment_id=payment_id,
                paid_on=self.today,
                reference=f"check for {payment_id}",
                today=self.today,
                reason="refund sent",
            )

        if line.payments[payment_id].status is PaymentStatus.PENDING:
            self._refused(RefundNotSettled, record)
            return
        refund = record()
        _expect(
            refund.paid_amount == refund.amount - refund.applied
            and line.refunds_due == owed_back - refund.paid_amount,
            "what is owed back falls by what was left of the refund",
        )
        self._flush()
        again = copy.deepcopy(line)
        record()
        _expect(line == again, "the same payout again changes nothing")

    def _submit(self, payment_id: str, amount: object, rail: Rail) -> LocPayment:
        payment = self.line.submit_payment(
            payment_id=payment_id, amount=amount, rail=rail, on=self.today
        )
        self.money_in_on = self.today
        return payment

    @rule(amount=st.sampled_from([0, -100, 12.5, True]), over=st.integers(1, 1_000))
    def bad_payment_changes_nothing(self, amount: object, over: int) -> None:
        """Invalid amounts and overpayments are refused and change nothing."""
        self._refused(InvalidAmount, self._submit, self._next_id("pay"), amount, Rail.ACH)
        self._refused(
            Overpayment,
            self._submit,
            self._next_id("pay"),
            self.line.total_balance + over,
            Rail.ACH,
        )

    @precondition(lambda self: bool(self.line.payments))
    @rule(data=st.data(), outcome=st.sampled_from(SettlementOutcome))
    def settle(self, data: st.DataObject, outcome: SettlementOutcome) -> None:
        """A settlement event for any payment, in any order, possibly twice."""
        line = self.line
        payment_id = data.draw(st.sampled_from(sorted(line.payments)), label="payment")
        payment = line.payments[payment_id]
        before = copy.deepcopy(line)
        if outcome is SettlementOutcome.COMPLETED:
            line.settle_payment(payment_id=payment_id, outcome=outcome, on=self.today)
            _expect(line.balances == before.balances, "completion moves no money")
        elif payment.status.reversed:
            self._refused(
                PaymentAlreadyReversed,
                lambda: line.settle_payment(payment_id=payment_id, outcome=outcome, on=self.today),
            )
        elif payment.refund is not None and payment.refund.is_paid:
            # The money to give back was already sent: refused, handled by hand.
            self._refused(
                RefundAlreadyPaid,
                lambda: line.settle_payment(payment_id=payment_id, outcome=outcome, on=self.today),
            )
        elif payment.refund is not None and payment.refund.applied:
            # Its refund already paid later charges: only a correction undoes that.
            self._refused(
                InvalidTransition,
                lambda: line.settle_payment(payment_id=payment_id, outcome=outcome, on=self.today),
            )
        else:
            line.settle_payment(payment_id=payment_id, outcome=outcome, on=self.today)
            self.money_in_on = self.today
            credit = before.refunds_due - (payment.refund.amount if payment.refund else 0)
            restored = before.balances.plus(payment.applied).total
            _expect(
                line.total_balance == restored - min(credit, restored)
                and line.refunds_due == credit - min(credit, restored),
                "a reversal restores exactly what the payment paid, less what the credit "
                "balance pays of it",
            )
            _expect(payment.status.reversed, "the payment is marked reversed")
        self._flush()

    @precondition(lambda self: self.line.status is LineStatus.SUSPENDED)
    @rule(rail=st.sampled_from(REPAYMENT_RAILS))
    def cure(self, rail: Rail) -> None:
        """Pay exactly the past-due amount."""
        owed = self.line.past_due_amount(self.today)
        self._submit(self._next_id("pay"), owed, rail)
        _expect(self.line.status is LineStatus.ACTIVE, "paying the past-due amount cures")
        self._flush()

    # -- an operator's late fee waivers --------------------------------------------------

    def _unwaived_fees(self) -> list[dt.date]:
        waived = {waiver.late_fee_cycle for waiver in self.line.late_fee_waivers.values()}
        return sorted(cycle for cycle in self.fees if cycle not in waived)

    def _waive(self, cycle: dt.date, key: str, reason: str = "goodwill") -> LineLateFeeWaiver:
        return self.line.waive_late_fee(
            late_fee_cycle=cycle,
            reason=reason,
            idempotency_key=key,
            today=self.today,
            product=self.product,
            posted=self.ledger.entries(),
        )

    @precondition(lambda self: bool(self._unwaived_fees()))
    @rule(data=st.data())
    def waive_a_late_fee(self, data: st.DataObject) -> None:
        """An operator waives a cycle's late fee, as of the day it was assessed.

        What the line owes (less what it owes back) falls by the fee at least, its
        cent-days never rise (unless a payment was reversed later than it was applied:
        `_replay_differs`), the same request again changes nothing, and another key for
        the same fee is refused. Refused, changing nothing: a fee the corrected history no
        longer charges (a dispute credited it, a correction took it back), one assessed
        beyond the correction reach, one whose correction would change a refund paid out.
        """
        line = self.line
        if self.fees_unknown and not self._replay_differs():
            self._fees_as_replayed()
            if not self._unwaived_fees():
                return
        cycle = data.draw(st.sampled_from(self._unwaived_fees()), label="fee cycle")
        key = f"waive-{cycle}"
        reach_ends = self.fees[cycle] + self.product.corrections.reach
        trial = copy.deepcopy(line)
        owed, accrued = self._net_owed(), self._accrued_unless_defaulted()
        try:
            waiver = self._waive(cycle, key)
        except NoLateFee:
            event("waiver refused: NoLateFee")
            _expect(line == trial, "a refused waiver changed the line")
            return
        except CorrectionTooOld:
            event("waiver refused: CorrectionTooOld")
            _expect(line == trial, "a refused waiver changed the line")
            _expect(self.today > reach_ends, "a waiver within the reach refused as too old")
            return
        except RefundAlreadyPaid:
            event("waiver refused: RefundAlreadyPaid")
            _expect(line == trial, "a refused waiver changed the line")
            return
        event("late fee waived")
        _expect(self.today <= reach_ends, "a waiver beyond the reach taken")
        _expect(
            line.late_fee_waivers.get(waiver.fee_reference) == waiver and waiver.amount > 0,
            "the waiver is recorded",
        )
        _expect(
            self._net_owed() <= owed - waiver.amount or self._replay_differs(),
            f"owed {owed} -> {self._net_owed()} after waiving {waiver.amount}",
        )
        self._corrected(accrued)
        again = copy.deepcopy(line)
        _expect(self._waive(cycle, key) == waiver and line == again, "waived twice")
        self._refused(IdempotencyConflict, self._waive, cycle, "another-key")
        # A cycle that charged no fee has none to waive (here, not a rule of its own: each
        # try replays the line, and such cycles are there on nearly every step).
        waived = {waiver.late_fee_cycle for waiver in line.late_fee_waivers.values()}
        free = sorted(c for c in self.issued if c not in self.fees and c not in waived)
        if free and not self._replay_differs():
            cycle = data.draw(st.sampled_from(free), label="cycle without a fee")
            self._refused(NoLateFee, self._waive, cycle, f"nothing-{cycle}")

    # -- billing-error disputes ----------------------------------------------------------

    def _disputable(self) -> list[tuple[dt.date, DisputedCharge, str | None, int]]:
        """Charges of statements still open to a notice, with what is left to dispute."""
        line = self.line
        if line.status in (LineStatus.DEFAULTED, LineStatus.CLOSED):
            return []
        if sum(d.is_open for d in line.disputes.values()) >= self.product.max_disputes_per_line:
            return []
        found: list[tuple[dt.date, DisputedCharge, str | None, int]] = []
        for date, statement in self.issued.items():
            if (self.today - date).days > NOTICE_DAYS:
                continue
            named: list[tuple[DisputedCharge, str | None]] = [
                (DisputedCharge.DRAW, item.reference)
                for item in statement.activity
                if item.kind is ActivityKind.DRAW
                and line.draws[item.reference].status is not DrawStatus.RETURNED
            ]
            if statement.interest_charged > 0:
                named.append((DisputedCharge.INTEREST, None))
            if any(item.kind is ActivityKind.LATE_FEE for item in statement.activity):
                named.append((DisputedCharge.LATE_FEE, None))
            for charge, draw_id in dict.fromkeys(named):
                ref, _, charged = disputed_charge(line, statement, charge, draw_id)
                left = charged - sum(
                    d.amount for d in line.disputes.values() if d.names(charge, ref)
                )
                if left > 0:
                    found.append((date, charge, draw_id, left))
        return found

    @precondition(lambda self: bool(self._disputable()))
    @rule(data=st.data())
    def dispute_a_charge(self, data: st.DataObject) -> None:
        """The borrower disputes (part of) a charge of a recent statement.

        The dispute is OPEN, nothing owed changes, what is past due falls by its amount
        (to no less than nothing), and the same notice again changes nothing.
        """
        line = self.line
        date, charge, draw_id, left = data.draw(
            st.sampled_from(self._disputable()), label="disputed charge"
        )
        amount = data.draw(st.integers(1, left), label="disputed amount")
        balances, past_due = line.balances, line.past_due_amount(self.today)
        dispute_id = self._next_id("dispute")

        def notice() -> BillingDispute:
            return line.dispute_billing_error(
                dispute_id=dispute_id,
                statement=self.issued[date],
                charge=charge,
                draw_id=draw_id,
                amount=amount,
                description="I did not make this charge",
                received_on=self.today,
                product=self.product,
            )

        dispute = notice()
        event(f"dispute on {charge.value}")
        _expect(dispute.is_open and line.disputes[dispute_id] is dispute, "an OPEN dispute")
        _expect(line.balances == balances, "a notice changes nothing owed")
        _expect(
            line.past_due_amount(self.today) == max(0, past_due - amount),
            "the disputed amount leaves what is past due",
        )
        self._flush()
        again = copy.deepcopy(line)
        _expect(notice() == dispute and line == again, "the same notice again")

    def _open_disputes(self) -> list[str]:
        return sorted(i for i, d in self.line.disputes.items() if d.is_open)

    @precondition(lambda self: bool(self._open_disputes()))
    @rule(data=st.data(), error_found=st.booleans())
    def resolve_a_dispute(self, data: st.DataObject, error_found: bool) -> None:  # noqa: FBT001 - keyword from hypothesis
        """An operator resolves an OPEN dispute, error found or not.

        No error: nothing owed changes and the amount is held until its new due date. An
        error found: a correction as of the charge's day, what is owed (less what is owed
        back) falls by exactly what the dispute says it credited, which is the amount at
        least unless earlier corrections took the charge down (`_corrected_before`), and
        cent-days never rise (as for a waiver);
        refused beyond the reach or over a refund paid out, changing nothing (the dispute
        stays OPEN). The same resolution again changes nothing; the other one is refused.
        """
        line = self.line
        dispute_id = data.draw(st.sampled_from(self._open_disputes()), label="dispute")
        dispute = line.disputes[dispute_id]
        trial = copy.deepcopy(line)
        owed, accrued, balances = (
            self._net_owed(),
            self._accrued_unless_defaulted(),
            line.balances,
        )
        # A correction booked since the statement (a backdated payment, an operator's
        # waiver) may have taken the charge, or part of it, off already: crediting it
        # then gives what is left of it, at most.
        corrected_since = (
            self.corrected_on is not None and self.corrected_on >= dispute.statement_date
        )

        def resolve(found: bool) -> BillingDispute:  # noqa: FBT001 - the finding itself
            return line.resolve_billing_dispute(
                dispute_id=dispute_id,
                error_found=found,
                explanation="we looked into it",
                today=self.today,
                product=self.product,
                posted=self.ledger.entries(),
            )

        try:
            resolved = resolve(error_found)
        except (CorrectionTooOld, RefundAlreadyPaid) as refused:
            event(f"error found refused: {type(refused).__name__}")
            _expect(error_found, "no error found refused")
            _expect(line == trial and dispute.is_open, "a refused resolution changed the line")
            return
        _expect(
            resolved.owed_again_on is not None and resolved.owed_again_on >= self.today,
            "what the hold kept is owed again from a new due date",
        )
        if error_found:
            event("billing error credited")
            _expect(resolved.status is DisputeStatus.RESOLVED_ERROR, "RESOLVED_ERROR")
            # A late fee an operator waived already is owed by no one: crediting it as a
            # billing error gives nothing more.
            waived = dispute.charge is DisputedCharge.LATE_FEE and (
                dispute.charge_ref in line.late_fee_waivers
            )
            _expect(
                0 <= resolved.credited == owed - self._net_owed() or self._replay_differs(),
                f"owed {owed} -> {self._net_owed()}, said to credit {resolved.credited}",
            )
            _expect(
                resolved.credited >= dispute.amount
                or waived
                or corrected_since
                or self._corrected_before(dispute_id),
                f"credited {resolved.credited} of an error of {dispute.amount}",
            )
            self._corrected(accrued)
        else:
            event("no billing error")
            _expect(resolved.status is DisputeStatus.RESOLVED_NO_ERROR, "RESOLVED_NO_ERROR")
            _expect(line.balances == balances, "no error found changes nothing owed")
            self._flush()
        again = copy.deepcopy(line)
        _expect(resolve(error_found) == resolved and line == again, "resolved twice")
        self._refused(InvalidTransition, resolve, not error_found)

    def _corrected_before(self, dispute_id: str) -> bool:
        """Whether earlier corrections may have taken the disputed charge down already.

        A waiver takes its fee off, and the payment that paid it pays principal instead,
        so later interest falls; another error credited does the same. The statement
        still shows the charge as billed, so a dispute may claim more than the corrected
        history still charges, and the credit is then smaller than the dispute (or
        nothing, for a fee waived whole). A reversed payment replays differently too.
        """
        line = self.line
        return (
            bool(line.late_fee_waivers)
            or any(
                other.status is DisputeStatus.RESOLVED_ERROR
                for other_id, other in line.disputes.items()
                if other_id != dispute_id
            )
            or self._replay_differs()
        )

    # -- backdated money and corrected returns -------------------------------------------

    def _trial(self, *, refusable: bool) -> CreditLine | None:
        """The line as it is, to compare after a refusal: when one may come.

        A correction is refused beyond the reach (`refusable`) or over a refund paid out
        (the line holds one); otherwise it must not be, and no copy is kept (a copy of a
        long-lived line is most of what a step costs). Counts the correction tried.
        """
        self.booked_late += 1
        paid_out = any(p.refund and p.refund.is_paid for p in self.line.payments.values())
        return copy.deepcopy(self.line) if refusable or paid_out else None

    def _effective_day(self, data: st.DataObject) -> tuple[dt.date, bool]:
        """A day money moved on, within the correction reach mostly; and whether beyond it."""
        reach = self.product.corrections.reach
        back = data.draw(st.integers(0, reach.days + 3), label="days back")
        effective_on = max(self.line.opened_on, self.today - dt.timedelta(days=back))
        return effective_on, effective_on < self.today - reach

    @precondition(lambda self: self.booked_late < _BOOKED_LATE)
    @rule(data=st.data(), draw=st.booleans(), before_overdue_job=st.booleans())
    def book_backdated_money(
        self,
        data: st.DataObject,
        draw: bool,  # noqa: FBT001 - keyword from hypothesis
        before_overdue_job: bool,  # noqa: FBT001 - same
    ) -> None:
        """Money that moved on an earlier day, booked today (before today's job or after it).

        A payment received (`book_backdated_payment`) or a draw sent (`book_backdated_draw`):
        one rule, so that corrections, each a replay of the line's whole life, stay a
        small part of the machine's steps.
        """
        if draw:
            rail = data.draw(st.sampled_from(DISBURSEMENT_RAILS), label="rail")
            self._book_backdated_draw(data, rail, before_overdue_job=before_overdue_job)
        else:
            rail = data.draw(st.sampled_from(REPAYMENT_RAILS), label="rail")
            self._book_backdated_payment(data, rail, before_overdue_job=before_overdue_job)

    def _book_backdated_payment(
        self, data: st.DataObject, rail: Rail, *, before_overdue_job: bool
    ) -> None:
        """Money received on an earlier day, booked today (before today's job or after it).

        Applied as of its day: what the line owes (less what it owes back) falls by the
        amount at least (unless the line was charged off: paid earlier, it may have been
        charged off later, accruing longer) and cent-days never rise; the same payment
        again is a duplicate.
        Refused, changing nothing: beyond the correction reach, or over a refund paid out.
        """

        def book() -> None:
            line = self.line
            effective_on, too_old = self._effective_day(data)
            amount = data.draw(st.integers(1, line.total_balance + 2_000), label="backdated")
            payment_id = self._next_id("backdated")

            def command() -> LocPayment:
                return line.book_backdated_payment(
                    payment_id=payment_id,
                    amount=amount,
                    rail=rail,
                    effective_on=effective_on,
                    reason="a mailed payment keyed late",
                    today=self.today,
                    product=self.product,
                    posted=self.ledger.entries(),
                    before_overdue_job=before_overdue_job,
                )

            owed, accrued = self._net_owed(), self._accrued_unless_defaulted()
            charged_off = self._charged_off()  # before: paid earlier, charged off later
            payment = self._unless_refused(command, too_old=too_old, what="backdated payment")
            if payment is None:
                return
            event(f"backdated payment (before the job: {before_overdue_job})")
            _expect(
                payment.status is PaymentStatus.COMPLETED and payment.submitted_on == effective_on,
                "a backdated payment is COMPLETED as of its day",
            )
            _expect(
                self._net_owed() <= owed - amount or charged_off or self._replay_differs(),
                f"owed {owed} -> {self._net_owed()} after a payment of {amount}",
            )
            self._corrected(accrued)
            if data.draw(st.booleans(), label="delivered again"):
                self._refused(DuplicatePayment, command)

        self._before_the_job(book, before_overdue_job=before_overdue_job)

    def _book_backdated_draw(
        self, data: st.DataObject, rail: Rail, *, before_overdue_job: bool
    ) -> None:
        """A draw a rail sent on an earlier day, booked today (before today's job or after).

        Owed as of its day: what the line owes (less what it owes back) rises by the amount
        at least (unless the corrected history charged the line off, which stops its
        interest: `_charged_off`, whether or not a payoff closed it since); the same draw
        again is a duplicate. Refused, changing nothing: beyond the correction reach, or
        over a refund paid out.
        """

        def book() -> None:
            line = self.line
            effective_on, too_old = self._effective_day(data)
            amount = data.draw(st.integers(1, line.credit_limit), label="backdated draw")
            draw_id = self._next_id("backdated-draw")

            def command() -> Draw:
                return line.book_backdated_draw(
                    draw_id=draw_id,
                    amount=amount,
                    rail=rail,
                    effective_on=effective_on,
                    reason="the rail reported late",
                    today=self.today,
                    product=self.product,
                    posted=self.ledger.entries(),
                    before_overdue_job=before_overdue_job,
                )

            owed = self._net_owed()
            draw = self._unless_refused(command, too_old=too_old, what="backdated draw")
            if draw is None:
                return
            event(f"backdated draw (before the job: {before_overdue_job})")
            _expect(
                draw.status is DrawStatus.DISBURSED and draw.settled_on == effective_on,
                "a backdated draw is DISBURSED as of its day",
            )
            _expect(
                self._net_owed() >= owed + amount or self._charged_off() or self._replay_differs(),
                f"owed {owed} -> {self._net_owed()} after a draw of {amount}",
            )
            self._corrected(None)
            if data.draw(st.booleans(), label="delivered again"):
                self._refused(DuplicatePayment, command)

        self._before_the_job(book, before_overdue_job=before_overdue_job)

    def _unless_refused(self, command: Callable[[], R], *, too_old: bool, what: str) -> R | None:
        """A correction booked late, or None when refused.

        Refused exactly when beyond the reach (`too_old`) or over a refund paid out, and
        then changing nothing (the line equals its copy taken first, `_trial`).
        """
        trial = self._trial(refusable=too_old)
        try:
            done = command()
        except (CorrectionTooOld, RefundAlreadyPaid) as refused:
            event(f"{what} refused: {type(refused).__name__}")
            _expect(trial is not None and self.line == trial, f"a refused {what} changed the line")
            _expect(too_old == isinstance(refused, CorrectionTooOld), "refused as too old")
            return None
        _expect(not too_old, f"a {what} beyond the reach taken")
        return done

    def _unreversed(self) -> list[str]:
        return sorted(i for i, p in self.line.payments.items() if not p.status.reversed)

    @precondition(lambda self: self.booked_late < _BOOKED_LATE and bool(self._unreversed()))
    @rule(
        data=st.data(),
        outcome=st.sampled_from([SettlementOutcome.RETURNED, SettlementOutcome.CHARGED_BACK]),
        before_overdue_job=st.booleans(),
    )
    def correct_a_return(
        self,
        data: st.DataObject,
        outcome: SettlementOutcome,
        before_overdue_job: bool,  # noqa: FBT001 - keyword from hypothesis
    ) -> None:
        """A payment returned or charged back, reversed as of the day it was applied.

        (`settle` reverses from the rail's day instead.) What the line owes (less what it
        owes back) rises by the payment at least (unless the corrected history charged the
        line off, `_charged_off`: a payment that delayed the charge-off, returned, moves it
        earlier, stopping interest and late fees sooner, even when a payoff closed the line
        since); the same return again is refused. Refused, changing nothing: beyond the
        correction reach, or over a refund paid out.
        """

        def correct() -> None:
            line = self.line
            payment_id = data.draw(st.sampled_from(self._unreversed()), label="returned")
            payment = line.payments[payment_id]
            too_old = payment.submitted_on < self.today - self.product.corrections.reach

            def command() -> LocPayment:
                return line.correct_return(
                    payment_id=payment_id,
                    outcome=outcome,
                    today=self.today,
                    product=self.product,
                    posted=self.ledger.entries(),
                    before_overdue_job=before_overdue_job,
                )

            owed = self._net_owed()
            if self._unless_refused(command, too_old=too_old, what="return") is None:
                return
            event(f"return corrected (before the job: {before_overdue_job})")
            self.reversed_as_of_their_day.add(payment_id)
            _expect(payment.status.reversed, "the payment is marked reversed")
            _expect(
                self._net_owed() >= owed + payment.amount
                or self._charged_off()
                or self._replay_differs(),
                f"owed {owed} -> {self._net_owed()} after returning {payment.amount}",
            )
            self._corrected(None)
            if data.draw(st.booleans(), label="delivered again"):
                self._refused(PaymentAlreadyReversed, command)

        self._before_the_job(correct, before_overdue_job=before_overdue_job)

    # -- corrections the machine books ---------------------------------------------------

    def _net_owed(self) -> int:
        return self.line.total_balance - self.line.refunds_due

    def _accrued(self) -> int:
        line = self.line
        return line.accrued_cent_days + line.principal_balance * (
            (self.today - line.accrued_through).days
        )

    def _accrued_unless_defaulted(self) -> int | None:
        return None if self.defaulted_on is not None else self._accrued()

    def _corrected(self, accrued_before: int | None) -> None:
        """After a waiver or an error credited: post it, and take its cent-days as given.

        The correction replays the cycle (a payment that paid a fee pays principal as of
        its day; a draw in error leaves it): its cent-days never rise, and the machine's
        day-by-day history takes the corrected total (on the cycle's first day) so later
        days are checked as before. The replay itself is the corrections suite's
        (``docs/corrections.md``). A line the correction no longer defaults accrues again.
        """
        line = self.line
        self._flush()
        self.money_in_on = self.today
        self.corrections += 1
        self.corrected_this_cycle = self.fees_unknown = True
        self.corrected_on = self.today
        if line.status is not LineStatus.DEFAULTED and line.status is not LineStatus.CLOSED:
            if self.defaulted_on is not None:
                event("a correction undid the default")
            self.defaulted_on = None
        if self.defaulted_on is not None:
            return
        accrued = self._accrued()
        _expect(
            accrued_before is None or accrued <= accrued_before or self._replay_differs(),
            f"a correction raised the cent-days from {accrued_before} to {accrued}",
        )
        naive = sum(self.end_of_day[day] for day in _days(line.cycle_start, self.today))
        if accrued != naive:
            self.end_of_day[line.cycle_start] += accrued - naive

    # -- time ----------------------------------------------------------------------------

    @rule(days=st.integers(1, 45), autopay=st.booleans())
    def days_pass(self, days: int, autopay: bool) -> None:  # noqa: FBT001 - keyword from hypothesis
        """Days go by: billing on close dates, autopay on due dates, the daily jobs."""
        self._live(days, autopay=autopay)

    @rule(days=st.integers(60, 130))
    def months_pass_unpaid(self, days: int) -> None:
        """A long stretch without autopay: far enough past due to default."""
        self._live(days, autopay=False)

    def _live(self, days: int, *, autopay: bool) -> None:
        for _ in range(days):
            self._begin_day(autopay=autopay)
            self._overdue_job()

    def _begin_day(self, *, autopay: bool = False) -> None:
        """The next day up to its overdue job's hour: billing, autopay, the upcoming notice."""
        self.end_of_day[self.today] = self.line.principal_balance
        self.today += _ONE_DAY
        if self.today == self.line.next_close_date:
            self._bill()
        if autopay:
            decision = self.line.decide_due(today=self.today)
            if decision.amount:
                self._submit(self._next_id("autopay"), decision.amount, decision.rails[0])
        self.line.send_upcoming_notice(today=self.today, product=self.product)

    def _overdue_job(self) -> None:
        """Today's overdue job at its hour (`OVERDUE_JOB_AT`)."""
        self.line.run_overdue(today=self.today, product=self.product)
        self._flush()

    def _before_the_job(self, command: Callable[[], None], *, before_overdue_job: bool) -> None:
        """Run `command` now (after today's job), or on the next day before its job's hour.

        Every rule leaves the machine after the day's overdue job; one booked before it
        (`before_overdue_job`) starts the next day, runs, and then that day's job runs.
        """
        if before_overdue_job:
            self._begin_day()
        command()
        if before_overdue_job:
            self._overdue_job()

    def _bill(self) -> None:
        line = self.line
        cycle = [self.end_of_day[day] for day in _days(line.cycle_start, self.today)]
        defaulted = self.defaulted_on is not None and self.defaulted_on < self.today
        statement = line.bill_cycle(close_date=self.today, today=self.today, product=self.product)
        _expect(statement is not None, "a closed cycle bills")
        if statement is None:
            return
        expected = 0 if defaulted else naive_interest(cycle, line.apr)
        _expect(
            statement.interest_charged == expected,
            f"interest {statement.interest_charged} != day-by-day {expected}",
        )
        _expect(0 <= statement.minimum_payment <= statement.closing.total, "minimum in bounds")
        again = copy.deepcopy(line)
        _expect(
            line.bill_cycle(close_date=self.today, today=self.today, product=self.product) is None
            and line == again,
            "billing a cycle twice changes nothing",
        )
        for day in [day for day in self.end_of_day if day < self.today]:
            del self.end_of_day[day]
        self.corrected_this_cycle = False
        self.statements += 1
        self.issued[statement.statement_date] = statement

    @rule()
    def daily_jobs_twice_change_nothing(self) -> None:
        """Upcoming and overdue run again on the same day and change nothing."""
        self.line.send_upcoming_notice(today=self.today, product=self.product)
        self.line.run_overdue(today=self.today, product=self.product)
        self._flush()
        before = copy.deepcopy(self.line)
        self.line.send_upcoming_notice(today=self.today, product=self.product)
        self.line.run_overdue(today=self.today, product=self.product)
        _expect(self.line == before, "a second run on the same day changed the line")

    @precondition(lambda self: self.statements > 0)
    @rule()
    def close(self) -> None:
        """Close the line, refused while anything is owed, pending or accruing."""
        line = self.line
        if line.status is LineStatus.CLOSED:
            return
        if line.total_balance or line.pending_draws_total or line.accrued_cent_days:
            self._refused(
                InvalidTransition,
                lambda: line.close(on=self.today, reason="borrower asked"),
            )
            return
        line.close(on=self.today, reason="borrower asked")
        _expect(self.line.status is LineStatus.CLOSED, "a line owing nothing closes")
        self._flush()

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def ledger_proves_the_balances(self) -> None:
        """The ledger balances; receivables, allowance and refunds due equal the line's."""
        line, ledger = self.line, self.ledger
        _expect(ledger.trial_balance() == 0, "the ledger balances")
        _expect(not line.outbox, "everything recorded was posted")
        for bucket, owed in (
            (Bucket.PRINCIPAL, line.principal_balance),
            (Bucket.INTEREST, line.interest_balance),
            (Bucket.FEE, line.fee_balance),
        ):
            booked = ledger.balance(receivable(line.line_id, bucket))
            _expect(booked == owed, f"{bucket.value}: ledger {booked} != line {owed}")
        reserved = -ledger.balance(allowance(line.line_id))
        expected = line.total_balance if line.status is LineStatus.DEFAULTED else 0
        _expect(reserved == expected, f"allowance {reserved} != {expected}")
        owed_back = -ledger.balance(refund_due(line.line_id))
        _expect(owed_back == line.refunds_due, f"refund due {owed_back} != {line.refunds_due}")

    @invariant()
    def a_line_never_both_owes_and_is_owed(self) -> None:
        """While the line owes its borrower money back, the borrower owes it nothing."""
        line = self.line
        _expect(
            line.refunds_due == 0 or line.total_balance == 0,
            f"owes {line.total_balance} while {line.refunds_due} is owed back",
        )

    @invariant()
    def a_closed_line_owes_nothing(self) -> None:
        """A CLOSED line owes nothing and holds no draw: whatever a correction replayed."""
        line = self.line
        if line.status is LineStatus.CLOSED:
            _expect(
                line.total_balance == 0 and line.pending_draws_total == 0,
                f"CLOSED while owing {line.total_balance} (pending {line.pending_draws_total})",
            )

    @invariant()
    def a_charged_off_line_paid_in_full_is_closed(self) -> None:
        """A DEFAULTED line owes something or waits on a pending draw: paid in full, it closes."""
        line = self.line
        if line.status is LineStatus.DEFAULTED:
            _expect(
                line.total_balance > 0 or line.pending_draws_total > 0,
                "a charged-off line owing nothing, with nothing pending, is still DEFAULTED",
            )

    @invariant()
    def a_waived_fee_is_never_charged_again(self) -> None:
        """A cycle whose fee an operator waived is charged none by the line's replayed history.

        Checked once after each correction booked on a line with waivers, the replays that
        correct it; what jobs and corrections post is checked as it is posted (`_flush`).
        """
        line = self.line
        if not line.late_fee_waivers:
            return
        seen = (len(line.late_fee_waivers), self.corrections)
        if seen == self.replayed:
            return
        self.replayed = seen
        history = replay_line(line, today=self.today, product=self.product)
        charged = {entry.entry_id for entry in history.outbox.entries}
        for reference in line.late_fee_waivers:
            _expect(reference not in charged, f"the replay charges the waived {reference}")

    @invariant()
    def each_cycles_late_fee_is_charged_once_net(self) -> None:
        """The fees the books charged the line, net, are those its replayed history charges.

        The replay charges each missed cycle's fee at most once (less what was waived or
        credited), so a fee a correction took back and a job charged again nets to one.
        Checked when the job posts a fee on a cycle a correction changed (a replay each
        time; a line no correction touched is its own replay by construction).
        """
        if not self.fees_booked:
            return
        self.fees_booked = False
        if self._replay_differs():
            return
        history = self._fees_as_replayed()
        charged = [e.entry_id for e in history if e.kind is EntryKind.LATE_FEE]
        _expect(len(charged) == len(set(charged)), f"the replay charges a fee twice: {charged}")
        replayed = account_balances(history).get(income(Bucket.FEE), 0)
        booked = self.ledger.balance(income(Bucket.FEE))
        _expect(booked == replayed, f"fees booked {-booked} != the history's {-replayed}")

    def _fees_as_replayed(self) -> list[JournalEntry]:
        """Take `fees` (what a waiver may name) from the line's replayed books, returned.

        A correction may charge a cycle's fee in its adjustment, or take one back.
        """
        line = self.line
        history = replay_line(line, today=self.today, product=self.product)
        cycle_at = len(line.line_id) + 1
        self.fees = {
            dt.date.fromisoformat(e.entry_id[cycle_at:].split(":")[0]): e.effective_date
            for e in history.outbox.entries
            if e.kind is EntryKind.LATE_FEE
        }
        self.fees_unknown = False
        return history.outbox.entries

    @invariant()
    def an_open_dispute_is_never_past_due(self) -> None:
        """What OPEN disputes claim is neither past due nor collected by the due job."""
        line = self.line
        held = sum(dispute.amount for dispute in line.disputes.values() if dispute.is_open)
        if not held:
            return
        unheld = max(0, line.minimum_payment_outstanding - held)
        past_due = line.past_due_amount(self.today)
        _expect(past_due <= unheld, f"{past_due} past due while {held} is disputed")
        collected = line.decide_due(today=self.today).amount
        _expect(collected <= unheld, f"the due job debits {collected} while {held} is disputed")

    @invariant()
    def amounts_stay_in_bounds(self) -> None:
        """Available credit, balances and the minimum stay in their bounds."""
        line = self.line
        _expect(0 <= line.available_credit <= line.credit_limit, "available credit in bounds")
        _expect(
            min(line.principal_balance, line.interest_balance, line.fee_balance) >= 0,
            "no negative balance",
        )
        _expect(line.pending_draws_total >= 0, "no negative hold")
        _expect(
            0 <= line.minimum_payment_outstanding <= line.total_balance,
            "minimum payment within [0, total balance]",
        )

    @invariant()
    def status_follows_the_past_due_amount(self) -> None:
        """ACTIVE owes nothing past due; SUSPENDED does."""
        line = self.line
        owed = line.past_due_amount(self.today)
        if line.status is LineStatus.ACTIVE:
            _expect(owed == 0, f"ACTIVE with {owed} cents past due")
        if line.status is LineStatus.SUSPENDED:
            _expect(owed > 0, "SUSPENDED with nothing past due")

    @invariant()
    def the_overdue_index_watches_every_line_the_job_would_change(self) -> None:
        """Whenever the overdue job would act on the line, its index key says to look."""
        if self.line.decide_overdue(today=self.today, product=self.product).acts:
            watch = self.line.overdue_watch_from()
            _expect(
                watch is not None and watch <= self.today,
                f"overdue index misses the line ({watch})",
            )

    @invariant()
    def a_ref_that_says_nothing_to_remind_of_hides_no_notice(self) -> None:
        """The upcoming job passes over a line on its index ref's hint: rightly, every day."""
        if LineRef.of(self.line).reminder_pending:
            return
        for ahead in range(self.product.upcoming_notice_days + 2):
            day = self.today + dt.timedelta(days=ahead)
            decision = self.line.decide_upcoming(today=day, product=self.product)
            _expect(not decision.notify, f"the hint hides the notice due on {day}")

    @invariant()
    def accrued_interest_matches_the_days(self) -> None:
        """The cent-days accumulator equals the day-by-day sum of principal."""
        line = self.line
        if self.defaulted_on is not None:
            _expect(line.accrued_cent_days == 0, "a defaulted line accrues nothing")
            return
        accrued = line.accrued_cent_days + line.principal_balance * (
            (self.today - line.accrued_through).days
        )
        naive = sum(self.end_of_day[day] for day in _days(line.cycle_start, self.today))
        _expect(accrued == naive, f"cent-days {accrued} != day-by-day {naive}")


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days)]
