"""Effective-dated corrections of installment loans: returns and backdated payments."""

import datetime as dt

import attrs
import pytest
from fakes import returned
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loc_core.bookkeeping import EntryKind
from loc_core.corrections import CorrectionPolicy, account_balances
from loc_core.errors import CorrectionTooOld, InvalidTimestamp
from loc_core.events import EventType
from loc_core.installment import InstallmentProduct, InstallmentStatus, Loan, LoanStatus, Process
from loc_core.installment.replay import replay
from loc_core.ledger import Bucket, Ledger, income, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.installment import balances_and_statuses, ledger_problems, make_loan

FIRST_DUE = dt.date(2026, 1, 20)
OVERDUE_ON = dt.date(2026, 1, 25)  # five days of grace
DISBURSED = dt.date(2026, 1, 5)
DAY = dt.timedelta(days=1)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + DAY * n for n in range((last - first).days + 1)]


def post(loan: Loan, ledger: Ledger) -> None:
    ledger.post_all(loan.outbox.drain().entries)


def test_an_installment_returned_after_its_grace_is_overdue_at_the_return() -> None:
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    loan.apply_payment("pay-1", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=FIRST_DUE)
    for day in days(FIRST_DUE, dt.date(2026, 1, 27)):
        loan.run_daily(day)
    post(loan, ledger)
    assert loan.installments[0].status is InstallmentStatus.COMPLETED

    returned(loan, ledger, "pay-1", today=dt.date(2026, 1, 28))

    first = loan.installments[0]

    assert first.status is InstallmentStatus.OVERDUE  # at once, not at the next daily run
    assert first.overdue_on == OVERDUE_ON
    assert first.late_fee == 263  # the lower of $5 and 5 % of 5,250, half up
    assert first.outstanding_balance == 5_250 + 263
    assert loan.outstanding_balance == 31_500 + 263
    recorded = loan.outbox.drain()
    unapply, adjust = recorded.entries
    assert unapply.entry_id == "pay-1:unapply"
    assert (adjust.entry_id, adjust.kind, adjust.effective_date) == (
        "pay-1:returned:adjust",
        EntryKind.ADJUSTMENT,
        dt.date(2026, 1, 28),
    )
    assert adjust.net(receivable("loan-1", Bucket.LATE_FEE)) == 263
    assert adjust.net(income(Bucket.LATE_FEE)) == -263
    assert [event.type for event in recorded.events] == [
        EventType.PAYMENT_FAILED,
        EventType.INSTALLMENT_OVERDUE,
    ]
    assert any(change.process == Process.CORRECTION.value for change in recorded.changes)
    ledger.post_all(recorded.entries)
    assert ledger_problems(loan, ledger) == []


def test_the_same_correction_delivered_twice_posts_nothing_the_second_time() -> None:
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    loan.apply_payment("pay-1", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=FIRST_DUE)
    post(loan, ledger)
    returned(loan, ledger, "pay-1", today=dt.date(2026, 1, 28))
    post(loan, ledger)
    before = balances_and_statuses(loan)
    again = loan.correct(
        cause="pay-1:returned",
        effective=FIRST_DUE,
        today=dt.date(2026, 1, 28),
        posted=list(ledger),
        reason="again",
    )
    assert again is None
    recorded = loan.outbox.drain()
    assert (recorded.entries, recorded.events) == ([], [])
    assert balances_and_statuses(loan) == before


