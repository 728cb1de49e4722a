"""A line's periodic statement figures, its warnings and its minimum-payment estimate."""

import contextlib
import datetime as dt
from decimal import Decimal

from fakes import bare_line, statement_adds_up
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.creditline import (
    ActivityKind,
    Balances,
    CreditLine,
    CreditLineProduct,
    CycleActivity,
    Statement,
)
from loc_core.disclosures import StatementDisclosure, statement_disclosure
from loc_core.errors import LocError
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw

PRODUCT = CreditLineProduct()
OPENED = dt.date(2026, 1, 10)
CLOSE = dt.date(2026, 2, 10)


def statement(**changes: object) -> Statement:
    """A $100.00 cycle at 12 % APR whose minimum is half the principal, unless changed."""
    figures: dict[str, object] = {
        "line_id": "line-1",
        "user_id": "user-1",
        "cycle_start": OPENED,
        "cycle_end": CLOSE,
        "statement_date": CLOSE,
        "opening": Balances(),
        "closing": Balances(principal=10_000),
        "activity": (
            CycleActivity(ActivityKind.DRAW, "d1", OPENED, 10_000, Balances(principal=10_000)),
        ),
        "apr": Decimal(12),
        "cent_days": 0,
        "interest_charged": 0,
        "fees_charged": 0,
        "past_due_amount": 0,
        "minimum_payment": 5_000,
        "due_date": dt.date(2026, 3, 3),
    }
    figures.update(changes)
    return Statement(**figures)  # type: ignore[arg-type]  # a dict of test values


def disclose(item: Statement, credit_limit: int = 100_000) -> StatementDisclosure:
    return statement_disclosure(item, credit_limit=credit_limit, product=PRODUCT)


def test_a_billed_cycle_discloses_its_figures() -> None:
    line = bare_line(OPENED, apr=Decimal("29.99"), minimum_payment_percent=Decimal(3))
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    line.submit_payment(payment_id="p1", amount=10_000, rail=Rail.ACH, on=dt.date(2026, 1, 25))
    billed = line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    assert billed is not None
    figures = disclose(billed, credit_limit=line.credit_limit)
    assert (figures.cycle_start, figures.cycle_end, figures.days_in_cycle) == (
        OPENED,
        dt.date(2026, 2, 9),
        31,
    )
    assert (figures.previous_balance, figures.draws, figures.payments) == (0, 50_000, 10_000)
    assert (figures.reversals, figures.adjustments, figures.fees_charged) == (0, 0, 0)
    # cent-days 13 x 50,000 + 16 x 40,000 = 1,290,000 over 31 days: 41,612.90 -> 41,613
    assert figures.balance_subject_to_interest == 41_613
    assert figures.interest_charged == 1_060
    assert figures.new_balance == 41_060
    assert figures.annual_percentage_rate == Decimal("29.99")
    # 29.99 / 365 = 0.082164383... -> 0.082164
    assert figures.daily_periodic_rate == Decimal("0.082164")
    assert (figures.credit_limit, figures.available_credit) == (100_000, 60_000)
    assert (figures.minimum_payment, figures.past_due_amount) == (2_260, 0)
    assert (figures.due_date, figures.late_fee) == (dt.date(2026, 3, 3), 500)
    assert [(t.kind, t.reference, t.description, t.amount) for t in figures.transactions] == [
        ("draw", "d1", "Draw", 50_000),
        ("payment", "p1", "Payment, thank you", -10_000),
    ]
    assert figures.late_payment_warning == (
        "If we do not receive your minimum payment by March 3, 2026, you may have to pay "
        "a late fee of up to $5.00, never more than the minimum payment due."
    )
    assert figures.minimum_payment_months is not None
    assert figures.minimum_payment_total is not None
    assert figures.minimum_payment_total > figures.new_balance
    assert "in about 21 years" in figures.minimum_payment_warning  # 254 months


