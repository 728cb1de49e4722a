"""Property: money events delivered late end where the same events on their own dates end.

Draws come in the first days (some of their credits later returned by the rail); payments
(some later returned or charged back) and backdated payments follow. One line hears of
every event on its effective date; the other hears of returns and backdated payments days
later, as corrections. Both end with the same
balances, interest, fees, status, past-due dates and books, whether the product charges or
waives the late fee of a cycle missed only because of a return.
"""

import datetime as dt
from decimal import Decimal

import attrs
import pytest
from fakes import bare_line
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loc_core.corrections import CorrectionPolicy, account_balances
from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus
from loc_core.creditline.correcting import correct
from loc_core.errors import DrawAlreadyReturned, PaymentAlreadyReversed
from loc_core.ledger import Bucket, JournalEntry, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw

PRODUCTS = [
    CreditLineProduct(),
    CreditLineProduct(corrections=CorrectionPolicy(late_fee_when_missed_by_return=False)),
]
OPENED = dt.date(2026, 1, 10)
HORIZON = 200
"""Days run: every delivery (at most day 130 + 60) falls inside."""
_BUCKETS = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.FEE)
COMPARED = (  # what a late-corrected line must agree on with the on-time one
    "status",
    "principal_balance",
    "interest_balance",
    "fee_balance",
    "next_minimum_payment_due",
    "next_due_date",
    "paid_since_statement",
    "carried_past_due",
    "carried_past_due_since",
    "past_due_since",
    "late_fee_cycle",
    "last_billing_cycle_date",
)


@attrs.frozen
class Pay:
    payment_id: str
    day: int
    amount: int
    rail: Rail
    reversed_after: int | None
    """Days until its return or chargeback is heard of (None: it stands)."""
    backdated_by: int | None = None
    """For a backdated payment, days between its effective date and its booking."""


draws = st.lists(
    st.tuples(st.integers(0, 10), st.integers(1, 30_000), st.none() | st.integers(0, 60)),
    min_size=1,
    max_size=3,
).map(lambda plan: sorted(plan, key=lambda draw: draw[0]))
"""Draws: (day, amount, days until the rail's return of its credit is heard of, or None)."""
payments = st.lists(
    st.builds(
        lambda day, amount, rail, after: (day, amount, rail, after),
        st.integers(11, 130),
        st.integers(1, 40_000),
        st.sampled_from([Rail.ACH, Rail.PINLESS]),
        st.none() | st.integers(1, 60),
    ),
    max_size=4,
    unique_by=lambda p: p[0],
)
backdated = st.lists(
    st.tuples(st.integers(11, 130), st.integers(1, 40_000), st.integers(1, 60)),
    max_size=2,
    unique_by=lambda p: p[0],
)


def _plan(
    raw: list[tuple[int, int, Rail, int | None]], late: list[tuple[int, int, int]]
) -> list[Pay]:
    plan = [
        Pay(f"p{i}", day, amount, rail, after) for i, (day, amount, rail, after) in enumerate(raw)
    ]
    plan += [
        Pay(f"b{i}", day, amount, Rail.ACH, None, by) for i, (day, amount, by) in enumerate(late)
    ]
    return plan


class Run:
    """A line driven day by day, its journal posted as it goes."""

    def __init__(self, product: CreditLineProduct) -> None:
        self.product = product
        self.line: CreditLine = bare_line(OPENED, apr=Decimal("29.99"))
        self.posted: list[JournalEntry] = []

    def post(self) -> None:
        self.posted.extend(self.line.outbox.drain().entries)

    def books_agree(self) -> None:
        books = account_balances(self.posted)
        line = self.line
        owed = [books.get(receivable(line.line_id, bucket), 0) for bucket in _BUCKETS]
        assert owed == [line.principal_balance, line.interest_balance, line.fee_balance]


def _refunds_dated_as_booked(run: Run) -> None:
    """A refund is never dated before the entry that made it due; a cancellation, the day
    its entry was posted.

    A refund cancelled and made due again by a later correction is dated that later day
    (one stored record keeps its latest state), so only the bound is checked for it.
    """
    booked = {entry.entry_id: entry.effective_date for entry in run.posted}
    for payment_id, payment in run.line.payments.items():
        refund = payment.refund
        if refund is None:
            continue
        first_due = booked.get(f"{payment_id}:refund_due")
        assert first_due is not None, payment_id
        assert refund.recorded_on >= first_due, payment_id
        if refund.cancelled_on is not None:
            assert refund.cancelled_on == booked.get(f"{payment_id}:refund_cancelled"), payment_id


def _cent_days(line: CreditLine) -> int:
    """The open cycle's cent-days through the last day run (accrual is lazy)."""
    end = OPENED + dt.timedelta(days=HORIZON)
    accruing = line.status is not LineStatus.DEFAULTED
    return (
        line.accrued_cent_days
        + accruing * line.principal_balance * (end - line.accrued_through).days
    )


def _outcome(rail: Rail) -> SettlementOutcome:
    return SettlementOutcome.CHARGED_BACK if rail is Rail.PINLESS else SettlementOutcome.RETURNED


Draws = list[tuple[int, int, int | None]]