def test_a_backdated_payment_that_would_have_prevented_a_late_fee_reverses_it() -> None:
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    for day in days(DISBURSED, dt.date(2026, 1, 30)):
        loan.run_daily(day)
    post(loan, ledger)
    assert loan.installments[0].late_fee == 263

    payment = loan.book_backdated_payment(
        "mailed-1",
        5_250,
        rail=Rail.ACH,
        effective_on=dt.date(2026, 1, 19),
        today=dt.date(2026, 1, 31),
        posted=list(ledger),
        reason="check received on time, keyed late",
    )

    first = loan.installments[0]
    assert (first.status, first.late_fee, first.overdue_on) == (
        InstallmentStatus.COMPLETED,
        0,
        None,
    )
    assert payment.submitted_on == dt.date(2026, 1, 19)
    audited = {
        field.field: field.new
        for change in loan.outbox.changes
        if (change.entity, change.entity_id) == ("payment", "mailed-1")
        for field in change.fields
    }
    assert audited["submitted_on"] == "2026-01-19"  # the audit trail says what is stored
    assert audited["applications"] == "loan-1:1=5250"
    assert loan.outstanding_balance == 31_500 - 5_250
    apply, adjust = loan.outbox.entries
    assert apply.effective_date == adjust.effective_date == dt.date(2026, 1, 31)  # booked today
    assert apply.entry_id == "mailed-1:apply"
    assert adjust.entry_id == "mailed-1:adjust"
    assert adjust.net(income(Bucket.LATE_FEE)) == 263  # the fee reversed
    post(loan, ledger)
    assert ledger_problems(loan, ledger) == []


@pytest.mark.parametrize(
    ("effective_on", "error"),
    [(dt.date(2026, 1, 10), CorrectionTooOld), (dt.date(2026, 1, 22), InvalidTimestamp)],
    ids=["beyond the reach", "from the future"],
)
def test_a_correction_out_of_bounds_is_refused_and_changes_nothing(
    effective_on: dt.date, error: type[Exception]
) -> None:
    product = InstallmentProduct(corrections=CorrectionPolicy(reach=dt.timedelta(days=10)))
    loan = make_loan(product=product)
    ledger = Ledger(loan.outbox.drain().entries)
    before = balances_and_statuses(loan)
    with pytest.raises(error):
        loan.book_backdated_payment(
            "mailed-1",
            100,
            rail=Rail.ACH,
            effective_on=effective_on,
            today=dt.date(2026, 1, 21),
            posted=list(ledger),
            reason="out of bounds",
        )
    assert balances_and_statuses(loan) == before
    assert not loan.outbox
    assert not loan.payments


def test_replay_of_a_history_delivered_on_time_changes_nothing() -> None:
    loan = make_loan()
    loan.outbox.drain()
    for day in days(DISBURSED, dt.date(2026, 5, 1)):
        if day == FIRST_DUE:
            loan.apply_payment("pay-1", 3_000, process=Process.MANUAL, rail=Rail.ACH, today=day)
        loan.run_daily(day)
    again = replay(loan, through=dt.date(2026, 5, 1))
    assert loan.status is LoanStatus.DEFAULTED
    assert balances_and_statuses(again) == balances_and_statuses(loan)
    assert again.defaulted_on == loan.defaulted_on


# --- the property: late delivery ends where on-time delivery does ----------------------

HORIZON = DISBURSED + DAY * 150


Event = tuple[str, int, Rail, int, int, bool, bool]
"""(id, amount, rail, effective day, days until learned, reversed, after the day's job)."""

NEAR_OVERDUE = st.builds(lambda n, grace: 15 + 14 * n + grace, st.integers(0, 5), st.integers(0, 7))
"""Days (after disbursement) around the installments' overdue days, where the order of a
payment and the day's job decides a late fee."""


@st.composite
def money_events(draw: st.DrawFn) -> list[Event]:
    """Payments, some reversed later, some made after their day's daily job had run."""
    count = draw(st.integers(1, 6))
    return [
        (
            f"pay-{n}",
            draw(st.integers(1, 12_000)),
            draw(st.sampled_from([Rail.ACH, Rail.PINLESS])),
            draw(st.one_of(st.integers(0, 110), NEAR_OVERDUE)),
            draw(st.integers(0, 40)),
            draw(st.booleans()),
            draw(st.booleans()),
        )
        for n in range(count)
    ]