def test_paying_only_the_minimum_worked_by_hand() -> None:
    # $100.00 owed at 12 % APR (1 % a month); the minimum takes half the principal.
    # month  interest  principal  paid   left
    #   1       -        50.00    50.00  50.00   (this statement's minimum)
    #   2     0.50       25.00    25.50  25.00
    #   3     0.25       12.50    12.75  12.50
    #   4     0.125->.13  6.25     6.38   6.25
    #   5     .0625->.06  3.125->3.13  3.19  3.12
    #   6     .0312->.03  1.56     1.59   1.56
    #   7     .0156->.02  0.78     0.80   0.78
    #   8     .0078->.01  0.39     0.40   0.39
    #   9     0           0.195->.20   0.20   0.19
    #  10     0           0.095->.10   0.10   0.09
    #  11     0           0.045->.05   0.05   0.04
    #  12     0           0.02     0.02   0.02
    #  13     0           0.01     0.01   0.01
    #  14     0           0.005->.01: the last cent   0.01   0
    # 14 months, $50 + 25.50 + 12.75 + 6.38 + 3.19 + 1.59 + .80 + .40 + .20 + .10 + .05
    # + .02 + .01 + .01 = $101.00
    figures = disclose(statement())
    assert (figures.minimum_payment_months, figures.minimum_payment_total) == (14, 10_100)
    assert figures.minimum_payment_warning == (
        "Minimum Payment Warning: If you make only the minimum payment each period, you will "
        "pay more in interest and it will take you longer to pay off your balance. If you "
        "make no more draws and pay only the minimum each month, you will pay off the "
        "balance shown on this statement in about 14 months and end up paying an estimated "
        "total of $101.00. If you would like information about credit counseling services, "
        "call 1-800-555-0100."
    )


def test_a_minimum_that_covers_the_balance_repays_it_in_one_month() -> None:
    figures = disclose(statement(minimum_payment=10_000))
    assert (figures.minimum_payment_months, figures.minimum_payment_total) == (1, 10_000)
    assert "in about 1 month and" in figures.minimum_payment_warning


def test_a_minimum_of_interest_only_never_repays() -> None:
    figures = disclose(
        statement(
            closing=Balances(principal=10_000, interest=100),
            interest_charged=100,
            minimum_payment=100,
        )
    )
    assert (figures.minimum_payment_months, figures.minimum_payment_total) == (None, None)
    assert "never pay off the balance" in figures.minimum_payment_warning


def test_nothing_owed_needs_no_minimum_payment_warning() -> None:
    paid = statement(closing=Balances(), minimum_payment=0)
    figures = disclose(paid)
    assert (figures.minimum_payment_months, figures.minimum_payment_total) == (0, 0)
    assert (figures.minimum_payment_warning, figures.late_fee) == ("", 0)


def test_available_credit_never_goes_below_zero() -> None:
    assert disclose(statement(), credit_limit=5_000).available_credit == 0


# --- the summary adds up on lines driven through cycles -----------------------------

_EVENT = st.tuples(st.sampled_from(["draw", "pay", "return"]), st.integers(1, 2_000_000))


def _apply(line: CreditLine, event: tuple[str, int], on: dt.date, paid: list[str]) -> None:
    kind, size = event
    reference = f"{kind}-{on.isoformat()}"
    if kind == "draw" and line.available_credit > 0:
        amount = 1 + size % line.available_credit
        disbursed_draw(line, draw_id=reference, amount=amount, on=on)
    elif kind == "pay" and line.total_balance > 0:
        amount = 1 + size % line.total_balance
        line.submit_payment(payment_id=reference, amount=amount, rail=Rail.ACH, on=on)
        paid.append(reference)
    elif kind == "return" and paid:
        line.settle_payment(payment_id=paid.pop(), outcome=SettlementOutcome.RETURNED, on=on)


def _drive(line: CreditLine, events: list[tuple[str, int]], start: dt.date, close: dt.date) -> None:
    """Each day from `start` to `close`: its event if any (unless refused), then overdue."""
    paid: list[str] = []
    for offset in range((close - start).days):
        on = start + dt.timedelta(days=offset)
        if offset < len(events):
            with contextlib.suppress(LocError):
                _apply(line, events[offset], on, paid)
        line.run_overdue(today=on, product=PRODUCT)


@settings(max_examples=40, deadline=None)
@given(
    apr=st.decimals("0", "36", places=2),
    percent=st.decimals("1", "5", places=2),
    cycles=st.lists(st.lists(_EVENT, max_size=20), min_size=1, max_size=4),
)
def test_the_statement_summary_adds_up(
    apr: Decimal, percent: Decimal, cycles: list[list[tuple[str, int]]]
) -> None:
    line = bare_line(OPENED, apr=apr, minimum_payment_percent=percent, credit_limit=200_000)
    start = OPENED
    for number, events in enumerate(cycles, start=1):
        close = dt.date(2026, 1 + number, 10)
        _drive(line, events, start, close)
        billed = line.bill_cycle(close_date=close, today=close, product=PRODUCT)
        assert billed is not None
        figures = disclose(billed, credit_limit=line.credit_limit)
        assert statement_adds_up(figures)  # the summary and the rows give the new balance
        if figures.minimum_payment_total is not None:
            assert figures.minimum_payment_total >= figures.new_balance
        start = close
