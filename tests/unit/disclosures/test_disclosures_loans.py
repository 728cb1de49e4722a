"""The Truth-in-Lending figures of an installment offer and its Appendix J APR."""

import datetime as dt
from decimal import Decimal

import pytest
from fakes import loan_offer
from hypothesis import given
from hypothesis import strategies as st

from loc_core.applications import AdverseAction
from loc_core.disclosures import (
    ScheduledPayment,
    annual_percentage_rate,
    loan_disclosure,
)
from loc_core.errors import ApplicationNotApproved, DomainError
from loc_core.installment import InstallmentProduct, LoanApplication, OriginationFee
from loc_core.testing.installment import approved_applications

ADVANCED = dt.date(2026, 3, 2)
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
TOLERANCE = Decimal("0.01")
"""Hand-worked rates are asserted within 0.01 percentage point."""


def biweekly(amounts: list[int], *, first_after_days: int = 14) -> list[ScheduledPayment]:
    """Payments every 14 days, the first `first_after_days` after the advance."""
    return [
        ScheduledPayment(
            number=number,
            due_date=ADVANCED + dt.timedelta(days=first_after_days + 14 * (number - 1)),
            amount=amount,
        )
        for number, amount in enumerate(amounts, start=1)
    ]


# Each case solves App. J (b)(8) for one advance A and payments P_k, t_k unit periods out:
#     A = sum_k P_k / ((1 + f * i) * (1 + i) ** q_k)
# With f = 0 and equal payments P the sum is P * a(n, i), a(n, i) = (1 - (1 + i)**-n) / i,
# so a(n, i) = A / P. The i shown solves it (checked with a float bisection of the same
# sum, independent of the library's Decimal code); the APR is 26 * i in percent.
APR_CASES = [
    pytest.param(
        # No fee: $300.00 repaid by 6 x $50.00. Total = A, so i = 0 exactly.
        30_000,
        biweekly([5_000] * 6),
        Decimal("0.00"),
        id="no fee",
    ),
    pytest.param(
        # Fixed $30.00 fee on $600.00: 6 x $105.00. a(6, i) = 60000 / 10500 = 5.714286
        # -> i = 0.0141207339; 26 x i = 0.367139 -> 36.71 %.
        60_000,
        biweekly([10_500] * 6),
        Decimal("36.71"),
        id="fixed fee, 6 installments",
    ),
    pytest.param(
        # 10 % fee on $500.00 ($50.00): 4 x $137.50. a(4, i) = 50000 / 13750 = 3.636364
        # -> i = 0.0392449604; 26 x i = 1.020369 -> 102.04 %.
        50_000,
        biweekly([13_750] * 4),
        Decimal("102.04"),
        id="percentage fee, 4 installments",
    ),
    pytest.param(
        # Fixed $40.00 fee on $400.00: 8 x $55.00. a(8, i) = 40000 / 5500 = 7.272727
        # -> i = 0.0216799930; 26 x i = 0.563680 -> 56.37 %.
        40_000,
        biweekly([5_500] * 8),
        Decimal("56.37"),
        id="fixed fee, 8 installments",
    ),
    pytest.param(
        # Odd cents: $123.45 with a $7.77 fee, total $131.22 split 32.81, 32.81, 32.80,
        # 32.80. 12345 = 3281/(1+i) + 3281/(1+i)^2 + 3280/(1+i)^3 + 3280/(1+i)^4
        # -> i = 0.0248722972; 26 x i = 0.646680 -> 64.67 %.
        12_345,
        biweekly([3_281, 3_281, 3_280, 3_280]),
        Decimal("64.67"),
        id="odd cents",
    ),
    pytest.param(
        # Odd first period: the $600.00 / 6 x $105.00 offer with its first payment 20 days
        # out: 20 / 14 = 1 unit period + f = 6/14 = 3/7, and every later payment one more
        # whole period. 60000 = sum_k 10500 / ((1 + 3i/7)(1 + i)^k), k = 1..6
        # -> i = 0.0125503069; 26 x i = 0.326308 -> 32.63 % (below 36.71: same money, longer).
        60_000,
        biweekly([10_500] * 6, first_after_days=20),
        Decimal("32.63"),
        id="odd first period",
    ),
]


@pytest.mark.parametrize(("amount_financed", "payments", "expected"), APR_CASES)
def test_the_apr_matches_the_rate_worked_by_hand(
    amount_financed: int, payments: list[ScheduledPayment], expected: Decimal
) -> None:
    apr = annual_percentage_rate(
        amount_financed=amount_financed, advanced_on=ADVANCED, payments=payments
    )
    assert abs(apr - expected) <= TOLERANCE
    assert apr.as_tuple().exponent == -2


def test_a_weekly_unit_period_counts_52_a_year() -> None:
    # $100.00 repaid by one $101.00 payment 7 days later: i = 0.01, APR = 52 x 1 % = 52 %.
    payment = ScheduledPayment(number=1, due_date=ADVANCED + dt.timedelta(days=7), amount=10_100)
    apr = annual_percentage_rate(
        amount_financed=10_000, advanced_on=ADVANCED, payments=[payment], unit_period_days=7
    )
    assert apr == Decimal("52.00")


