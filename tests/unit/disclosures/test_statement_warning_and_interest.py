"""The minimum payment warning's form (1026.7(b)(12)) and the interest box's arithmetic."""

import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from fakes import billed_disclosure
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from loc_adapters.documents import PdfRenderer
from loc_core.creditline import CreditLine, CreditLineProduct
from loc_core.disclosures import StatementDisclosure
from loc_core.disclosures.figures import repayment_period
from loc_core.disclosures.statements import CREDIT_COUNSELING_PHONE
from loc_core.payments import Rail

PRODUCT = CreditLineProduct()
CYCLES = {28: dt.date(2026, 2, 1), 29: dt.date(2028, 2, 1), 30: dt.date(2026, 4, 1)}
"""A first day of a cycle of each length; any other month gives 31 days."""


def billed(amount: int, apr: Decimal, days: int = 31, percent: int = 2) -> StatementDisclosure:
    opened = CYCLES.get(days, dt.date(2026, 1, 1))
    line = CreditLine(
        line_id="M",
        user_id="u",
        application_id="a",
        opened_on=opened,
        credit_limit=10_000_000,
        apr=apr,
        minimum_payment_percent=Decimal(percent),
        cycle_day=1,
    )
    line.request_draw(draw_id="d1", amount=amount, on=opened)
    line.disburse_draw(draw_id="d1", rail=Rail.RTP, on=opened)
    figures = billed_disclosure(line, line.next_close_date, PRODUCT)
    assert figures.days_in_cycle == days
    return figures


def half_up(value: Fraction) -> int:
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(1, ROUND_HALF_UP))


def test_two_years_or_more_are_said_in_years_rounded_to_the_nearest() -> None:
    assert [repayment_period(m) for m in (1, 23, 24, 29, 30, 254)] == [
        "1 month",
        "23 months",
        "2 years",
        "2 years",
        "3 years",
        "21 years",
    ]


aprs = st.integers(0, 3600).map(lambda n: Decimal(n) / 100)


@given(amount=st.integers(10_000, 5_000_000), apr=aprs)
def test_the_36_month_figures_match_an_independent_amortization(amount: int, apr: Decimal) -> None:
    figures = billed(amount, apr)
    months, total = figures.minimum_payment_months, figures.minimum_payment_total
    plan = figures.repayment_in_36_months
    if months is not None and months <= 36:
        assert plan is None
        return
    assert plan is not None
    owed = figures.new_balance
    rate = Fraction(apr) / 1200
    exact = Fraction(owed, 36) if rate == 0 else owed * rate / (1 - (1 + rate) ** -36)
    payment = half_up(exact / 100) * 100
    assert plan.monthly_payment == payment
    assert plan.total == 36 * payment
    if total is None:
        assert plan.savings is None
    else:
        assert plan.savings == half_up(Fraction(total, 100)) * 100 - 36 * payment
    warning = figures.minimum_payment_warning
    assert f"If you pay ${payment // 100:,}.00 each month" in warning
    assert warning.endswith(
        "If you would like information about credit counseling services, call "
        f"{CREDIT_COUNSELING_PHONE}."
    )


def test_the_warning_on_the_page_gives_years_the_36_month_plan_and_counseling() -> None:
    figures = billed(100_000, Decimal("29.99"))
    assert figures.minimum_payment_months == 406
    pdf = PdfRenderer().statement(figures, borrower_name="B")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "pay off the balance shown on this statement in about 34 years" in text
    # $1,025.47 owed at r = 0.2999 / 12: 1,025.47 r / (1 - (1 + r)^-36) = 43.53 -> $44;
    # 36 x $44 = $1,584; the minimum-only $2,249.73 -> $2,250, so $666 saved.
    assert (
        "If you pay $44.00 each month, you will pay off the balance in about 3 years and end "
        "up paying an estimated total of $1,584.00 (savings of $666.00)."
    ) in text
    assert f"call {CREDIT_COUNSELING_PHONE}." in text
    assert figures.sum_of_daily_balances == 3_100_000
    assert "cycle ($31,000.00) times the APR divided by 365" in text
    assert "daily periodic rate times the average daily balance" not in text


@given(amount=st.integers(1, 9_000_000), apr=aprs, days=st.sampled_from([28, 29, 30, 31]))
def test_the_interest_box_numbers_give_the_charge(amount: int, apr: Decimal, days: int) -> None:
    figures = billed(amount, apr, days)
    assert figures.days_in_cycle == days
    charged = half_up(Fraction(figures.sum_of_daily_balances) * Fraction(apr) / 36_500)
    assert charged == figures.interest_charged
    assert half_up(Fraction(figures.sum_of_daily_balances, days)) == (
        figures.balance_subject_to_interest
    )
    assert f"({'$'}{figures.sum_of_daily_balances // 100:,}." in figures.interest_explanation
