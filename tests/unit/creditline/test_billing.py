import copy
import datetime as dt
from decimal import Decimal

import pytest
from fakes import bare_line, refused
from hypothesis import given
from hypothesis import strategies as st

from loc_core.creditline import (
    ActivityKind,
    Balances,
    CreditLine,
    CreditLineProduct,
    Statement,
)
from loc_core.errors import CycleNotClosed, InvalidTransition, OutOfOrder
from loc_core.events import DomainEvent, EventType
from loc_core.ledger import Bucket, Ledger, income, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw, naive_interest

CLOSE = dt.date(2026, 2, 10)
PRODUCT = CreditLineProduct()


def bill(line: CreditLine, close: dt.date = CLOSE) -> Statement:
    statement = line.bill_cycle(close_date=close, today=close, product=PRODUCT)
    assert statement is not None
    return statement


def roomy_line(
    *, apr: str = "29.99", percent: str = "3", opened: dt.date = dt.date(2026, 1, 10)
) -> CreditLine:
    """A $10,000.00 line opened on `opened`, cycle day that day, with these terms."""
    return bare_line(
        opened,
        apr=Decimal(apr),
        minimum_payment_percent=Decimal(percent),
        credit_limit=1_000_000,
    )


def test_a_cycle_with_a_draw_and_a_payment(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    line.submit_payment(payment_id="p1", amount=10_000, rail=Rail.ACH, on=dt.date(2026, 1, 25))
    statement = line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    assert statement is not None
    # Jan 10-11: 0; Jan 12-24: 13 days x 50,000; Jan 25-Feb 9: 16 days x 40,000.
    assert statement.cent_days == 13 * 50_000 + 16 * 40_000 == 1_290_000
    # 1,290,000 x 29.99 / 36,500 = 1,059.92... -> 1,060
    assert statement.interest_charged == 1_060
    assert (statement.cycle_start, statement.cycle_end, statement.days) == (
        dt.date(2026, 1, 10),
        CLOSE,
        31,
    )
    assert statement.opening == Balances()
    assert statement.closing == Balances(principal=40_000, interest=1_060)
    assert [item.reference for item in statement.draws] == ["d1"]
    assert [item.reference for item in statement.payments] == ["p1"]
    assert statement.reversals == statement.fees == ()
    assert statement.fees_charged == statement.past_due_amount == 0
    # interest + fees + 3% of 40,000 principal
    assert statement.minimum_payment == 1_060 + 0 + 1_200
    assert statement.due_date == dt.date(2026, 3, 3)
    assert (line.interest_balance, line.next_minimum_payment_due, line.next_due_date) == (
        1_060,
        2_260,
        dt.date(2026, 3, 3),
    )
    assert (line.last_billing_cycle_date, line.last_statement) == (CLOSE, statement)
    assert (line.cycle_activity, line.paid_since_statement, line.accrued_cent_days) == ([], 0, 0)


def test_billing_posts_interest_and_tells_the_borrower(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    line.outbox.drain()
    bill(line)
    (entry,) = line.outbox.entries
    assert entry.entry_id == "line-1:2026-02-10:interest"
    ledger = Ledger(entries=[entry])
    assert ledger.balance(receivable("line-1", Bucket.INTEREST)) == line.interest_balance
    assert ledger.balance(income(Bucket.INTEREST)) == -line.interest_balance
    assert line.outbox.events == [
        DomainEvent(
            EventType.LOC_STATEMENT_READY,
            "user-1",
            "line-1",
            CLOSE,
            {
                "statement_date": "2026-02-10",
                "closing_balance": line.total_balance,
                "minimum_payment": line.next_minimum_payment_due,
                "due_date": "2026-03-03",
                "document": "/lines/line-1/statements/2026-02-10/document",
                "autopay": True,
                "autopay_amount": line.next_minimum_payment_due,
            },
        )
    ]
    (change,) = line.outbox.changes
    assert change.process == "BILLING"
    assert change.fields[-1].field == "last_billing_cycle_date"  # written last


def test_the_close_date_belongs_to_the_next_cycle(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=36_500, on=dt.date(2026, 2, 9))
    first = bill(line)
    assert first.cent_days == 36_500  # Feb 9's end-of-day balance, one day
    disbursed_draw(line, draw_id="d2", amount=36_500, on=CLOSE)
    second = bill(line, dt.date(2026, 3, 10))
    assert second.cent_days == 28 * 73_000  # Feb 10 (the close date) onward, both draws
    assert [item.reference for item in second.draws] == ["d2"]


def test_interest_is_rounded_once_per_cycle_not_per_day() -> None:
    line = roomy_line(apr="36")
    disbursed_draw(line, draw_id="d1", amount=100, on=line.opened_on)
    statement = bill(line)
    # Each day: 100 x 36% / 365 = 0.0986 cents (0 if rounded daily); 31 days: 3.0575 -> 3.
    assert statement.interest_charged == 3


def test_half_a_cent_rounds_up() -> None:
    line = roomy_line(apr="1")
    disbursed_draw(line, draw_id="d1", amount=18_250, on=dt.date(2026, 2, 9))
    statement = bill(line)
    assert statement.cent_days == 18_250  # x 1% / 365 = exactly 0.5 cents
    assert statement.interest_charged == 1


def test_interest_never_accrues_on_interest_or_fees(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=line.opened_on)
    bill(line)
    unpaid_interest = line.interest_balance
    assert unpaid_interest > 0
    second = bill(line, dt.date(2026, 3, 10))
    assert second.cent_days == 28 * 50_000
    assert second.opening.interest == unpaid_interest


def test_the_minimum_payment_never_exceeds_the_balance() -> None:
    line = roomy_line(apr="0", percent="100")
    disbursed_draw(line, draw_id="d1", amount=10_000, on=line.opened_on)
    bill(line)
    assert line.next_minimum_payment_due == 10_000
    line.run_overdue(today=dt.date(2026, 3, 4), product=PRODUCT)  # unpaid: a late fee
    statement = bill(line, dt.date(2026, 3, 10))
    # 0 interest + 500 fee + 100% of 10,000 + 10,000 carried = 20,500, capped at 10,500.
    assert statement.closing.total == 10_500
    assert statement.minimum_payment == 10_500


def test_a_due_date_on_a_weekend_rolls_to_the_next_business_day() -> None:
    line = roomy_line(opened=dt.date(2026, 5, 28))
    disbursed_draw(line, draw_id="d1", amount=1_000, on=line.opened_on)
    statement = bill(line, dt.date(2026, 6, 28))
    assert statement.due_date == dt.date(2026, 7, 20)  # the 19th is a Sunday


def test_billing_a_cycle_again_changes_nothing(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    bill(line)
    bill(line, dt.date(2026, 3, 10))
    before = copy.deepcopy(line)
    march = dt.date(2026, 3, 10)
    assert line.bill_cycle(close_date=march, today=march, product=PRODUCT) is None
    assert line.bill_cycle(close_date=CLOSE, today=march, product=PRODUCT) is None
    assert line == before


def test_a_cycle_cannot_be_billed_before_it_closes(line: CreditLine) -> None:
    with refused(line, CycleNotClosed, match="closing 2026-02-10 cannot be billed on 2026-02-09"):
        line.bill_cycle(close_date=CLOSE, today=dt.date(2026, 2, 9), product=PRODUCT)


def test_cycles_are_billed_in_order_on_their_close_dates(line: CreditLine) -> None:
    before = copy.deepcopy(line)
    with pytest.raises(
        OutOfOrder, match="must bill its cycle closing 2026-02-10 before 2026-03-10"
    ):
        line.bill_cycle(
            close_date=dt.date(2026, 3, 10), today=dt.date(2026, 3, 10), product=PRODUCT
        )
    with pytest.raises(InvalidTransition, match="2026-02-09 is not a close date"):
        line.bill_cycle(close_date=dt.date(2026, 2, 9), today=CLOSE, product=PRODUCT)
    assert line == before


def test_a_late_billing_run_keeps_the_statement_date(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    statement = line.bill_cycle(close_date=CLOSE, today=dt.date(2026, 2, 12), product=PRODUCT)
    assert statement is not None
    assert (statement.statement_date, statement.due_date) == (CLOSE, dt.date(2026, 3, 3))


def test_a_statement_lists_reversals_and_balances_add_up(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    line.submit_payment(payment_id="p1", amount=10_000, rail=Rail.ACH, on=dt.date(2026, 1, 25))
    line.settle_payment(
        payment_id="p1", outcome=SettlementOutcome.RETURNED, on=dt.date(2026, 1, 29)
    )
    statement = bill(line)
    assert [(item.kind, item.reference) for item in statement.activity] == [
        (ActivityKind.DRAW, "d1"),
        (ActivityKind.PAYMENT, "p1"),
        (ActivityKind.REVERSAL, "p1"),
    ]
    assert statement.cent_days == 13 * 50_000 + 4 * 40_000 + 12 * 50_000
    moved = Balances()
    for item in statement.activity:
        moved = moved.plus(item.effect)
    assert statement.opening.plus(moved).plus(Balances(interest=statement.interest_charged)) == (
        statement.closing
    )


@given(
    events=st.lists(
        st.tuples(st.integers(0, 30), st.booleans(), st.integers(1, 200_000)), max_size=12
    ),
    apr=st.integers(0, 3_600).map(lambda hundredths: Decimal(hundredths).scaleb(-2)),
)
def test_interest_equals_the_day_by_day_sum(
    events: list[tuple[int, bool, int]], apr: Decimal
) -> None:
    line = roomy_line(apr=str(apr))
    end_of_day = {line.opened_on + dt.timedelta(days=offset): 0 for offset in range(31)}
    for number, (offset, is_draw, amount) in enumerate(sorted(events)):
        day = line.opened_on + dt.timedelta(days=offset)
        if is_draw:
            if line.available_credit:  # twelve draws can exceed even a roomy limit
                drawn = min(amount, line.available_credit)
                disbursed_draw(line, draw_id=f"d{number}", amount=drawn, on=day)
        elif line.total_balance:
            paid = min(amount, line.total_balance)
            line.submit_payment(payment_id=f"p{number}", amount=paid, rail=Rail.ACH, on=day)
        for later in end_of_day:
            if later >= day:
                end_of_day[later] = line.principal_balance
    statement = bill(line)
    assert statement.cent_days == sum(end_of_day.values())
    assert statement.interest_charged == naive_interest(list(end_of_day.values()), apr)


def test_fees_and_interest_add_up_over_the_calendar_year_and_start_again_in_january() -> None:
    """1026.7(b)(6)(iii): the year's totals, from January's statement on."""
    line = roomy_line(opened=dt.date(2025, 10, 10))
    disbursed_draw(line, draw_id="d1", amount=500_000, on=dt.date(2025, 10, 10))
    statements = [
        bill(line, close)
        for close in (
            dt.date(2025, 11, 10),
            dt.date(2025, 12, 10),
            dt.date(2026, 1, 10),
            dt.date(2026, 2, 10),
        )
    ]
    november, december, january, february = statements
    assert november.interest_year_to_date == november.interest_charged > 0
    assert december.interest_year_to_date == november.interest_charged + december.interest_charged
    assert january.interest_year_to_date == january.interest_charged  # a new year
    assert february.interest_year_to_date == january.interest_charged + february.interest_charged
    assert [s.fees_year_to_date for s in statements] == [0, 0, 0, 0]  # nothing was late