@pytest.mark.parametrize(
    ("amount_financed", "payments", "problem"),
    [
        (0, biweekly([100]), "amount financed must be positive"),
        (10_000, [], "at least one payment"),
        (10_000, biweekly([9_999]), "repay less than"),
        (10_000, biweekly([10_100], first_after_days=0), "not after the advance"),
    ],
)
def test_an_apr_that_cannot_exist_is_refused(
    amount_financed: int, payments: list[ScheduledPayment], problem: str
) -> None:
    with pytest.raises(DomainError, match=problem):
        annual_percentage_rate(
            amount_financed=amount_financed, advanced_on=ADVANCED, payments=payments
        )


# --- the loan disclosure ------------------------------------------------------------


def test_an_offer_discloses_its_own_figures() -> None:
    product = InstallmentProduct()
    offer = loan_offer(NOW)  # $300.00, $15.00 fixed fee, 6 biweekly installments
    disclosure = loan_disclosure(offer, product)
    assert (disclosure.loan_number, disclosure.disclosed_on) == ("FM-000001", NOW.date())
    assert (disclosure.loan_amount, disclosure.origination_fee) == (30_000, 1_500)
    assert disclosure.amount_financed == offer.amount_disbursed == 30_000
    assert disclosure.total_of_payments == 31_500
    assert disclosure.finance_charge == 1_500
    assert [(p.number, p.due_date, p.amount) for p in disclosure.payments] == [
        (number, item.due_date, item.amount)
        for number, item in enumerate(offer.proposed_schedule, start=1)
    ]
    assert [p.amount for p in disclosure.payments] == [5_250] * 6
    # Made Monday 2026-03-02; the sixth due date, Monday 2026-05-25, is Memorial Day and
    # rolls to the 26th: 85 days = 6 unit periods + 1/14. The other five are 1..5 whole
    # periods. 30000 = sum_{k=1..5} 5250 / (1 + i)^k + 5250 / ((1 + i/14)(1 + i)^6)
    # -> i = 0.0140733613; 26 x i = 0.365907 -> 36.59 % (36.71 % without the holiday).
    assert abs(disclosure.annual_percentage_rate - Decimal("36.59")) <= TOLERANCE
    assert (disclosure.grace_days, disclosure.late_fee_fixed) == (5, 500)
    assert (disclosure.late_fee_percent, disclosure.late_fee_cap_percent) == (
        Decimal(5),
        Decimal(25),
    )
    assert disclosure.late_charge_terms == (
        "If any part of a payment is still unpaid 5 days after its due date, you will be "
        "charged $5.00 or 5% of the payment, whichever is less; all late charges together "
        "stay at or below 25% of the loan amount."
    )


def test_an_offer_without_a_fee_has_a_zero_apr() -> None:
    disclosure = loan_disclosure(loan_offer(NOW, fee=OriginationFee.fixed(0)), InstallmentProduct())
    assert disclosure.annual_percentage_rate == Decimal("0.00")
    assert disclosure.finance_charge == 0


def test_a_rejected_application_has_nothing_to_disclose() -> None:
    rejected = LoanApplication.reject(
        user_id="user-1",
        application_id="app-9",
        adverse_actions=[AdverseAction("R01", "income too low")],
        now=NOW,
    )
    with pytest.raises(ApplicationNotApproved) as raised:
        loan_disclosure(rejected, InstallmentProduct())
    assert (raised.value.entity, raised.value.entity_id, raised.value.user_id) == (
        "loan_application",
        "app-9",
        "user-1",
    )


# --- properties ---------------------------------------------------------------------


def _apr_of(amount: int, fee: int, count: int) -> Decimal:
    total = amount + fee
    base, extra = divmod(total, count)
    return annual_percentage_rate(
        amount_financed=amount,
        advanced_on=ADVANCED,
        payments=biweekly([base + 1 if k < extra else base for k in range(count)]),
    )


@given(st.integers(100, 500_000), st.integers(1, 8))
def test_no_fee_means_a_zero_apr(amount: int, count: int) -> None:
    assert _apr_of(amount, 0, count) == 0


@given(st.integers(1_000, 200_000), st.integers(0, 5_000), st.integers(1, 5_000), st.integers(1, 8))
def test_a_higher_fee_never_lowers_the_apr(amount: int, fee: int, more: int, count: int) -> None:
    assert _apr_of(amount, fee + more, count) >= _apr_of(amount, fee, count)


@given(st.integers(1_000, 200_000), st.integers(1, 5_000), st.integers(1, 7))
def test_the_same_fee_over_more_installments_never_raises_the_apr(
    amount: int, fee: int, count: int
) -> None:
    assert _apr_of(amount, fee, count + 1) <= _apr_of(amount, fee, count)


@given(approved_applications())
def test_the_disclosed_totals_add_up(offer: LoanApplication) -> None:
    disclosure = loan_disclosure(offer, InstallmentProduct())
    assert disclosure.total_of_payments == sum(p.amount for p in disclosure.payments)
    assert disclosure.total_of_payments == offer.total_amount
    assert disclosure.finance_charge == (disclosure.total_of_payments - disclosure.amount_financed)
    assert disclosure.finance_charge == offer.origination_fee
    assert [p.number for p in disclosure.payments] == list(
        range(1, len(offer.proposed_schedule) + 1)
    )
    assert (disclosure.annual_percentage_rate == 0) == (offer.origination_fee == 0)
