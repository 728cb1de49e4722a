"""Hypothesis strategies and a state machine for the installment-loan product.

Downstream suites reuse them to drive loans through random lives::

    from loc_core.testing.installment import LoanLifecycle

    TestLoanLifecycle = LoanLifecycle.TestCase

`LoanLifecycle` lets days pass (running the daily job), pays in full, partly and ahead
(and after a day's job that changed the loan), records autopay attempts, settles,
returns and charges back payments (some taken when nothing was owed, booked as refunds
due), corrected as of the day they were applied (learned before or after the job's
hour) or reversed as of today (a correction too large for one commit), books operators'
backdated payments, waives late fees, redelivers settlement events and tries commands
that must be refused, and after every step proves each invariant, against an
independent `Ledger` built from every journal entry the loan posted (which refuses an
entry id posted twice).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

import attrs
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from loc_core import calendar
from loc_core.applications import AdverseAction
from loc_core.corrections import CorrectionPolicy
from loc_core.errors import (
    CorrectionTooOld,
    DomainError,
    DuplicatePayment,
    InvalidTransition,
    LoanCancelled,
    NoLateFee,
    Overpayment,
    PaymentAlreadyReversed,
    PaymentAlreadySettled,
    RefundAlreadyPaid,
    RefundNotSettled,
)
from loc_core.installment import (
    WATERFALL,
    InstallmentProduct,
    InstallmentStatus,
    Loan,
    LoanApplication,
    LoanStatus,
    OriginationFee,
    Payment,
    Process,
    originate,
)
from loc_core.installment.replay import replay
from loc_core.ledger import (
    CLEARING,
    FUNDING,
    Bucket,
    Ledger,
    Side,
    allowance,
    income,
    receivable,
    refund_due,
)
from loc_core.money import Rounding
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.refunds import RefundDue, paid_out
from loc_core.returns import MAX_PRESENTMENTS
from loc_core.testing._calendar import days, moments

__all__ = [
    "LoanLifecycle",
    "ReturnedDisbursementLifecycle",
    "applications",
    "approved_applications",
    "balances_and_statuses",
    "ledger_problems",
    "loans",
    "make_loan",
    "origination_fees",
    "payment_amounts",
    "products",
    "rejected_applications",
]

_UTC = dt.UTC
_SETTLED = (PaymentStatus.COMPLETED, PaymentStatus.RETURNED, PaymentStatus.CHARGED_BACK)
_REVERSAL = {Rail.ACH: SettlementOutcome.RETURNED, Rail.PINLESS: SettlementOutcome.CHARGED_BACK}
_ENDED = (LoanStatus.CLOSED, LoanStatus.CANCELLED)
"""Statuses that take no payment: paid off, or cancelled because the disbursement came back."""


# --- strategies ---------------------------------------------------------------------


@st.composite
def products(draw: st.DrawFn) -> InstallmentProduct:
    """Valid products around the policy defaults (counts, grace, fees, cap, default days)."""
    lowest = draw(st.integers(1, 8))
    highest = draw(st.integers(lowest, 12))
    return InstallmentProduct(
        min_installments=lowest,
        max_installments=highest,
        default_installments=draw(st.integers(lowest, highest)),
        grace_days=draw(st.integers(0, 10)),
        late_fee_fixed=draw(st.integers(0, 1_000)),
        late_fee_percent=draw(st.decimals("0", "10", places=2)),
        late_fee_cap_percent=draw(st.decimals("0", "30", places=2)),
        default_after_days=draw(st.integers(1, 90)),
        max_collection_attempts=draw(st.integers(1, MAX_PRESENTMENTS)),
        fee_rounding=draw(st.sampled_from(Rounding)),
    )


def origination_fees() -> st.SearchStrategy[OriginationFee]:
    """Fixed fees up to $50 and percentage fees up to 20 %."""
    return st.one_of(
        st.integers(0, 5_000).map(OriginationFee.fixed),
        st.decimals("0", "20", places=2).map(OriginationFee.percentage),
    )


@st.composite
def approved_applications(
    draw: st.DrawFn, *, product: InstallmentProduct | None = None
) -> LoanApplication:
    """APPROVED offers of $1 to $2,000 under `product` (or a drawn one)."""
    chosen = product if product is not None else draw(products())
    count = draw(st.integers(chosen.min_installments, chosen.max_installments))
    return LoanApplication.approve(
        product=chosen,
        user_id="user-1",
        application_id=f"app-{draw(st.integers(1, 10**6))}",
        loan_number=f"FM-{draw(st.integers(1, 999_999)):06d}",
        loan_amount=draw(st.integers(max(count, 100), 200_000)),
        fee=draw(origination_fees()),
        now=draw(moments()),
        installment_count=count,
    )


@st.composite
def rejected_applications(draw: st.DrawFn) -> LoanApplication:
    """REJECTED applications with one to three adverse actions."""
    codes = draw(st.lists(st.sampled_from(["R01", "R02", "R03", "R04"]), min_size=1, max_size=3))
    return LoanApplication.reject(
        user_id="user-1",
        application_id=f"app-{draw(st.integers(1, 10**6))}",
        adverse_actions=[AdverseAction(code, f"reason {code}") for code in codes],
        now=draw(moments()),
    )


def applications(
    *, product: InstallmentProduct | None = None
) -> st.SearchStrategy[LoanApplication]:
    """Underwriting outcomes: APPROVED offers and REJECTED applications."""
    return st.one_of(approved_applications(product=product), rejected_applications())


@st.composite
def loans(draw: st.DrawFn, *, product: InstallmentProduct | None = None) -> Loan:
    """Freshly disbursed OPEN loans under `product` (or a drawn one), on `days` often edge days.

    The outbox still holds the origination (its disbursement entry, events and audit), as
    `make_loan`'s does: post ``loan.outbox.drain().entries`` to a `Ledger` and
    `ledger_problems(loan, ledger)` holds the loan to it from its first cent.
    """
    chosen = product if product is not None else draw(products())
    application = draw(approved_applications(product=chosen))
    return originate(
        application,
        product=chosen,
        loan_id="loan-1",
        installment_id=lambda number: f"loan-1:{number}",
        disbursed_on=application.created_at.date(),
        rail=draw(st.sampled_from([Rail.ACH, Rail.PINLESS, Rail.RTP])),
        confirmation_id="confirmation-1",
        now=application.created_at,
        autopay_enabled=draw(st.booleans()),
    )


def payment_amounts(loan: Loan) -> st.SearchStrategy[int]:
    """Amounts a payment on `loan` may have: one cent up to everything owed.

    A loan that owes nothing (CLOSED, or CANCELLED because its disbursement came back) takes
    no payment; one cent is drawn all the same, so the strategy never comes up empty, and
    the loan refuses it.
    """
    return st.integers(1, max(loan.outstanding_balance, 1))


def make_loan(
    *,
    loan_amount: int = 30_000,
    fee: int | OriginationFee = 1_500,
    count: int = 6,
    disbursed_on: dt.date = dt.date(2026, 1, 5),
    product: InstallmentProduct | None = None,
    loan_id: str = "loan-1",
    user_id: str = "user-1",
    autopay_enabled: bool = True,
) -> Loan:
    """A loan made the way a service makes one: approved at 15:00 UTC, disbursed by ACH.

    The defaults are the worked example of the docs: $300 at a $15 fee in 6 installments;
    an int `fee` is a fixed fee in cents. The loan's outbox still holds the disbursement.
    """
    chosen = product if product is not None else InstallmentProduct()
    now = dt.datetime(disbursed_on.year, disbursed_on.month, disbursed_on.day, 15, tzinfo=_UTC)
    application = LoanApplication.approve(
        product=chosen,
        user_id=user_id,
        application_id=f"app-{loan_id}",
        loan_number="FM-000001",
        loan_amount=loan_amount,
        fee=fee if isinstance(fee, OriginationFee) else OriginationFee.fixed(fee),
        now=now,
        installment_count=count,
    )
    return originate(
        application,
        product=chosen,
        loan_id=loan_id,
        installment_id=lambda number: f"{loan_id}:{number}",
        disbursed_on=disbursed_on,
        rail=Rail.ACH,
        confirmation_id=f"disb-{loan_id}",
        now=now,
        autopay_enabled=autopay_enabled,
    )


# --- checks -------------------------------------------------------------------------


def balances_and_statuses(loan: Loan) -> tuple[object, ...]:
    """What a borrower would see of a loan: balances per installment and bucket, statuses."""
    return (
        loan.status,
        loan.outstanding_balance,
        loan.completion_date,
        tuple(
            (
                installment.status,
                installment.total_amount,
                installment.outstanding_balance,
                installment.overdue_on,
                tuple(installment.unpaid(bucket) for bucket in WATERFALL),
            )
            for installment in loan.installments
        ),
    )


def ledger_problems(loan: Loan, ledger: Ledger) -> list[str]:
    """Where `ledger` (every entry the loan posted) disagrees with the loan's balances."""
    found: list[str] = []
    for entry in ledger:
        debits = sum(p.amount for p in entry.postings if p.side is Side.DEBIT)
        credits_ = sum(p.amount for p in entry.postings if p.side is Side.CREDIT)
        if debits != credits_:
            found.append(f"{entry.entry_id} does not balance")
    if ledger.trial_balance() != 0:
        found.append(f"trial balance is {ledger.trial_balance()}")
    for bucket, owed in loan.bucket_balances().items():
        booked = ledger.balance(receivable(loan.loan_id, bucket))
        if booked != owed:
            found.append(f"{bucket.value}: ledger {booked} != loan {owed}")
    found += _owed_to_borrower_problems(loan, ledger)
    reserved = -loan.outstanding_balance if loan.status is LoanStatus.DEFAULTED else 0
    if ledger.balance(allowance(loan.loan_id)) != reserved:
        found.append(f"allowance {ledger.balance(allowance(loan.loan_id))} != {reserved}")
    live = sum(p.amount for p in loan.payments.values() if not p.status.reversed)
    if ledger.balance(CLEARING) != live:
        found.append(f"clearing {ledger.balance(CLEARING)} != payments not reversed {live}")
    if ledger.balance(income(Bucket.LATE_FEE)) != -loan.late_fees_assessed:
        found.append("late-fee income differs from the fees assessed")
    disbursed = 0 if loan.status is LoanStatus.CANCELLED else loan.amount_disbursed
    sent_back = paid_out(payment.refund for payment in loan.payments.values())
    if ledger.balance(FUNDING) != -disbursed - sent_back:  # a CANCELLED loan's came back
        found.append("funding differs from the amount disbursed and the refunds paid out")
    return found