@attrs.define
class Delivery:
    """Delivers payments and reversals to a loan on time or (`late`) as learned.

    A payment not reversed and learned days later comes as an operator's backdated entry
    (before its day's job, at any hour: so it comes on time too); any other payment is
    taken on its day, before or after that day's job (as drawn), and its reversal is
    learned late. On time, a reversal comes right after its payment.
    """

    events: list[Event]
    late: bool
    loan: Loan
    ledger: Ledger

    @staticmethod
    def direct(event: Event) -> bool:
        """Taken on its own day in both runs (a reversed payment, or one known at once)."""
        return event[5] or event[4] == 0

    def after_job(self, event: Event) -> bool:
        return event[6] and self.direct(event)

    def take(self, offset: int, day: dt.date, *, after: bool) -> None:
        for event in self.events:
            payment_id, amount, rail, effective = event[:4]
            taken = self.direct(event) or not self.late
            if effective == offset and taken and self.after_job(event) == after:
                self.loan.book_moved_payment(
                    payment_id, amount, process=Process.MANUAL, rail=rail, today=day
                )
        post(self.loan, self.ledger)

    def learn(self, learned: list[Event], day: dt.date) -> None:
        for event in learned:
            payment_id, amount, rail, effective = event[:4]
            if event[5]:
                returned(self.loan, self.ledger, payment_id, today=day)
            elif self.late and not self.direct(event):
                self.loan.book_backdated_payment(
                    payment_id,
                    amount,
                    rail=rail,
                    effective_on=DISBURSED + DAY * effective,
                    today=day,
                    posted=list(self.ledger),
                    reason="learned late",
                )
            post(self.loan, self.ledger)

    def day(self, day: dt.date) -> None:
        offset = (day - DISBURSED).days
        learned = [e for e in self.events if offset == e[3] + (e[4] if self.late else 0)]
        booked_later = [e for e in learned if self.after_job(e) and e[3] == offset]
        self.take(offset, day, after=False)
        self.learn([e for e in learned if e not in booked_later], day)
        self.loan.run_daily(day)
        post(self.loan, self.ledger)
        self.take(offset, day, after=True)
        self.learn(booked_later, day)


def run(events: list[Event], *, late: bool, product: InstallmentProduct) -> tuple[Loan, Ledger]:
    """Deliver `events` on their own dates, or (`late`) each as learned (`Delivery`)."""
    loan = make_loan(product=product)
    delivery = Delivery(events, late, loan, Ledger(loan.outbox.drain().entries))
    for day in days(DISBURSED, HORIZON):
        delivery.day(day)
        assert ledger_problems(loan, delivery.ledger) == []
    return loan, delivery.ledger


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=money_events(),
    grace=st.integers(0, 7),
    patience=st.integers(5, 60),
    fee_when_returned=st.booleans(),
)
def test_any_delivery_order_ends_as_the_effective_order_does(
    events: list[Event],
    grace: int,
    patience: int,
    fee_when_returned: bool,  # noqa: FBT001 - drawn by hypothesis: the policy under test
) -> None:
    product = InstallmentProduct(
        grace_days=grace,
        default_after_days=patience,
        corrections=CorrectionPolicy(late_fee_when_missed_by_return=fee_when_returned),
    )
    on_time, on_time_books = run(events, late=False, product=product)
    late, late_books = run(events, late=True, product=product)
    assert balances_and_statuses(late) == balances_and_statuses(on_time)
    assert [i.late_fee for i in late.installments] == [i.late_fee for i in on_time.installments]
    assert (late.defaulted_on, late.refunds_due) == (on_time.defaulted_on, on_time.refunds_due)
    assert account_balances(late_books) == account_balances(on_time_books)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=money_events(), grace=st.integers(0, 7), patience=st.integers(5, 60))
