"""Audit: whatever happens to a line, its books prove its balances and its statements add up.

A line is driven day by day as the jobs would (billing on close dates, the overdue rules
every day) through random draws, payments, money a rail took beyond the balance, returns
and chargebacks learned late, operators' backdated payments, closes and long unpaid
stretches that default it. After every step:

- every journal entry id is posted once (a store refuses a second entry under an id);
- the ledger identity: the receivables, the allowance and the refunds due equal the line's;
- the statement identity on every statement issued: previous balance + draws + fees +
  interest + reversals - payments + adjustments = new balance, and each statement opens
  where the one before closed.
"""

import collections
import datetime as dt
from decimal import Decimal

from fakes import statement_adds_up
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus, Statement
from loc_core.disclosures import statement_disclosure
from loc_core.ledger import Bucket, JournalEntry, Ledger, allowance, receivable, refund_due
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw

PRODUCT = CreditLineProduct()
ONE_DAY = dt.timedelta(days=1)


class Driven:
    """A line, its posted journal and its statements, with the jobs run every day."""

    def __init__(self, line: CreditLine) -> None:
        self.line = line
        self.posted: list[JournalEntry] = []
        self.statements: list[Statement] = []
        self.day = line.opened_on
        self.ids = 0

    def next_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}-{self.ids}"

    def post(self) -> None:
        self.posted.extend(self.line.outbox.drain().entries)

    def _bill(self, day: dt.date) -> None:
        while self.line.next_close_date <= day:
            statement = self.line.bill_cycle(
                close_date=self.line.next_close_date, today=day, product=PRODUCT
            )
            assert statement is not None
            self.statements.append(statement)
        self.post()

    def go_to(self, day: dt.date) -> None:
        """Run the overdue rules of every day before `day`, and bill `day`'s close."""
        while self.day < day:
            self.line.run_overdue(today=self.day, product=PRODUCT)
            self.post()
            self.day += ONE_DAY
            self._bill(self.day)
        self._bill(day)

    def problems(self) -> list[str]:
        line, found = self.line, []
        twice = [
            i for i, n in collections.Counter(e.entry_id for e in self.posted).items() if n > 1
        ]
        if twice:
            return [f"entries posted twice: {twice}"]
        ledger = Ledger(self.posted)
        for bucket, owed in (
            (Bucket.PRINCIPAL, line.principal_balance),
            (Bucket.INTEREST, line.interest_balance),
            (Bucket.FEE, line.fee_balance),
        ):
            booked = ledger.balance(receivable(line.line_id, bucket))
            if booked != owed:
                found.append(f"{bucket.value}: ledger {booked}, line {owed}")
        reserved = -ledger.balance(allowance(line.line_id))
        if reserved != (line.total_balance if line.status is LineStatus.DEFAULTED else 0):
            found.append(f"allowance {reserved} for a {line.status.value} line")
        if -ledger.balance(refund_due(line.line_id)) != line.refunds_due:
            found.append("refunds due")
        previous = None
        for statement in self.statements:
            figures = statement_disclosure(
                statement, credit_limit=line.credit_limit, product=PRODUCT
            )
            if not statement_adds_up(figures):
                found.append(f"statement {statement.statement_date} does not add up")
            if previous is not None and (previous.closing, previous.closing_credit) != (
                statement.opening,
                statement.opening_credit,
            ):
                found.append(f"statement {statement.statement_date} opens off the last close")
            previous = statement
        return found


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["draw", "pay", "overpay", "return", "backdate", "close", "wait"]),
        st.sampled_from([0, 0, 1, 3, 10, 25, 40, 95]),
        st.integers(0, 2**16),
    ),
    min_size=1,
    max_size=25,
)


def _act(driven: Driven, action: str, pick: int) -> None:
    line, day = driven.line, driven.day
    if action == "draw":
        amount = [1, 999, 10_000, 40_000][pick % 4]
        if (
            line.status is LineStatus.ACTIVE
            and not line.past_due_amount(day)
            and amount <= line.available_credit
        ):
            disbursed_draw(line, draw_id=driven.next_id("draw"), amount=amount, on=day)
    elif action == "pay" and line.total_balance:
        owed = line.total_balance
        amounts = [1, owed, max(1, owed // 2), max(1, min(owed, line.minimum_payment_outstanding))]
        line.submit_payment(
            payment_id=driven.next_id("pay"), amount=amounts[pick % 4], rail=Rail.ACH, on=day
        )
    elif action == "overpay":
        line.book_moved_payment(
            payment_id=driven.next_id("moved"),
            amount=line.total_balance + 1 + pick % 500,
            rail=Rail.PINLESS,
            on=day,
        )
    elif action == "return":
        standing = sorted(
            payment_id
            for payment_id, payment in line.payments.items()
            if not payment.status.reversed
            and (day - payment.submitted_on).days <= PRODUCT.corrections.reach.days
            and not payment_id.startswith("backdated")
        )
        if standing:
            line.correct_return(
                payment_id=standing[pick % len(standing)],
                outcome=[SettlementOutcome.RETURNED, SettlementOutcome.CHARGED_BACK][pick % 2],
                today=day,
                product=PRODUCT,
                posted=driven.posted,
            )
    elif action == "backdate":
        effective = max(line.opened_on, day - dt.timedelta(days=pick % 100))
        line.book_backdated_payment(
            payment_id=driven.next_id("backdated"),
            amount=[100, 2_000, 30_000][pick % 3],
            rail=Rail.ACH,
            effective_on=effective,
            reason="keyed late",
            today=day,
            product=PRODUCT,
            posted=driven.posted,
        )
    elif action == "close" and not (
        line.total_balance or line.pending_draws_total or line.accrued_cent_days
    ):
        line.close(on=day, reason="borrower asked")
    driven.post()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actions=ACTIONS,
    apr=st.sampled_from([Decimal(0), Decimal("9.99"), Decimal("29.99"), Decimal(36)]),
    percent=st.sampled_from([Decimal(1), Decimal(3), Decimal(5)]),
    opened=st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)),
)
@example(  # defaulted 06-01; $300 found paid 03-01 undoes it; defaults again 06-29
    actions=[
        ("draw", 0, 3),
        ("wait", 95, 0),
        ("wait", 40, 0),
        ("wait", 10, 0),
        ("backdate", 0, 95),
        ("wait", 40, 0),
    ],
    apr=Decimal("29.99"),
    percent=Decimal(3),
    opened=dt.date(2026, 1, 10),
)
def test_the_books_and_the_statements_agree_with_the_line_after_anything(
    actions: list[tuple[str, int, int]], apr: Decimal, percent: Decimal, opened: dt.date
) -> None:
    driven = Driven(
        CreditLine(
            line_id="line-1",
            user_id="user-1",
            application_id="app-1",
            opened_on=opened,
            credit_limit=100_000,
            apr=apr,
            minimum_payment_percent=percent,
            cycle_day=min(opened.day, 28),
        )
    )
    for action, wait, pick in actions:
        driven.go_to(driven.day + dt.timedelta(days=wait))
        _act(driven, action, pick)
        assert driven.problems() == [], (action, driven.day)
    driven.go_to(driven.day + dt.timedelta(days=100))
    assert driven.problems() == []