def _owed_to_borrower_problems(loan: Loan, ledger: Ledger) -> list[str]:
    """The refund-due liability must hold exactly the loan's refunds still due."""
    held = -ledger.balance(refund_due(loan.loan_id))
    return [] if held == loan.refunds_due else [f"refund due {held} != {loan.refunds_due}"]


# --- the state machine --------------------------------------------------------------


class LoanLifecycle(RuleBasedStateMachine):
    """A random life of one loan, with every invariant checked after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.loan = make_loan()
        self.ledger = Ledger()
        self.today = self.loan.disbursement_date
        self.payments_made = 0
        self._post()

    @initialize(
        product=products(),
        loan_amount=st.integers(100, 200_000),
        fee=origination_fees(),
        disbursed_on=days(),
        data=st.data(),
    )
    def disburse(
        self,
        product: InstallmentProduct,
        loan_amount: int,
        fee: OriginationFee,
        disbursed_on: dt.date,
        data: st.DataObject,
    ) -> None:
        """Replace the default loan with a drawn one, under a drawn product.

        Half of the products get a cap of at most 2 % of the loan, so that it cuts fees
        (and a waiver's freed room matters) in many runs; half charge no late fee for an
        installment missed only because its payment was returned.
        """
        if data.draw(st.booleans(), label="tight cap"):
            cap = data.draw(st.decimals("0", "2", places=2), label="cap percent")
            product = attrs.evolve(product, late_fee_cap_percent=cap)
        if data.draw(st.booleans(), label="no fee for a miss only a return made"):
            product = attrs.evolve(
                product, corrections=CorrectionPolicy(late_fee_when_missed_by_return=False)
            )
        count = data.draw(st.integers(product.min_installments, product.max_installments))
        self.loan = make_loan(
            loan_amount=max(loan_amount, count),
            fee=fee,
            count=count,
            disbursed_on=disbursed_on,
            product=product,
            autopay_enabled=data.draw(st.booleans()),
        )
        self.ledger = Ledger()
        self.today = disbursed_on
        self._post()

    # --- time -----------------------------------------------------------------------

    @rule(days=st.integers(1, 21))
    def days_pass(self, days: int) -> None:
        """The daily job runs on each day that passes, and a second time on the last."""
        for _ in range(days):
            self.today += dt.timedelta(days=1)
            self.loan.run_daily(self.today)
        self._post()
        self._unchanged_by(lambda: self.loan.run_daily(self.today), None)

    @precondition(
        lambda self: (
            self.loan.status is LoanStatus.OPEN
            and any(i.status is InstallmentStatus.SCHEDULED for i in self.loan.installments)
        )
    )
    @rule()
    def days_pass_to_an_overdue_day(self) -> None:
        """Days pass, the job running each, to the day the next installment unpaid is overdue.

        The day a late fee is assessed (and the cap may cut it) is the day an operator
        most often waives an earlier one.
        """
        scheduled = [i for i in self.loan.installments if i.status is InstallmentStatus.SCHEDULED]
        target = max(self.today, self.loan.product.overdue_on(scheduled[0].due_date))
        while self.today < target:
            self.today += dt.timedelta(days=1)
            self.loan.run_daily(self.today)
        self._post()

    @rule(days=st.integers(30, 120))
    def job_skips_days(self, days: int) -> None:
        """The daily job was down; its next run catches up."""
        self.today += dt.timedelta(days=days)
        self.loan.run_daily(self.today)
        self._post()

    # --- payments -------------------------------------------------------------------

    @precondition(lambda self: self.loan.status not in _ENDED)
    @rule(
        data=st.data(),
        process=st.sampled_from([Process.AUTOPAY, Process.MANUAL]),
        rail=st.sampled_from([Rail.ACH, Rail.PINLESS]),
    )
    def pay_part(self, data: st.DataObject, process: Process, rail: Rail) -> None:
        """A payment of any amount up to the balance: partial, exact or prepaying."""
        amount = data.draw(payment_amounts(self.loan), label="amount")
        self._pay(amount, process, rail)

    @precondition(lambda self: self.loan.status not in _ENDED)
    @rule(rail=st.sampled_from([Rail.ACH, Rail.PINLESS]))
    def pay_in_full(self, rail: Rail) -> None:
        """A payoff: the loan closes."""
        self._pay(self.loan.outstanding_balance, Process.MANUAL, rail)
        if self.loan.status is not LoanStatus.CLOSED:
            raise AssertionError("a payoff did not close the loan")

    @precondition(lambda self: self.loan.status not in _ENDED)
    @rule(process=st.sampled_from([Process.AUTOPAY, Process.MANUAL]))
    def overpay(self, process: Process) -> None:
        """More than is owed is refused, whatever the process, and changes nothing."""
        amount = self.loan.outstanding_balance + 1
        self._unchanged_by(
            lambda: self.loan.apply_payment(
                "over", amount, process=process, rail=Rail.ACH, today=self.today
            ),
            Overpayment,
        )

    @rule(
        excess=st.integers(1, 50_000),
        owed_part=st.booleans(),
        rail=st.sampled_from([Rail.ACH, Rail.PINLESS]),
    )
    def book_money_that_moved(self, excess: int, rail: Rail, *, owed_part: bool) -> None:
        """A rail took more than is owed (all of it on a CLOSED loan): the rest is a refund due."""
        loan = self.loan
        owed, was_closed = loan.outstanding_balance, loan.status is LoanStatus.CLOSED
        amount = (owed if owed_part else 0) + excess
        self.payments_made += 1
        payment = loan.book_moved_payment(
            f"moved-{self.payments_made}",
            amount,
            process=Process.AUTOPAY,
            rail=rail,
            today=self.today,
        )
        self._post()
        refund = amount - min(amount, owed)
        if payment.applied_amount != amount - refund or (
            refund and (payment.refund is None or payment.refund.amount != refund)
        ):
            raise AssertionError("a moved payment split differently from what was owed")
        if was_closed and loan.status is not LoanStatus.CLOSED:
            raise AssertionError("money that moved reopened a CLOSED loan")

    @precondition(lambda self: self.loan.status in _ENDED)
    @rule()
    def pay_a_closed_loan(self) -> None:
        """A CLOSED or CANCELLED loan takes no payment."""
        self._unchanged_by(
            lambda: self.loan.apply_payment(
                "late", 100, process=Process.MANUAL, rail=Rail.ACH, today=self.today
            ),
            LoanCancelled if self.loan.status is LoanStatus.CANCELLED else InvalidTransition,
        )

    @precondition(lambda self: bool(self.loan.payments))
    @rule(data=st.data())
    def apply_a_payment_again(self, data: st.DataObject) -> None:
        """A payment id already applied is refused, even after a return."""
        payment_id = data.draw(st.sampled_from(sorted(self.loan.payments)))
        expected: type[DomainError] = {
            LoanStatus.CLOSED: InvalidTransition,
            LoanStatus.CANCELLED: LoanCancelled,
        }.get(self.loan.status, DuplicatePayment)
        self._unchanged_by(
            lambda: self.loan.apply_payment(
                payment_id, 1, process=Process.MANUAL, rail=Rail.ACH, today=self.today
            ),
            expected,
        )

    @precondition(lambda self: self.loan.status not in _ENDED)
    @rule(data=st.data(), declined=st.booleans())
    def attempt_collection(self, data: st.DataObject, *, declined: bool) -> None:
        """Autopay tries an unpaid installment: the attempt is counted, nothing else moves.

        The command verifies only the installment it touched; the invariants below prove
        the whole loan after it.
        """
        unpaid = [i.installment_id for i in self.loan.installments if not i.is_paid]
        installment = self.loan.installment(data.draw(st.sampled_from(unpaid)))
        before = balances_and_statuses(self.loan)
        attempts = installment.collection_attempts
        outcome = "declined (nsf)" if declined else "accepted"
        number = self.loan.record_collection_attempt(
            installment.installment_id, today=self.today, outcome=outcome
        )
        self._post()
        if number != attempts + 1 or installment.last_collection_attempt_on != self.today:
            raise AssertionError("an attempt was not counted and dated")
        if balances_and_statuses(self.loan) != before:
            raise AssertionError("an attempt changed balances or statuses")

    # --- settlement -----------------------------------------------------------------

    @precondition(lambda self: bool(self._payments(PaymentStatus.PENDING)))
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        """A pending payment settles: only its status changes."""
        payment_id = data.draw(st.sampled_from(self._payments(PaymentStatus.PENDING)))
        before = balances_and_statuses(self.loan)
        self.loan.settle(payment_id, SettlementOutcome.COMPLETED, today=self.today)
        self._post()
        if balances_and_statuses(self.loan) != before:
            raise AssertionError("a completion changed balances or statuses")

    @precondition(lambda self: bool(self._payments(PaymentStatus.PENDING, PaymentStatus.COMPLETED)))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        """An ACH return or a pinless chargeback, before or after completion, as of today.

        What the settlement handler books when the correction is too large for one commit
        (or the loan was adopted from the Go service): exactly what the payment applied is
        owed again today, with no replay; `reverse_and_correct` is the usual path.
        """
        payment_id = data.draw(
            st.sampled_from(self._payments(PaymentStatus.PENDING, PaymentStatus.COMPLETED))
        )
        payment = self.loan.payments[payment_id]
        if payment.refund is not None and payment.refund.is_paid:
            # The money to give back was already sent: refused, handled by hand.
            self._unchanged_by(
                lambda: self.loan.settle(payment_id, _REVERSAL[payment.rail], today=self.today),
                RefundAlreadyPaid,
            )
            return
        owed = self.loan.outstanding_balance
        self.loan.settle(payment_id, _REVERSAL[payment.rail], today=self.today)
        self._post()
        if self.loan.outstanding_balance != owed + payment.applied_amount:
            raise AssertionError("a return did not restore exactly what the payment paid")

    @precondition(lambda self: bool(self._payments(PaymentStatus.PENDING, PaymentStatus.COMPLETED)))
    @rule(data=st.data(), before_job=st.booleans())
    def reverse_and_correct(self, data: st.DataObject, *, before_job: bool) -> None:
        """A return or chargeback as the settlement handler books it: settled, then corrected.

        The loan is corrected as of the day the payment was applied (`Loan.correct`), in
        the same commit: refused as a whole (nothing committed) beyond the correction
        reach or when it would change a refund already paid out. Learned before today's
        job's hour (`before_job`), today's job then runs at its hour; either way the loan
        ends as its history replayed, and what was paid before the payment's day stays paid.
        """
        payment_id = data.draw(
            st.sampled_from(self._payments(PaymentStatus.PENDING, PaymentStatus.COMPLETED))
        )
        payment = self.loan.payments[payment_id]
        outcome = _REVERSAL[payment.rail]
        before = copy.deepcopy(self.loan)
        # (a CANCELLED loan has no history to replay: its return only cancels a refund)
        baseline = None if self.loan.cancelled else replay(self.loan, through=self.today)
        try:
            self.loan.settle(payment_id, outcome, today=self.today)
            if not self.loan.cancelled:
                self.loan.correct(
                    cause=f"{payment_id}:{outcome.value.lower()}",
                    effective=payment.submitted_on,
                    today=self.today,
                    posted=self.ledger.entries(),
                    reason=f"payment {payment_id} {outcome.value}",
                    before_daily_job=before_job,
                )
        except (CorrectionTooOld, RefundAlreadyPaid) as exc:
            event(f"corrected return refused: {type(exc).__name__}")
            self.loan = before  # the unit of work is not committed
            return
        self._post()
        if baseline is not None:
            self._corrected(
                payment.submitted_on,
                baseline,
                before_job=before_job,
                after_job=payment.after_daily_job,
            )
        if not payment.status.reversed or any(
            app in installment.applications
            for installment in self.loan.installments
            for app in payment.applications
        ):
            raise AssertionError("a corrected return left the payment applied")

    @rule(
        data=st.data(),
        back=st.one_of(st.integers(0, 20), st.integers(110, 130)),
        over=st.sampled_from([0, 0, 0, 1, 5_000]),
        before_job=st.booleans(),
        rail=st.sampled_from([Rail.ACH, Rail.PINLESS]),
    )
    def book_a_backdated_payment(
        self, data: st.DataObject, back: int, over: int, rail: Rail, *, before_job: bool
    ) -> None:
        """An operator books money received `back` days ago (`Loan.book_backdated_payment`).

        COMPLETED, counted from its day (before that day's job), the loan corrected as of
        then: unless it moved the default, it owes at least the payment less than its
        history without it (or nothing, the rest a refund due); what was paid before that
        day stays paid. Booked before today's job's hour (`before_job`), today's job then
        runs at its hour. Refused, changing nothing, beyond the correction reach or when
        it would change a refund already paid out. On a CANCELLED loan the whole amount
        is owed back.
        """
        loan = self.loan
        effective = max(self.today - dt.timedelta(days=back), loan.disbursement_date)
        amount = data.draw(st.integers(1, max(loan.outstanding_balance, 1)), label="amount")
        amount += over
        self.payments_made += 1
        payment_id = f"backdated-{self.payments_made}"

        def book() -> Payment:
            return self.loan.book_backdated_payment(
                payment_id,
                amount,
                rail=rail,
                effective_on=effective,
                today=self.today,
                posted=self.ledger.entries(),
                reason="mailed check keyed late",
                before_daily_job=before_job,
            )

        if effective < self.today - loan.product.corrections.reach:
            self._unchanged_by(book, CorrectionTooOld)
            return
        if loan.cancelled:
            refund = book().refund
            self._post()
            if refund is None or refund.amount != amount:
                raise AssertionError("money received for a cancelled loan is not owed back whole")
            return
        baseline = replay(loan, through=self.today)
        paid_out = any(p.refund is not None and p.refund.is_paid for p in loan.payments.values())
        trial = copy.deepcopy(loan) if paid_out else None  # only then may it be refused
        try:
            book()
        except RefundAlreadyPaid:
            event("backdated payment refused: RefundAlreadyPaid")
            if loan != trial:
                raise AssertionError("a refused backdated payment changed the loan") from None
            return
        self._post()
        payment = loan.payments[payment_id]
        event(f"backdated payment booked ({'before' if before_job else 'after'} the job)")
        if (payment.status, payment.submitted_on, payment.after_daily_job) != (
            PaymentStatus.COMPLETED,
            effective,
            False,
        ):
            raise AssertionError(f"a backdated payment was not received on its day: {payment}")
        self._corrected(effective, baseline, before_job=before_job)
        if loan.defaulted_on != baseline.defaulted_on:
            # Paid before the day's job that defaulted the loan, it kept the loan out of
            # default: later installments' fees, which a defaulted loan is never charged, are.
            event("backdated payment moved the default")
        elif loan.outstanding_balance > max(baseline.outstanding_balance - amount, 0):
            raise AssertionError(
                f"paying {amount} as of {effective} left {loan.outstanding_balance} owed, "
                f"{baseline.outstanding_balance} without it"
            )

    @precondition(lambda self: self.loan.status not in _ENDED)
    @rule(
        data=st.data(),
        to_overdue_day=st.booleans(),
        rail=st.sampled_from([Rail.ACH, Rail.PINLESS]),
    )
    def pay_after_todays_job(
        self, data: st.DataObject, rail: Rail, *, to_overdue_day: bool
    ) -> None:
        """Today's job runs (on the next overdue day, with `to_overdue_day`), then a payment.

        A payment after a job that changed the loan that day is `after_daily_job`; the
        replay (so every later correction) keeps what it paid: the fee it paid stays
        charged and paid.
        """
        scheduled = [i for i in self.loan.installments if i.status is InstallmentStatus.SCHEDULED]
        target = self.today
        if to_overdue_day and scheduled and self.loan.status is LoanStatus.OPEN:
            target = max(target, self.loan.product.overdue_on(scheduled[0].due_date))
        while self.today < target:
            self.today += dt.timedelta(days=1)
            self.loan.run_daily(self.today)
        self.loan.run_daily(self.today)
        self._post()
        changed_today = self.loan.daily_job_changed_on == self.today
        # (only then is the replay asked: a payment before the job needs no new order)
        lived_as_replayed = changed_today and self._as_replayed()
        amount = data.draw(payment_amounts(self.loan), label="amount")
        self._pay(amount, Process.MANUAL, rail)
        payment = self.loan.payments[f"pay-{self.payments_made}"]
        if payment.after_daily_job != changed_today:
            raise AssertionError("a payment after today's job is not marked as such")
        fee_paid = any(app.late_fee for app in payment.applications)
        event(f"paid after today's job: after_daily_job={changed_today}, a fee paid={fee_paid}")
        if lived_as_replayed and not self._as_replayed():
            raise AssertionError(f"the replay does not keep what {payment.payment_id} paid")

    @precondition(
        lambda self: (
            self.loan.status is not LoanStatus.CANCELLED
            and any(i.late_fee for i in self.loan.installments)
        )
    )
    @rule(data=st.data())
    def waive_a_late_fee(self, data: st.DataObject) -> None:
        """An operator waives an installment's late fee, as of the day it was assessed.

        No other fee rises (the room the waiver frees in the cap is only for fees assessed
        after it), the fee is gone, and the same request again changes nothing.
        """
        charged = [i.installment_id for i in self.loan.installments if i.late_fee]
        installment = self.loan.installment(data.draw(st.sampled_from(charged)))
        # What the corrected history charges without the waiver (a return reversed as of
        # today leaves its effective-dated rest to the next correction, this one).
        unwaived = {
            i.installment_id: i.late_fee for i in replay(self.loan, through=self.today).installments
        }

        def waive() -> object:
            return self.loan.waive_late_fee(
                installment.installment_id,
                reason="goodwill",
                idempotency_key=f"waive-{installment.installment_id}",
                today=self.today,
                posted=self.ledger.entries(),
            )

        overdue_on = installment.overdue_on
        if overdue_on is not None and overdue_on < self.today - self.loan.product.corrections.reach:
            self._unchanged_by(waive, CorrectionTooOld)
            return
        try:
            trial = copy.deepcopy(self.loan)
            waive()
        except RefundAlreadyPaid:
            event("waiver refused: RefundAlreadyPaid")
            if self.loan != trial:
                raise AssertionError("a refused waiver changed the loan") from None
            return
        self._post()
        event("late fee waived")
        if installment.late_fee or installment.late_fee_waiver is None:
            raise AssertionError("a waived fee is still charged")
        for other in self.loan.installments:
            if other.late_fee > unwaived[other.installment_id]:
                raise AssertionError(
                    f"the waiver raised the fee of {other.installment_id} to {other.late_fee}"
                )
        self._unchanged_by(waive, None)  # the same request again

    @precondition(
        lambda self: any(
            not i.late_fee and i.late_fee_waiver is None for i in self.loan.installments
        )
    )
    @rule(data=st.data())
    def waive_no_fee(self, data: st.DataObject) -> None:
        """A waiver of an installment that carries no late fee is refused, changing nothing."""
        free = [
            i.installment_id
            for i in self.loan.installments
            if not i.late_fee and i.late_fee_waiver is None
        ]
        installment_id = data.draw(st.sampled_from(free))
        expected = LoanCancelled if self.loan.cancelled else NoLateFee
        self._unchanged_by(
            lambda: self.loan.waive_late_fee(
                installment_id,
                reason="goodwill",
                idempotency_key=f"nothing-{installment_id}",
                today=self.today,
                posted=self.ledger.entries(),
            ),
            expected,
        )

    @precondition(lambda self: bool(self._refunds_due()))
    @rule(data=st.data())
    def pay_out_a_refund(self, data: st.DataObject) -> None:
        """The lender sends a refund due back: the liability falls by it, once.

        Not while its payment is PENDING: the rail can still take that money back.
        """
        payment_id = data.draw(st.sampled_from(self._refunds_due()))
        owed_back = self.loan.refunds_due

        def record() -> RefundDue:
            return self.loan.record_refund_paid(
                payment_id,
                paid_on=self.today,
                reference=f"check for {payment_id}",
                today=self.today,
                reason="refund sent",
            )

        if self.loan.payments[payment_id].status is PaymentStatus.PENDING:
            self._unchanged_by(record, RefundNotSettled)
            return
        refund = record()
        self._post()
        if self.loan.refunds_due != owed_back - refund.amount:
            raise AssertionError("a refund paid out did not lower what is owed back by it")
        self._unchanged_by(record, None)  # recorded again: nothing changes

    @precondition(lambda self: bool(self._payments(*_SETTLED)))
    @rule(data=st.data(), completion=st.booleans())
    def redeliver(self, data: st.DataObject, *, completion: bool) -> None:
        """A settlement event delivered again, or late, is refused and changes nothing."""
        settled = self._payments(*_SETTLED)
        payment = self.loan.payments[data.draw(st.sampled_from(settled))]
        outcome = SettlementOutcome.COMPLETED if completion else _REVERSAL[payment.rail]
        expected: type[DomainError] = PaymentAlreadyReversed
        if not payment.status.reversed:
            if not completion:
                return  # a return after completion is legitimate: the `reverse` rule does it
            expected = PaymentAlreadySettled
        self._unchanged_by(
            lambda: self.loan.settle(payment.payment_id, outcome, today=self.today), expected
        )

    # --- invariants -----------------------------------------------------------------

    @invariant()
    def loan_verifies(self) -> None:
        """Each installment owes its total less its applications; the loan owes their sum."""
        self.loan.verify()

    @invariant()
    def nothing_negative(self) -> None:
        """No balance, bucket or application is ever below zero."""
        loan = self.loan
        values = [loan.outstanding_balance, *loan.bucket_balances().values()]
        for installment in loan.installments:
            values += [installment.outstanding_balance, installment.total_amount]
            values += [installment.unpaid(bucket) for bucket in WATERFALL]
        if min(values) < 0:
            raise AssertionError(f"a negative balance: {values}")

    @invariant()
    def a_waived_fee_is_never_charged_again(self) -> None:
        """An installment whose fee an operator waived carries none, after any job or replay."""
        for installment in self.loan.installments:
            if installment.late_fee_waiver is not None and installment.late_fee:
                raise AssertionError(f"{installment.installment_id}'s waived fee charged again")

    @invariant()
    def one_late_fee_per_installment(self) -> None:
        """An installment carries at most its one late fee, however often it was charged."""
        product = self.loan.product
        for installment in self.loan.installments:
            once = product.late_fee_for(installment.principal + installment.origination_fee)
            if installment.late_fee > once:
                raise AssertionError(
                    f"{installment.installment_id} carries {installment.late_fee}, "
                    f"more than its one late fee of {once}"
                )

    @invariant()
    def ledger_agrees(self) -> None:
        """Every entry balances; receivables, allowance, clearing and income match the loan."""
        found = ledger_problems(self.loan, self.ledger)
        if found:
            raise AssertionError("; ".join(found))

    @invariant()
    def statuses_fit(self) -> None:
        """CLOSED or CANCELLED exactly when nothing is owed; late fees within the cap.

        A CANCELLED loan (its disbursement came back) has every installment CANCELLED at 0.
        """
        loan = self.loan
        if (loan.status in _ENDED) != (loan.outstanding_balance == 0):
            raise AssertionError(f"{loan.status} with {loan.outstanding_balance} owed")
        cap = loan.product.late_fee_cap(loan.loan_amount)
        if loan.late_fees_assessed > cap:
            raise AssertionError(f"late fees {loan.late_fees_assessed} above the cap {cap}")
        if loan.status is LoanStatus.CANCELLED:
            for installment in loan.installments:
                if (installment.status, installment.total_amount, installment.applications) != (
                    InstallmentStatus.CANCELLED,
                    0,
                    [],
                ):
                    raise AssertionError(f"{installment.installment_id} of a cancelled loan")
            return
        for installment in loan.installments:
            due_ok = calendar.is_business_day(installment.due_date)
            if not due_ok or (installment.status is InstallmentStatus.COMPLETED) != (
                installment.outstanding_balance == 0
            ):
                raise AssertionError(f"installment {installment.installment_id} is inconsistent")

    # --- helpers --------------------------------------------------------------------

    def _pay(self, amount: int, process: Process, rail: Rail) -> None:
        self.payments_made += 1
        payment = self.loan.apply_payment(
            f"pay-{self.payments_made}", amount, process=process, rail=rail, today=self.today
        )
        self._post()
        if sum(app.amount for app in payment.applications) != amount:
            raise AssertionError("a payment applied a different amount than it carried")

    def _as_replayed(self) -> bool:
        """Whether the loan is what its history replays to (balances, fees, what each paid)."""
        replayed = replay(self.loan, through=self.today)
        return balances_and_statuses(replayed) == balances_and_statuses(self.loan) and all(
            replayed.payments[payment_id].applications == payment.applications
            and replayed.payments[payment_id].refund == payment.refund
            for payment_id, payment in self.loan.payments.items()
            if not payment.status.reversed
        )

    def _corrected(
        self, effective: dt.date, baseline: Loan, *, before_job: bool, after_job: bool = False
    ) -> None:
        """After a correction as of `effective`: today's job at its hour, then the checks.

        `baseline` is the loan's history replayed before the correction. What happened
        before the correction's moment (`effective`, before that day's job; after it with
        `after_job`: a payment returned that was made after the job) stays as it was: an
        installment overdue by then keeps its overdue day and late fee, a payment made
        before `effective` pays what it paid (a fee paid after its day's job stays paid).
        Booked before today's job's hour (`before_job`), the job then runs, and the loan
        ends as its corrected history replayed, today's job included.
        """
        if before_job:
            # The job at its hour, after the correction: the loan then ends as if the
            # correction had been booked after it, its history replayed.
            self.loan.run_daily(self.today)
            self._post()
            replayed = replay(self.loan, through=self.today)
            if balances_and_statuses(replayed) != balances_and_statuses(self.loan):
                raise AssertionError("today's job after a correction differs from its replay")
        for mine, was in zip(self.loan.installments, baseline.installments, strict=True):
            if was.overdue_on is None or was.overdue_on > effective:
                continue
            before_it = was.overdue_on < effective or after_job
            if before_it and (mine.overdue_on, mine.late_fee) != (was.overdue_on, was.late_fee):
                raise AssertionError(
                    f"a correction as of {effective} changed {mine.installment_id}, "
                    f"overdue {was.overdue_on} with a fee of {was.late_fee}: now "
                    f"{mine.overdue_on} with {mine.late_fee}"
                )
        for payment in self.loan.payments.values():
            if payment.status.reversed or payment.submitted_on >= effective:
                continue
            kept = baseline.payments[payment.payment_id].applications
            if payment.applications != kept:
                raise AssertionError(
                    f"a correction as of {effective} changed what {payment.payment_id} "
                    f"of {payment.submitted_on} paid: {kept} -> {payment.applications}"
                )

    def _refunds_due(self) -> list[str]:
        return [pid for pid, p in self.loan.payments.items() if p.refund and p.refund.is_due]

    def _payments(self, *statuses: PaymentStatus) -> list[str]:
        return [pid for pid, p in self.loan.payments.items() if p.status in statuses]

    def _post(self) -> None:
        self.ledger.post_all(self.loan.outbox.drain().entries)

    def _unchanged_by(self, command: Callable[[], object], error: type[DomainError] | None) -> None:
        """Run `command`, expecting `error` (or nothing to do), and prove nothing changed."""
        before = copy.deepcopy(self.loan)
        try:
            command()
        except DomainError as exc:
            if error is None or not isinstance(exc, error):
                raise
        else:
            if error is not None:
                raise AssertionError(f"expected {error.__name__}")
        if self.loan != before:
            raise AssertionError(f"{command} changed the loan: {attrs.asdict(self.loan)}")


class ReturnedDisbursementLifecycle(LoanLifecycle):
    """`LoanLifecycle`, and at any step the rail may bring the disbursement back.

    A separate machine because a CANCELLED loan is terminal: in `LoanLifecycle` itself the
    return would end most runs early and starve the rules of a living loan.
    """

    @rule(reason=st.sampled_from(["R01 insufficient funds", "R03 no account"]))
    def disbursement_comes_back(self, reason: str) -> None:
        """The rail brings the disbursement back: the loan is CANCELLED and owes nothing.

        Every payment not reversed is then owed back whole; refused (changing nothing) a
        second time, beyond the correction reach, or when a refund already paid out is
        not its payment's whole amount.
        """
        loan = self.loan
        reach = loan.product.corrections.reach
        expected: type[DomainError] | None = None
        if loan.status is LoanStatus.CANCELLED:
            expected = LoanCancelled
        elif self.today - reach > loan.disbursement_date:
            expected = CorrectionTooOld
        elif any(
            p.refund is not None and p.refund.is_paid and p.refund.amount != p.amount
            for p in loan.payments.values()
            if not p.status.reversed
        ):
            expected = RefundAlreadyPaid
        if expected is not None:
            event(f"disbursement came back: refused, {expected.__name__}")
            self._unchanged_by(self._cancel(reason), expected)
            return
        event(f"disbursement came back: cancelled with {len(loan.payments)} payments")
        self._cancel(reason)()
        self._post()
        owed_back = sum(
            p.amount
            for p in loan.payments.values()
            if not p.status.reversed and not (p.refund is not None and p.refund.is_paid)
        )
        if (loan.status, loan.outstanding_balance, loan.completion_date) != (
            LoanStatus.CANCELLED,
            0,
            loan.disbursement_date,
        ):
            raise AssertionError("a returned disbursement did not cancel the loan")
        if loan.refunds_due != owed_back:
            raise AssertionError(f"owed back {loan.refunds_due}, not every payment: {owed_back}")

    def _cancel(self, reason: str) -> Callable[[], object]:
        return lambda: self.loan.cancel_returned_disbursement(
            today=self.today, posted=self.ledger.entries(), reason=reason
        )