@example(  # paid in full after the job charged its late fee; an unrelated payment returned
    events=[
        ("pay-1", 5_250 + 263, Rail.ACH, (OVERDUE_ON - DISBURSED).days, 0, False, True),
        ("pay-2", 1_000, Rail.ACH, (OVERDUE_ON - DISBURSED).days + 1, 2, True, False),
    ],
    grace=5,
    patience=60,
)
def test_a_reversed_payment_ends_as_if_it_had_never_been_made(
    events: list[Event], grace: int, patience: int
) -> None:
    """A reversal replays the loan; payments made after their day's job stay after it."""
    product = InstallmentProduct(
        grace_days=grace,
        default_after_days=patience,
        corrections=CorrectionPolicy(late_fee_when_missed_by_return=True),
    )
    never = [event for event in events if not event[5]]
    truth, truth_books = run(never, late=False, product=product)
    late, late_books = run(events, late=True, product=product)
    assert balances_and_statuses(late) == balances_and_statuses(truth)
    assert [i.late_fee for i in late.installments] == [i.late_fee for i in truth.installments]
    assert late.defaulted_on == truth.defaulted_on
    owed_and_earned = ("receivable:", "income:")
    assert {
        account: balance
        for account, balance in account_balances(late_books).items()
        if account.startswith(owed_and_earned) and balance
    } == {
        account: balance
        for account, balance in account_balances(truth_books).items()
        if account.startswith(owed_and_earned) and balance
    }


WAIVING = InstallmentProduct(corrections=CorrectionPolicy(late_fee_when_missed_by_return=False))
"""The policy that waives the late fee of an installment missed only because of a return."""


def test_with_the_waiver_an_installment_missed_only_by_a_return_is_overdue_without_a_fee() -> None:
    loan = make_loan(product=WAIVING)
    ledger = Ledger(loan.outbox.drain().entries)
    loan.apply_payment("pay-1", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=FIRST_DUE)
    for day in days(FIRST_DUE, dt.date(2026, 1, 27)):
        loan.run_daily(day)
    post(loan, ledger)
    returned(loan, ledger, "pay-1", today=dt.date(2026, 1, 28))
    first = loan.installments[0]
    assert (first.status, first.overdue_on, first.late_fee) == (
        InstallmentStatus.OVERDUE,
        OVERDUE_ON,
        0,
    )
    assert loan.outstanding_balance == 31_500  # owed again, and nothing more
    post(loan, ledger)
    assert ledger_problems(loan, ledger) == []


def test_with_the_waiver_a_return_before_the_grace_ends_waives_the_daily_jobs_fee_too() -> None:
    loan = make_loan(product=WAIVING)
    ledger = Ledger(loan.outbox.drain().entries)
    loan.apply_payment("pay-1", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=FIRST_DUE)
    post(loan, ledger)
    returned(loan, ledger, "pay-1", today=dt.date(2026, 1, 22))  # inside the grace
    post(loan, ledger)
    for day in days(dt.date(2026, 1, 22), OVERDUE_ON):
        loan.run_daily(day)
    first = loan.installments[0]
    assert (first.status, first.late_fee) == (InstallmentStatus.OVERDUE, 0)
    assert first.update_reason.endswith(
        "late fee waived: missed only because of a returned payment"
    )


def test_with_the_waiver_an_installment_never_paid_still_gets_its_fee() -> None:
    loan = make_loan(product=WAIVING)
    for day in days(FIRST_DUE, OVERDUE_ON):
        loan.run_daily(day)
    first = loan.installments[0]
    assert (first.status, first.late_fee) == (InstallmentStatus.OVERDUE, 263)


def test_with_the_waiver_a_fee_paid_after_its_job_stays_when_that_payment_is_returned() -> None:
    # The job of 01-25 makes the first installment OVERDUE with its fee; the borrower pays
    # both after it that day. That payment's return does not make the installment one
    # missed only because of a return: it was missed before the payment was made.
    loan = make_loan(product=WAIVING)
    ledger = Ledger(loan.outbox.drain().entries)
    for day in days(DISBURSED, OVERDUE_ON):
        loan.run_daily(day)
    paid = loan.apply_payment(
        "pay-1", 5_513, process=Process.MANUAL, rail=Rail.ACH, today=OVERDUE_ON
    )
    assert paid.after_daily_job
    post(loan, ledger)
    returned(loan, ledger, "pay-1", today=dt.date(2026, 1, 28))
    first = loan.installments[0]
    # before the fix, the counterfactual history's installment was COMPLETED at the end of
    # the day, so the fee was waived: 0
    assert (first.status, first.overdue_on, first.late_fee) == (
        InstallmentStatus.OVERDUE,
        OVERDUE_ON,
        263,
    )
    post(loan, ledger)
    assert ledger_problems(loan, ledger) == []


