"""Effective-dated corrections on a line: returns reversed as of the day applied, backdated pay."""

import datetime as dt
from decimal import Decimal

import pytest
from fakes import bare_line

from loc_core.bookkeeping import EntryKind
from loc_core.corrections import CorrectionPolicy, account_balances
from loc_core.creditline import ActivityKind, CreditLine, CreditLineProduct, LineStatus
from loc_core.creditline.correcting import correct
from loc_core.errors import CorrectionTooOld, LineNotActive, PaymentAlreadyReversed
from loc_core.events import EventType
from loc_core.ledger import Bucket, JournalEntry, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.refunds import RefundStatus
from loc_core.testing.creditline import disbursed_draw

PRODUCT = CreditLineProduct()
RETURNED = SettlementOutcome.RETURNED
ONE_DAY = dt.timedelta(days=1)


class Books:
    """A line and its posted journal, driven day by day as the jobs would."""

    def __init__(self, line: CreditLine, product: CreditLineProduct = PRODUCT) -> None:
        self.line, self.product = line, product
        self.posted: list[JournalEntry] = []
        self.events: list[EventType] = []
        self.day = line.opened_on

    def post(self) -> None:
        taken = self.line.outbox.drain()
        self.posted.extend(taken.entries)
        self.events.extend(event.type for event in taken.events)

    def through(self, end: dt.date) -> None:
        """Finish the current day (overdue job) and run every day up to `end` inclusive."""
        while True:
            self.line.run_overdue(today=self.day, product=self.product)
            self.post()
            if self.day >= end:
                return
            self.day += ONE_DAY
            while self.line.next_close_date <= self.day:
                self.line.bill_cycle(
                    close_date=self.line.next_close_date, today=self.day, product=self.product
                )
            self.post()

    def go_to(self, day: dt.date) -> None:
        """Run every job of the days before `day`, and bill `day`'s close."""
        self.through(day - ONE_DAY)
        self.day = day
        while self.line.next_close_date <= day:
            self.line.bill_cycle(
                close_date=self.line.next_close_date, today=day, product=self.product
            )
        self.post()

    def returned(self, payment_id: str, on: dt.date) -> None:
        self.go_to(on)
        self.line.correct_return(
            payment_id=payment_id,
            outcome=RETURNED,
            today=on,
            product=self.product,
            posted=self.posted,
        )
        self.post()

    def cheque_keyed_late(self, *, amount: int, received: dt.date) -> None:
        """A mailed cheque received on `received`, booked today as a backdated payment."""
        self.line.book_backdated_payment(
            payment_id="mailed-1",
            amount=amount,
            rail=Rail.ACH,
            effective_on=received,
            reason=f"cheque received {received}, keyed late",
            today=self.day,
            product=self.product,
            posted=self.posted,
        )
        self.post()

    def agree(self) -> None:
        """The journal's receivables equal the line's balances, bucket by bucket."""
        balances = account_balances(self.posted)
        line = self.line
        assert {
            bucket: balances.get(receivable(line.line_id, bucket), 0) for bucket in _BUCKETS
        } == {
            bucket: getattr(line.balances, name)
            for bucket, name in zip(_BUCKETS, _NAMES, strict=True)
        }


_BUCKETS = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.FEE)
_NAMES = ("principal", "interest", "fees")


def test_a_return_pays_no_interest_days_case_b() -> None:
    """$500 drawn 04-01 at 35%, $200 paid 04-16 and returned 04-21: 1,500,000 cent-days."""
    books = Books(bare_line(dt.date(2026, 4, 1), apr=Decimal(35)))
    disbursed_draw(books.line, draw_id="d1", amount=50_000, on=dt.date(2026, 4, 1))
    books.go_to(dt.date(2026, 4, 16))
    books.line.submit_payment(payment_id="p1", amount=20_000, rail=Rail.ACH, on=books.day)
    books.returned("p1", dt.date(2026, 4, 21))
    books.go_to(dt.date(2026, 5, 1))
    statement = books.line.last_statement
    assert statement is not None
    assert (statement.cent_days, statement.interest_charged) == (1_500_000, 1_438)
    books.agree()


