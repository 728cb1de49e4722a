"""Property: a line hearing of returns, backdated payments and backdated draws late ends
where the same line hearing of them on their own days ends, to the cent.

Wider than `test_correction_properties`: draws come on any day (between payments, after
statements, on a SUSPENDED or DEFAULTED line: money that went out is booked whatever the
line would allow), operators backdate draws as well as payments, and the comparison goes
on to the next statement each line issues (its closing, minimum, past-due amount, credit
balance and year-to-date totals), besides balances, delinquency and the books.
"""

import datetime as dt
import functools
from decimal import Decimal

import attrs
from fakes import bare_line
from hypothesis import given, settings
from hypothesis import strategies as st
from unit.creditline.test_correction_properties import COMPARED

from loc_core.corrections import account_balances
from loc_core.creditline import CreditLine, CreditLineProduct, Draw, DrawStatus
from loc_core.ledger import Bucket, JournalEntry, receivable
from loc_core.payments import Rail, SettlementOutcome

OPENED = dt.date(2026, 1, 10)
HORIZON = 160
_PRODUCT = CreditLineProduct()
_BUCKETS = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.FEE)
_COMPARED = (*COMPARED, "refunds_due")


@attrs.frozen
class Event:
    """A draw (`is_draw`) or a payment on day `day`, in plan order within its day."""

    event_id: str
    day: int
    amount: int
    is_draw: bool
    rail: Rail
    returned_after: int | None = None
    """A payment's return or chargeback, heard of this many days later (None: it stands)."""
    late_by: int | None = None
    """Heard of this many days after `day`, as an operator's backdated entry."""


_EVENTS = st.lists(
    st.tuples(
        st.integers(0, 95),
        st.integers(1, 40_000),
        st.booleans(),
        st.sampled_from([Rail.ACH, Rail.PINLESS]),
        st.none() | st.integers(1, 60),
        st.none() | st.integers(1, 60),
    ),
    min_size=1,
    max_size=5,
)


def _plan(raw: list[tuple[int, int, bool, Rail, int | None, int | None]]) -> list[Event]:
    plan = []
    for n, (day, amount, is_draw, rail, returned, late_by) in enumerate(raw):
        # a backdated payment is money received: it stands
        returned_after = None if is_draw or late_by is not None else returned
        plan.append(
            Event(
                f"{'d' if is_draw else 'p'}{n}",
                day,
                amount,
                is_draw,
                Rail.RTP if is_draw else rail,
                returned_after,
                late_by,
            )
        )
    return plan


def _outcome(rail: Rail) -> SettlementOutcome:
    return SettlementOutcome.CHARGED_BACK if rail is Rail.PINLESS else SettlementOutcome.RETURNED


def _send(line: CreditLine, event: Event, day: dt.date) -> None:
    """A draw the rail sent: booked whatever the line would have allowed (as a replay does)."""
    line.draws[event.event_id] = Draw(
        draw_id=event.event_id,
        line_id=line.line_id,
        user_id=line.user_id,
        amount=event.amount,
        requested_on=day,
    )
    line.pending_draws_total += event.amount
    line.disburse_draw(draw_id=event.event_id, rail=event.rail, on=day)


class Run:
    def __init__(self) -> None:
        self.line = bare_line(OPENED, apr=Decimal("29.99"))
        self.posted: list[JournalEntry] = []

    def post(self) -> None:
        self.posted.extend(self.line.outbox.drain().entries)
        books = account_balances(self.posted)
        owed = [books.get(receivable(self.line.line_id, bucket), 0) for bucket in _BUCKETS]
        line = self.line
        assert owed == [line.principal_balance, line.interest_balance, line.fee_balance]


def _drive(plan: list[Event], *, late: bool) -> Run:
    run = Run()
    line = run.line
    for offset in range(HORIZON):
        day = OPENED + dt.timedelta(days=offset)
        while line.next_close_date <= day:
            line.bill_cycle(close_date=line.next_close_date, today=day, product=_PRODUCT)
        todays = [e for e in plan if e.day == offset]
        # an operator's backdated entry comes last among its day's events, as heard of
        heard = sorted((e for e in todays if e.late_by), key=lambda e: e.late_by or 0)
        for event in [*(e for e in todays if e.late_by is None), *heard]:
            if late and event.late_by is not None:
                continue
            if event.is_draw:
                _send(line, event, day)
                continue
            line.book_moved_payment(
                payment_id=event.event_id, amount=event.amount, rail=event.rail, on=day
            )
            if event.returned_after is not None and not late:
                line.settle_payment(payment_id=event.event_id, outcome=_outcome(event.rail), on=day)
        if late:
            _hear_late(run, plan, offset, day)
        line.run_overdue(today=day, product=_PRODUCT)
        run.post()
    return run


def _hear_late(run: Run, plan: list[Event], offset: int, day: dt.date) -> None:
    line = run.line
    for event in plan:
        effective = OPENED + dt.timedelta(days=event.day)
        if event.returned_after is not None and event.day + event.returned_after == offset:
            line.correct_return(
                payment_id=event.event_id,
                outcome=_outcome(event.rail),
                today=day,
                product=_PRODUCT,
                posted=run.posted,
            )
        elif event.late_by is not None and event.day + event.late_by == offset:
            book = (
                functools.partial(line.book_backdated_draw, draw_id=event.event_id)
                if event.is_draw
                else functools.partial(line.book_backdated_payment, payment_id=event.event_id)
            )
            book(
                amount=event.amount,
                rail=event.rail,
                effective_on=effective,
                reason="heard of late",
                today=day,
                product=_PRODUCT,
                posted=run.posted,
            )
        else:
            continue
        run.post()


@settings(max_examples=40)
@given(_EVENTS)
def test_a_line_hearing_late_ends_where_one_hearing_on_time_does(
    raw: list[tuple[int, int, bool, Rail, int | None, int | None]],
) -> None:
    plan = _plan(raw)
    on_time, late = _drive(plan, late=False), _drive(plan, late=True)
    for name in _COMPARED:
        assert getattr(late.line, name) == getattr(on_time.line, name), name
    assert account_balances(late.posted) == account_balances(on_time.posted)
    assert all(d.status is DrawStatus.DISBURSED for d in late.line.draws.values())
    figures = []
    for run in (on_time, late):
        close = run.line.next_close_date
        statement = run.line.bill_cycle(close_date=close, today=close, product=_PRODUCT)
        assert statement is not None
        figures.append(
            (
                statement.closing,
                statement.cent_days,
                statement.interest_charged,
                statement.minimum_payment,
                statement.past_due_amount,
                statement.closing_credit,
                statement.fees_year_to_date,
                statement.interest_year_to_date,
            )
        )
    assert figures[1] == figures[0]