def test_with_the_waiver_an_installment_overdue_the_day_its_loan_defaults_gets_its_fee() -> None:
    # A payment of 1 cent came back, so the policy asks on each overdue day whether the
    # installment was missed only because of it. The second installment, never paid,
    # becomes overdue on 02-07, the day the first has been overdue 13 days and the job
    # defaults the loan: missed anyway, it gets its fee.
    loan = make_loan(product=attrs.evolve(WAIVING, default_after_days=13))
    ledger = Ledger(loan.outbox.drain().entries)
    loan.apply_payment("pay-1", 1, process=Process.MANUAL, rail=Rail.ACH, today=DISBURSED)
    post(loan, ledger)
    returned(loan, ledger, "pay-1", today=dt.date(2026, 1, 7))
    for day in days(dt.date(2026, 1, 7), dt.date(2026, 2, 7)):
        loan.run_daily(day)
    first, second = loan.installments[:2]
    assert (loan.status, loan.defaulted_on) == (LoanStatus.DEFAULTED, dt.date(2026, 2, 7))
    assert (first.late_fee, second.overdue_on) == (263, dt.date(2026, 2, 7))
    # before the fix, the counterfactual history's installment was DEFAULTED, not
    # OVERDUE, at the end of the day, so the fee was waived: 0
    assert second.late_fee == 263
    post(loan, ledger)
    assert (
        loan.correct(
            cause="audit",
            effective=OVERDUE_ON,
            today=dt.date(2026, 2, 9),
            posted=list(ledger),
            reason="no new fact",
        )
        is None
    )  # the replay decides alike


def test_a_fee_and_default_charged_again_after_an_as_of_today_return_post_new_entries() -> None:
    # p1 pays the first installment early, p2 the second. p1 comes back as of today (its
    # correction too large for one commit): the first installment is charged its fee and,
    # ten days overdue, defaults the loan. A correction (p3's return) replays p2 onto the
    # first installment, in time: fee and default are taken back. Then p2 comes back as of
    # today too, and the next run charges the fee and the default again: new entries.
    product = InstallmentProduct(default_after_days=10)
    loan, books = make_loan(product=product), Ledger()
    post(loan, books)
    for payment_id, amount, paid in (("p1", 5_250, 10), ("p2", 5_250, 15), ("p3", 100, 16)):
        loan.apply_payment(
            payment_id, amount, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, paid)
        )
    for day in days(DISBURSED, dt.date(2026, 1, 30)):
        loan.run_daily(day)
    loan.settle("p1", SettlementOutcome.RETURNED, today=dt.date(2026, 1, 30))  # as of today
    for day in days(dt.date(2026, 1, 31), dt.date(2026, 2, 4)):
        loan.run_daily(day)
    assert loan.status is LoanStatus.DEFAULTED
    post(loan, books)
    returned(loan, books, "p3", today=dt.date(2026, 2, 5))  # settled, then corrected
    assert (loan.status, loan.installments[0].status) == (
        LoanStatus.OPEN,
        InstallmentStatus.COMPLETED,
    )
    loan.settle("p2", SettlementOutcome.RETURNED, today=dt.date(2026, 2, 6))  # as of today
    post(loan, books)

    loan.run_daily(dt.date(2026, 2, 7))
    again = [entry.entry_id for entry in loan.outbox.entries]
    post(loan, books)  # refused before the fix: "loan-1:1:late_fee" was already posted

    # the second installment is overdue that day too: its first fee keeps the plain id
    assert again == ["loan-1:1:late_fee:2", "loan-1:2:late_fee", "loan-1:1:default:2"]
    assert loan.status is LoanStatus.DEFAULTED
    assert ledger_problems(loan, books) == []
