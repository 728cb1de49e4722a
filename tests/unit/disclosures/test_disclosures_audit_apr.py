"""An examiner's check of the disclosed APR: Appendix J solved again, independently.

The oracle below solves the general equation of 12 CFR 1026 Appendix J (b)(8) for one
advance with exact `Fraction` arithmetic, timing each payment in whole unit periods and a
fractional unit period (App. J (b)(5)(iv): days over the 14 days of a biweekly unit
period), and bisects on the periodic rate. The disclosed APR may differ from it only by
its rounding to two places (well within the 1/8 point of 1026.22(a)(2)).
"""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loc_core.disclosures import ScheduledPayment, annual_percentage_rate, loan_disclosure
from loc_core.errors import DomainError, InvalidAmount, InvalidTimestamp
from loc_core.installment import InstallmentProduct, LoanApplication, OriginationFee

UNIT_DAYS = 14
UNIT_PERIODS_A_YEAR = 26
PRODUCT = InstallmentProduct(min_installments=1, max_installments=26, default_installments=6)
"""Any count a product could allow, one payment to a year of them."""
EDGES = [
    dt.date(2024, 2, 29),
    dt.date(2028, 2, 15),  # its 1st due date is Feb 29
    dt.date(2026, 12, 31),
    dt.date(2026, 12, 11),  # its 1st due date is Christmas
    dt.date(2027, 12, 18),  # a Saturday; Christmas on Saturday is not observed
    dt.date(2026, 5, 11),  # its 1st due date is Memorial Day
    dt.date(2026, 1, 31),
    dt.date(2026, 4, 10),  # a Friday: every due date rolls when a Friday is a holiday
]


def true_apr_bounds(
    financed: int, advanced_on: dt.date, payments: list[ScheduledPayment]
) -> tuple[Fraction, Fraction]:
    """The exact APR in percent lies between the two bounds returned (App. J (b)(8))."""
    terms = []
    for payment in payments:
        whole, rest = divmod((payment.due_date - advanced_on).days, UNIT_DAYS)
        terms.append((whole, Fraction(rest, UNIT_DAYS), payment.amount))

    def worth(rate: Fraction) -> Fraction:
        return sum(
            (
                Fraction(amount) / ((1 + part * rate) * (1 + rate) ** whole)
                for whole, part, amount in terms
            ),
            Fraction(0),
        )

    low, high = Fraction(0), Fraction(1)
    while worth(high) > financed:
        low, high = high, 2 * high
    while high - low > Fraction(1, 10**12):
        middle = (low + high) / 2
        if worth(middle) > financed:
            low = middle
        else:
            high = middle
    return low * UNIT_PERIODS_A_YEAR * 100, high * UNIT_PERIODS_A_YEAR * 100


fees = st.one_of(
    st.integers(min_value=0, max_value=200_000).map(OriginationFee.fixed),
    st.decimals(min_value=0, max_value=100, places=2).map(OriginationFee.percentage),
)
days = st.one_of(st.sampled_from(EDGES), st.dates(dt.date(2024, 1, 1), dt.date(2032, 12, 31)))


@given(
    day=days,
    hour=st.integers(0, 23),
    amount=st.integers(min_value=26, max_value=1_000_000),
    fee=fees,
    count=st.integers(min_value=1, max_value=26),
)
def test_the_disclosed_apr_is_appendix_j_rounded_to_two_places(
    day: dt.date, hour: int, amount: int, fee: OriginationFee, count: int
) -> None:
    offer = LoanApplication.approve(
        product=PRODUCT,
        user_id="user-1",
        application_id="app-1",
        loan_number="FM-000001",
        loan_amount=amount,
        fee=fee,
        now=dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC),
        installment_count=count,
    )
    box = loan_disclosure(offer, PRODUCT)

    assert (
        box.finance_charge == box.total_of_payments - box.amount_financed == offer.origination_fee
    )
    assert box.total_of_payments == sum(p.amount for p in box.payments) == offer.total_amount
    low, high = true_apr_bounds(box.amount_financed, box.disclosed_on, list(box.payments))
    disclosed = Fraction(box.annual_percentage_rate)
    half_cent = Fraction(1, 200)
    assert low - half_cent <= disclosed <= high + half_cent


ADVANCED = dt.date(2026, 3, 2)


def paid(*amounts: object, first: dt.date | None = None) -> list[ScheduledPayment]:
    """Payments 14 days apart, the first 14 days after `ADVANCED` or on `first` (a datetime
    is a date to the type checker, so a hostile one passes)."""
    start = ADVANCED + dt.timedelta(days=14) if first is None else first
    return [
        ScheduledPayment(
            number=number,
            due_date=start + dt.timedelta(days=14 * (number - 1)),
            amount=amount,  # type: ignore[arg-type] # hostile amounts are the point
        )
        for number, amount in enumerate(amounts, start=1)
    ]


@pytest.mark.parametrize(
    ("financed", "payments", "error"),
    [
        pytest.param(30_000.0, paid(15_750, 15_750), InvalidAmount, id="float amount financed"),
        pytest.param(True, paid(1, 1), InvalidAmount, id="bool amount financed"),
        pytest.param(30_000, paid(15_750.0, 15_750), InvalidAmount, id="float payment"),
        pytest.param(30_000, paid(Decimal("15750.5"), 15_750), InvalidAmount, id="Decimal payment"),
        pytest.param(30_000, paid(-1_000, 32_500), InvalidAmount, id="negative payment"),
        pytest.param(30_000, paid(0, 31_500), InvalidAmount, id="zero payment"),
        pytest.param(
            30_000,
            paid(15_750, 15_750, first=dt.datetime(2026, 3, 16, tzinfo=dt.UTC)),
            InvalidTimestamp,
            id="due date as a datetime",
        ),
    ],
)
def test_an_apr_of_hostile_figures_is_refused_not_computed(
    financed: object, payments: list[ScheduledPayment], error: type[Exception]
) -> None:
    with pytest.raises(error):
        annual_percentage_rate(
            amount_financed=financed,  # type: ignore[arg-type] # hostile amounts are the point
            advanced_on=ADVANCED,
            payments=payments,
        )


def test_an_advance_dated_by_a_datetime_is_refused() -> None:
    with pytest.raises(InvalidTimestamp):
        annual_percentage_rate(
            amount_financed=30_000,
            advanced_on=dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC),
            payments=paid(15_750, 15_750),
        )


@pytest.mark.parametrize("unit_period_days", [366, 400])
def test_a_unit_period_longer_than_a_year_is_refused(unit_period_days: int) -> None:
    # 365 // 400 is 0 unit periods a year: $15.00 of finance charge would show as 0.00 %
    with pytest.raises(DomainError, match="unit_period_days"):
        annual_percentage_rate(
            amount_financed=30_000,
            advanced_on=ADVANCED,
            payments=paid(31_500, first=ADVANCED + dt.timedelta(days=400)),
            unit_period_days=unit_period_days,
        )