def test_a_return_after_the_next_statement_makes_the_line_late_from_the_original_due_date() -> None:
    """Case a: the minimum was met, then the payment came back after the next statement."""
    books = Books(bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99")))
    disbursed_draw(books.line, draw_id="d1", amount=50_000, on=books.day)
    books.go_to(dt.date(2026, 2, 10))
    due = books.line.next_due_date
    assert due == dt.date(2026, 3, 3)
    minimum = books.line.next_minimum_payment_due
    books.go_to(dt.date(2026, 2, 20))
    books.line.submit_payment(payment_id="p1", amount=minimum, rail=Rail.ACH, on=books.day)
    books.go_to(dt.date(2026, 3, 12))  # the next statement was cut on 03-10
    assert books.line.status is LineStatus.ACTIVE
    books.events.clear()
    books.returned("p1", books.day)
    line = books.line
    assert line.status is LineStatus.SUSPENDED
    assert line.past_due_since == due + ONE_DAY
    fees = [e for e in books.posted if e.kind == EntryKind.LATE_FEE]
    adjustment = [e for e in books.posted if e.kind == EntryKind.ADJUSTMENT]
    assert fees == []  # the fee the corrected history charges is in the adjustment
    assert len(adjustment) == 1
    assert line.fee_balance == PRODUCT.late_fee_cents  # exactly one late fee
    assert [a.kind for a in line.cycle_activity if a.kind is ActivityKind.ADJUSTMENT]
    assert EventType.LOC_PAST_DUE in books.events
    assert EventType.LOC_PAYMENT_FAILED in books.events
    with pytest.raises(LineNotActive):
        line.request_draw(draw_id="d2", amount=1_000, on=books.day)
    books.agree()
    books.go_to(dt.date(2026, 4, 10))  # the next statement adds up with the adjustment lines
    statement = line.last_statement
    assert statement is not None
    assert statement.adjustments
    books.agree()


WAIVING = CreditLineProduct(corrections=CorrectionPolicy(late_fee_when_missed_by_return=False))
WAIVED = "late fee waived: missed only because of a returned payment"


def _case_a(product: CreditLineProduct) -> tuple[Books, dt.date]:
    """Case a up to 02-20: the minimum of the 02-10 statement (due 03-03) paid by ACH."""
    books = Books(bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99")), product)
    disbursed_draw(books.line, draw_id="d1", amount=50_000, on=books.day)
    books.go_to(dt.date(2026, 2, 20))
    due = books.line.next_due_date
    assert due == dt.date(2026, 3, 3)
    minimum = books.line.next_minimum_payment_due
    books.line.submit_payment(payment_id="p1", amount=minimum, rail=Rail.ACH, on=books.day)
    return books, due


def test_waiving_policy_a_return_after_the_next_statement_suspends_without_a_late_fee() -> None:
    """Case a with late_fee_when_missed_by_return=False: past due, suspended, no fee."""
    books, due = _case_a(WAIVING)
    books.go_to(dt.date(2026, 3, 12))
    books.returned("p1", books.day)
    line = books.line
    assert line.status is LineStatus.SUSPENDED
    assert line.past_due_since == due + ONE_DAY
    assert line.fee_balance == 0
    assert line.late_fee_cycle == dt.date(2026, 2, 10)  # handled: not reconsidered daily
    assert EventType.LOC_PAST_DUE in books.events
    books.agree()
    books.go_to(dt.date(2026, 3, 31))
    assert line.fee_balance == 0
    books.agree()


def test_waiving_policy_a_return_known_on_time_records_the_waiver() -> None:
    """Returned before the due date: the overdue job waives the fee and says why, once."""
    books, due = _case_a(WAIVING)
    books.returned("p1", dt.date(2026, 2, 22))
    books.go_to(due + ONE_DAY)
    line = books.line
    decision = line.run_overdue(today=books.day, product=WAIVING)
    assert (decision.suspend, decision.late_fee, decision.late_fee_waived) == (True, 0, True)
    waivers = [c for c in line.outbox.changes if c.reason == WAIVED]
    assert [(c.entity, c.process) for c in waivers] == [("line", "LATE_FEE")]
    books.post()
    assert line.status is LineStatus.SUSPENDED
    assert line.past_due_since == due + ONE_DAY
    assert line.fee_balance == 0
    assert not [e for e in books.posted if e.kind == EntryKind.LATE_FEE]
    assert not line.run_overdue(today=books.day + ONE_DAY, product=WAIVING).acts
    books.agree()


def test_waiving_policy_still_charges_a_cycle_missed_anyway() -> None:
    """A $1 payment returned: the minimum was missed whether or not it stood."""
    books = Books(bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99")), WAIVING)
    disbursed_draw(books.line, draw_id="d1", amount=50_000, on=books.day)
    books.go_to(dt.date(2026, 2, 20))
    due = books.line.next_due_date
    assert due is not None
    books.line.submit_payment(payment_id="p1", amount=100, rail=Rail.ACH, on=books.day)
    books.returned("p1", dt.date(2026, 2, 25))
    books.go_to(due + ONE_DAY)
    books.through(due + ONE_DAY)
    assert books.line.status is LineStatus.SUSPENDED
    assert books.line.fee_balance == PRODUCT.late_fee_cents
    assert len([e for e in books.posted if e.kind == EntryKind.LATE_FEE]) == 1
    books.agree()


def test_waiving_policy_charges_the_next_cycle_missed_anyway() -> None:
    """After the waived cycle of case a, the 03-10 minimum goes unpaid: that fee is due."""
    books, _ = _case_a(WAIVING)
    books.go_to(dt.date(2026, 3, 12))
    books.returned("p1", books.day)
    books.go_to(dt.date(2026, 3, 20))
    due = books.line.next_due_date
    assert due is not None
    books.go_to(due + ONE_DAY)
    books.through(due + ONE_DAY)
    assert books.line.fee_balance == PRODUCT.late_fee_cents
    assert books.line.late_fee_cycle == dt.date(2026, 3, 10)
    books.agree()


def test_the_same_return_twice_posts_nothing_the_second_time() -> None:
    books = Books(bare_line(dt.date(2026, 4, 1), apr=Decimal(35)))
    disbursed_draw(books.line, draw_id="d1", amount=50_000, on=books.day)
    books.go_to(dt.date(2026, 5, 3))
    books.line.submit_payment(payment_id="p1", amount=20_000, rail=Rail.ACH, on=books.day)
    books.returned("p1", dt.date(2026, 6, 5))
    with pytest.raises(PaymentAlreadyReversed):
        books.returned("p1", books.day)
    assert (
        correct(
            books.line,
            cause="again",
            effective=dt.date(2026, 5, 3),
            today=books.day,
            product=PRODUCT,
            posted=books.posted,
            reason="again",
        )
        is None
    )
    books.agree()


def test_a_return_beyond_the_reach_changes_nothing() -> None:
    product = CreditLineProduct(corrections=CorrectionPolicy(reach=dt.timedelta(days=30)))
    books = Books(bare_line(dt.date(2026, 4, 1), apr=Decimal(35)), product)
    disbursed_draw(books.line, draw_id="d1", amount=50_000, on=books.day)
    books.go_to(dt.date(2026, 4, 16))
    books.line.submit_payment(payment_id="p1", amount=20_000, rail=Rail.ACH, on=books.day)
    books.go_to(dt.date(2026, 5, 20))
    before = books.line.balances
    with pytest.raises(CorrectionTooOld):
        books.returned("p1", books.day)
    assert books.line.balances == before
    assert not books.line.outbox


def test_a_backdated_payment_before_the_due_date_prevents_the_late_fee() -> None:
    books = Books(bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99")))
    disbursed_draw(books.line, draw_id="d1", amount=50_000, on=books.day)
    books.go_to(dt.date(2026, 3, 10))
    assert books.line.fee_balance == PRODUCT.late_fee_cents
    assert books.line.past_due_since == dt.date(2026, 3, 4)
    books.cheque_keyed_late(amount=5_000, received=dt.date(2026, 3, 1))
    line = books.line
    assert (line.status, line.fee_balance, line.past_due_since) == (LineStatus.ACTIVE, 0, None)
    assert books.line.balances.principal < 50_000
    books.agree()


def _line(draw: int, on: dt.date) -> CreditLine:
    line = bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99"))
    disbursed_draw(line, draw_id="d1", amount=draw, on=on)
    return line


def test_a_minimum_paid_after_the_days_overdue_job_keeps_its_late_fee_through_a_replay() -> None:
    """The fee charged at 16:00 stands when a later, unrelated return replays the line."""
    books = Books(_line(50_000, dt.date(2026, 1, 10)))
    line = books.line
    books.through(dt.date(2026, 3, 4))  # the overdue job of the first late day charged the fee
    assert line.fee_balance == 500
    owed = line.next_minimum_payment_due + line.fee_balance
    line.submit_payment(payment_id="p1", amount=owed, rail=Rail.ACH, on=dt.date(2026, 3, 4))
    books.post()
    books.go_to(dt.date(2026, 3, 5))
    line.submit_payment(payment_id="p2", amount=1_000, rail=Rail.ACH, on=dt.date(2026, 3, 5))
    books.post()
    before = (line.principal_balance, line.interest_balance, line.fee_balance, line.late_fee_cycle)
    books.returned("p2", dt.date(2026, 3, 6))  # unrelated to the fee: it only comes back
    assert (line.principal_balance, line.interest_balance, line.fee_balance) == (
        before[0] + 1_000 - line.payments["p2"].paid_interest - line.payments["p2"].paid_fees,
        before[1],
        before[2],
    )
    assert line.late_fee_cycle == before[3]  # the fee stays charged and paid
    books.agree()


def test_a_payment_booked_before_a_draw_the_same_day_stays_before_it_in_a_replay() -> None:
    """Money a rail took when nothing was owed is a refund due, even after a replay."""
    books = Books(_line(10_000, dt.date(2026, 1, 12)))
    line = books.line
    books.go_to(dt.date(2026, 1, 13))
    line.submit_payment(payment_id="p0", amount=2_000, rail=Rail.ACH, on=dt.date(2026, 1, 13))
    books.post()
    books.go_to(dt.date(2026, 1, 15))
    line.submit_payment(payment_id="payoff", amount=8_000, rail=Rail.ACH, on=dt.date(2026, 1, 15))
    line.book_moved_payment(
        payment_id="autopay", amount=3_000, rail=Rail.PINLESS, on=dt.date(2026, 1, 15)
    )
    disbursed_draw(line, draw_id="d2", amount=5_000, on=dt.date(2026, 1, 15))  # later that day
    books.post()
    books.returned("p0", dt.date(2026, 1, 20))
    # as if p0 never happened: the payoff pays 8,000 of 10,000, the autopay the other
    # 2,000 with 1,000 left to refund, and the later draw takes that credit first
    assert (line.principal_balance, line.refunds_due) == (4_000, 0)
    refund = line.payments["autopay"].refund
    assert refund is not None
    assert (refund.amount, refund.applied, refund.status) == (1_000, 1_000, RefundStatus.APPLIED)
    books.agree()


def _year_totals(books: Books) -> tuple[int, int]:
    statement = books.line.last_statement
    assert statement is not None
    return statement.fees_year_to_date, statement.interest_year_to_date


def test_the_next_statement_counts_in_its_year_totals_what_a_return_changed_earlier() -> None:
    """1026.7(b)(6)(iii): the year's totals are those of the history the borrower lived."""
    books = Books(bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99")))
    twin = Books(bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99")))  # never paid
    for one in (books, twin):
        disbursed_draw(one.line, draw_id="d1", amount=50_000, on=one.day)
    books.go_to(dt.date(2026, 2, 20))
    books.line.submit_payment(
        payment_id="p1", amount=books.line.next_minimum_payment_due, rail=Rail.ACH, on=books.day
    )
    books.go_to(dt.date(2026, 3, 12))
    assert _year_totals(books)[0] == 0  # the March statement: paid on time, no fee
    books.returned("p1", books.day)  # ...until the payment came back
    for one in (books, twin):
        one.go_to(dt.date(2026, 4, 10))
    fees, interest = _year_totals(books)
    assert (fees, interest) == _year_totals(twin)
    assert fees == 2 * PRODUCT.late_fee_cents  # March's fee (by the correction) and April's
    books.agree()


def test_a_backdated_payment_takes_the_fee_it_prevents_out_of_the_year_totals() -> None:
    books = Books(bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99")))
    twin = Books(bare_line(dt.date(2026, 1, 10), apr=Decimal("29.99")))  # paid on time
    for one in (books, twin):
        disbursed_draw(one.line, draw_id="d1", amount=50_000, on=one.day)
    twin.go_to(dt.date(2026, 3, 1))
    twin.line.submit_payment(payment_id="mailed-1", amount=5_000, rail=Rail.ACH, on=twin.day)
    books.go_to(dt.date(2026, 3, 12))
    assert _year_totals(books)[0] == PRODUCT.late_fee_cents  # the March statement's fee
    books.cheque_keyed_late(amount=5_000, received=dt.date(2026, 3, 1))
    for one in (books, twin):
        one.go_to(dt.date(2026, 4, 10))
    assert _year_totals(books) == _year_totals(twin)
    assert _year_totals(books)[0] == PRODUCT.late_fee_cents  # April's alone: March's is gone
    books.agree()


@pytest.mark.parametrize(
    ("opened", "paid_on", "returned_on", "first"),
    [
        # the fee the return makes owed falls on 01-01, in the cycle billed 2026-01-10
        pytest.param(
            dt.date(2025, 11, 10), dt.date(2025, 12, 20), dt.date(2026, 1, 12), 2026, id="this-year"
        ),
        # it falls on 12-02, in the cycle billed 2025-12-10: last year's totals, closed
        pytest.param(
            dt.date(2025, 10, 10),
            dt.date(2025, 11, 20),
            dt.date(2025, 12, 12),
            2025,
            id="last-year",
        ),
    ],
)
def test_year_totals_take_a_correction_by_the_year_of_the_cycle_it_changed(
    opened: dt.date, paid_on: dt.date, returned_on: dt.date, first: int
) -> None:
    books = Books(bare_line(opened, apr=Decimal("29.99")))
    twin = Books(bare_line(opened, apr=Decimal("29.99")))  # never paid
    for one in (books, twin):
        disbursed_draw(one.line, draw_id="d1", amount=50_000, on=one.day)
    books.go_to(paid_on)
    books.line.submit_payment(
        payment_id="p1", amount=books.line.next_minimum_payment_due, rail=Rail.ACH, on=books.day
    )
    books.returned("p1", returned_on)
    late = books.line.past_due_since
    assert late is not None
    assert late.year == first
    for one in (books, twin):
        one.go_to(dt.date(2026, 2, 10))
    assert _year_totals(books) == _year_totals(twin)
    books.agree()