def _drive(run: Run, draw_plan: Draws, plan: list[Pay], *, late: bool) -> None:
    line = run.line
    for offset in range(HORIZON):
        day = OPENED + dt.timedelta(days=offset)
        while line.next_close_date <= day:
            line.bill_cycle(close_date=line.next_close_date, today=day, product=run.product)
        _draw_day(run, draw_plan, offset, day, late=late)
        regular = [p for p in plan if p.backdated_by is None]
        for pay in [*regular, *(p for p in plan if p.backdated_by is not None)]:
            if pay.day != offset or (late and pay.backdated_by is not None):
                continue
            line.book_moved_payment(
                payment_id=pay.payment_id, amount=pay.amount, rail=pay.rail, on=day
            )
            if pay.reversed_after is not None and not late:
                line.settle_payment(payment_id=pay.payment_id, outcome=_outcome(pay.rail), on=day)
        if late:
            _deliver_late(run, plan, offset, day)
        line.run_overdue(today=day, product=run.product)
        run.post()
        run.books_agree()


def _draw_day(run: Run, draw_plan: Draws, offset: int, day: dt.date, *, late: bool) -> None:
    """The day's draws, then the returns of draws' credits heard of that day."""
    for index, (when, amount, _) in enumerate(draw_plan):
        if when == offset:
            disbursed_draw(run.line, draw_id=f"d{index}", amount=amount, on=day)
    for index, (when, _, after) in enumerate(draw_plan):
        if after is not None and when + (after if late else 0) == offset:
            _return_draw(run, f"d{index}", day)


def _return_draw(run: Run, draw_id: str, day: dt.date) -> None:
    """The rail's return of a draw's credit, heard of on `day`; the same again is refused."""
    for attempt in range(2):
        try:
            run.line.correct_draw_return(
                draw_id=draw_id,
                outcome=SettlementOutcome.RETURNED,
                return_code="R02",
                today=day,
                product=run.product,
                posted=run.posted,
            )
        except DrawAlreadyReturned:
            assert attempt == 1
        else:
            assert attempt == 0, "a second return was accepted"
        run.post()


def _deliver_late(run: Run, plan: list[Pay], offset: int, day: dt.date) -> None:
    line = run.line
    for pay in plan:
        if pay.reversed_after is not None and pay.day + pay.reversed_after == offset:
            line.correct_return(
                payment_id=pay.payment_id,
                outcome=_outcome(pay.rail),
                today=day,
                product=run.product,
                posted=run.posted,
            )
            run.post()
            try:
                line.correct_return(
                    payment_id=pay.payment_id,
                    outcome=_outcome(pay.rail),
                    today=day,
                    product=run.product,
                    posted=run.posted,
                )
            except PaymentAlreadyReversed:
                pass
            else:  # pragma: no cover - a second return is refused
                raise AssertionError("a second return was accepted")
        if pay.backdated_by is not None and pay.day + pay.backdated_by == offset:
            line.book_backdated_payment(
                payment_id=pay.payment_id,
                amount=pay.amount,
                rail=pay.rail,
                effective_on=OPENED + dt.timedelta(days=pay.day),
                reason="reported late by the rail",
                today=day,
                product=run.product,
                posted=run.posted,
            )
            run.post()
        if pay.day < offset and (
            pay.reversed_after is not None and pay.day + pay.reversed_after == offset
        ):
            again = correct(
                line,
                cause=f"{pay.payment_id}:again",
                effective=OPENED + dt.timedelta(days=pay.day),
                today=day,
                product=run.product,
                posted=run.posted,
                reason="the same correction delivered again",
            )
            assert again is None
            run.post()


@pytest.mark.parametrize(
    "product", PRODUCTS, ids=["fee-when-missed-by-return", "waived-when-missed-by-return"]
)
@settings(max_examples=100)
@given(draws, payments, backdated)
# A refund made due and cancelled, dropped by the next correction and brought back
# cancelled by the one after: dated by its entries, not by the last correction's day.
@example(
    [(0, 1, None), (0, 1, None), (5, 5837, 39)],
    [(40, 536, Rail.ACH, 3), (41, 5960, Rail.ACH, 1)],
    [],
)
def test_late_deliveries_end_where_on_time_ones_do(
    product: CreditLineProduct,
    draw_plan: Draws,
    raw: list[tuple[int, int, Rail, int | None]],
    late: list[tuple[int, int, int]],
) -> None:
    plan = _plan(raw, late)
    on_time, corrected, never = Run(product), Run(product), Run(product)
    _drive(on_time, draw_plan, plan, late=False)
    _drive(corrected, draw_plan, plan, late=True)
    # A draw whose credit came back is owed as if it had never been made.
    _drive(never, [draw for draw in draw_plan if draw[2] is None], plan, late=False)
    for run in (on_time, corrected, never):
        _refunds_dated_as_booked(run)
    for other in (corrected, never):
        for name in COMPARED:
            assert getattr(other.line, name) == getattr(on_time.line, name), name
        assert _cent_days(other.line) == _cent_days(on_time.line)
        assert other.line.refunds_due == on_time.line.refunds_due
        assert account_balances(other.posted) == account_balances(on_time.posted)
    totals = []
    for run in (on_time, corrected, never):  # the year's totals on the next statement
        close = run.line.next_close_date
        statement = run.line.bill_cycle(close_date=close, today=close, product=run.product)
        assert statement is not None
        totals.append((statement.fees_year_to_date, statement.interest_year_to_date))
    assert totals[1] == totals[0] == totals[2]
