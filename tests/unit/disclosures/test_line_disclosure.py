"""A line offer's account-opening disclosure (12 CFR 1026.6(b)): figures from the product.

Every figure is checked against what the line itself does with the same terms: the APR
against the interest billing charges on a balance held a year, the late fee against the
product's, the rows the line charges nothing for against "None".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.applications import AdverseAction
from loc_core.corrections import CorrectionPolicy
from loc_core.creditline import CreditLineApplication, CreditLineProduct
from loc_core.creditline._bookkeeping import interest_for
from loc_core.disclosures import LineDisclosure, line_disclosure
from loc_core.disclosures.figures import fee_text
from loc_core.errors import ApplicationNotApproved
from loc_core.money import Rounding, percent_of

APPROVED_AT = dt.datetime(2026, 3, 5, 14, tzinfo=dt.UTC)


def offer(
    product: CreditLineProduct,
    *,
    apr: Decimal = Decimal("29.99"),
    limit: int = 100_000,
    percent: Decimal = Decimal(3),
) -> CreditLineApplication:
    return CreditLineApplication.approved(
        application_id="app-7",
        user_id="user-7",
        created_at=APPROVED_AT,
        credit_limit=limit,
        apr=apr,
        minimum_payment_percent=percent,
        product=product,
    )


def test_the_default_line_discloses_its_terms() -> None:
    product = CreditLineProduct()
    box = line_disclosure(offer(product), product)
    assert box.disclosed_on == dt.date(2026, 3, 5)
    assert box.credit_limit == 100_000
    assert box.annual_percentage_rate == Decimal("29.99")
    assert box.daily_periodic_rate == Decimal("0.082164")
    assert box.minimum_payment_percent == Decimal(3)
    assert box.late_fee == 500
    assert box.late_fee_days_after_due == 1
    assert (box.annual_fee, box.draw_fee, box.returned_payment_fee) == (0, 0, 0)
    assert box.minimum_interest_terms == "None"
    assert box.balance_computation_method == "average daily balance (including new draws)"
    assert box.late_fee_terms.startswith("Up to $5.00, charged on the day after the due date")
    assert "returned is charged the fee too" in box.late_fee_terms
    assert "no grace period" in box.paying_interest
    assert "at least 21 days after each statement date" in box.paying_interest
    assert "plus 3% of the principal owed at the close" in box.minimum_payment_terms


def test_a_product_that_waives_the_fee_for_a_returned_payment_says_so() -> None:
    product = CreditLineProduct(corrections=CorrectionPolicy(late_fee_when_missed_by_return=False))
    terms = line_disclosure(offer(product), product).late_fee_terms
    assert "only because its payment was returned is not charged the fee" in terms


def test_a_rejected_application_has_no_offer_to_disclose() -> None:
    product = CreditLineProduct()
    rejected = CreditLineApplication.rejected(
        application_id="app-8",
        user_id="user-7",
        created_at=APPROVED_AT,
        adverse_actions=(AdverseAction("THIN_FILE", "not enough credit history"),),
        product=product,
    )
    with pytest.raises(ApplicationNotApproved):
        line_disclosure(rejected, product)


def test_an_abandoned_offer_has_no_offer_to_disclose() -> None:
    product = CreditLineProduct()
    application = offer(product)
    application.abandon(now=APPROVED_AT + product.application_ttl)
    with pytest.raises(ApplicationNotApproved):
        line_disclosure(application, product)


# --- against the product's configuration --------------------------------------------

products = st.builds(
    lambda apr_max, fee, due_days, by_return: CreditLineProduct(
        apr_max=apr_max,
        late_fee_cents=fee,
        statement_to_due_days=due_days,
        upcoming_notice_days=1,
        corrections=CorrectionPolicy(late_fee_when_missed_by_return=by_return),
    ),
    apr_max=st.decimals(min_value=0, max_value=100, places=2),
    fee=st.integers(min_value=0, max_value=10_000),
    due_days=st.integers(min_value=1, max_value=24),
    by_return=st.booleans(),
)


@st.composite
def offers(draw: st.DrawFn) -> tuple[CreditLineProduct, CreditLineApplication]:
    product = draw(products)
    apr = draw(st.decimals(min_value=0, max_value=product.apr_max, places=2))
    limit = draw(st.integers(min_value=1, max_value=10_000_000))
    percent = draw(st.decimals(min_value=1, max_value=5, places=2))
    return product, offer(product, apr=apr, limit=limit, percent=percent)


@settings(max_examples=150, deadline=None)
@given(offers(), st.integers(min_value=1, max_value=10_000_000))
def test_the_disclosed_apr_is_what_a_year_of_a_balance_is_charged(
    drawn: tuple[CreditLineProduct, CreditLineApplication], balance: int
) -> None:
    product, application = drawn
    box = line_disclosure(application, product)
    # A balance owed every day of a 365-day year: billing's cent-days x APR / 365 ...
    charged = interest_for(balance * 365, application.apr or Decimal(0), product)
    # ... is the disclosed APR of that balance, to the cent.
    assert charged == percent_of(balance, box.annual_percentage_rate, Rounding.HALF_UP)
    assert box.annual_percentage_rate == application.apr
    assert abs(box.daily_periodic_rate * 365 - box.annual_percentage_rate) <= Decimal("0.0002")
    assert box.credit_limit == application.credit_limit
    assert box.minimum_payment_percent == application.minimum_payment_percent
    assert box.late_fee == product.late_fee_cents
    assert box.statement_to_due_days == product.statement_to_due_days
    assert f"at least {product.statement_to_due_days} days" in box.paying_interest
    assert box.late_fee_when_missed_by_return is product.corrections.late_fee_when_missed_by_return


@settings(max_examples=50, deadline=None)
@given(offers())
def test_a_product_without_fees_discloses_none(
    drawn: tuple[CreditLineProduct, CreditLineApplication],
) -> None:
    product, application = drawn
    free = CreditLineProduct(apr_max=product.apr_max, late_fee_cents=0)
    box = line_disclosure(application, free)
    assert box.late_fee == 0
    assert box.late_fee_terms == "None"
    rows = (box.annual_fee, box.draw_fee, box.returned_payment_fee, box.late_fee)
    assert [fee_text(fee) for fee in rows] == ["None"] * 4
    assert box.minimum_interest_terms == "None"


@settings(max_examples=50, deadline=None)
@given(
    st.decimals(min_value=0, max_value=36, places=6),
)
def test_an_apr_with_more_places_is_disclosed_within_the_tolerance(apr: Decimal) -> None:
    product = CreditLineProduct()
    box = line_disclosure(offer(product, apr=apr), product)
    assert box.annual_percentage_rate == box.annual_percentage_rate.quantize(Decimal("0.01"))
    assert abs(box.annual_percentage_rate - apr) <= Decimal("0.005")  # 1026.22(a): 1/8 point


def test_figures_are_frozen() -> None:
    product = CreditLineProduct()
    box = line_disclosure(offer(product), product)
    assert isinstance(box, LineDisclosure)
    with pytest.raises(AttributeError):
        box.late_fee = 0  # type: ignore[misc]  # frozen: the assignment must fail


@pytest.mark.parametrize(
    ("fee", "figure"),
    [
        pytest.param(500, "Up to $5.00", id="the-default-fee"),
        pytest.param(0, "None", id="no-fee"),
    ],
)
def test_the_late_fee_row_splits_into_its_bold_amount_and_its_conditions(
    fee: int, figure: str
) -> None:
    """The table prints `late_fee_figure` in bold (12 CFR 1026.6(b)(1)(i)), the rest under it."""
    product = CreditLineProduct(late_fee_cents=fee)
    box = line_disclosure(offer(product), product)
    assert box.late_fee_figure == figure
    if fee:
        assert box.late_fee_conditions.startswith("Charged on the day after the due date")
        assert box.late_fee_terms == f"{figure}, charged{box.late_fee_conditions[7:]}"
    else:
        assert (box.late_fee_conditions, box.late_fee_terms) == ("", "None")
