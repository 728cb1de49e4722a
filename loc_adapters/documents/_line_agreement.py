"""A line of credit's account-opening disclosure: the table of 12 CFR 1026.6(b)."""

from __future__ import annotations

from loc_adapters.documents._page import Creditor, Figure, Page, percent
from loc_core.disclosures import LineDisclosure
from loc_core.disclosures.figures import fee_text, spoken_date
from loc_core.money import format_cents

__all__ = ["render_line_agreement"]

APR_SIZE = 16.0
"""The APR's type size: the table's purchase APR is at least 16 point (12 CFR
1026.6(b)(2)(i)), and draws are this plan's only transactions, so their APR is it; bold
(1026.6(b)(1)(i)), it is also the most conspicuous disclosure (1026.5(a)(2)(i))."""
FEE_SIZE = 9.5
"""The fee amounts' type size: the body's, and bold, as 1026.6(b)(1)(i) wants every fee
amount of the table (annual, draw, late and returned-payment fees), "None" included."""
_WIDTHS = (1.0, 2.2)
_ALIGNS = ("LEFT", "LEFT")


def render_line_agreement(
    disclosure: LineDisclosure, *, borrower_name: str, creditor: Creditor
) -> bytes:
    """The account-opening disclosure of `disclosure` for `borrower_name`, as PDF bytes."""
    reference = f"Line of credit account-opening disclosure {disclosure.application_id}"
    page = Page(
        title=reference, dated=disclosure.disclosed_on, reference=reference, creditor=creditor
    )
    page.masthead(
        "Line of Credit Account Opening Disclosure",
        [
            ("Borrower", borrower_name),
            ("Application", disclosure.application_id),
            ("Date", spoken_date(disclosure.disclosed_on)),
            ("Credit limit", format_cents(disclosure.credit_limit)),
        ],
    )
    _interest(page, disclosure)
    _fees(page, disclosure)
    _terms(page, disclosure)
    return bytes(page.output())


def _interest(page: Page, disclosure: LineDisclosure) -> None:
    page.ln(2)
    # The daily periodic rate is a disclosure of 1026.6(b)(4), not one the table may hold
    # (1026.6(b)(1)(ii)): it is printed outside the table (`_terms`), not in the APR's cell.
    apr = Figure(
        percent(disclosure.annual_percentage_rate),
        size=APR_SIZE,
        note="This APR does not vary.",
    )
    page.grid(
        ("Interest Rates and Interest Charges", ""),
        [
            ("Annual Percentage Rate (APR) for Draws", apr),
            ("Paying Interest", disclosure.paying_interest),
            ("Minimum Interest Charge", disclosure.minimum_interest_terms),
        ],
        widths=_WIDTHS,
        aligns=_ALIGNS,
    )


def _fees(page: Page, disclosure: LineDisclosure) -> None:
    page.ln(2)
    page.grid(
        ("Fees", ""),
        [
            ("Annual Fee", _fee(fee_text(disclosure.annual_fee))),
            ("Transaction Fees\nDraws", _fee(fee_text(disclosure.draw_fee))),
            (
                "Penalty Fees\nLate Payment",
                _fee(disclosure.late_fee_figure, note=disclosure.late_fee_conditions),
            ),
            ("Returned Payment", _fee(fee_text(disclosure.returned_payment_fee))),
        ],
        widths=_WIDTHS,
        aligns=_ALIGNS,
    )


def _fee(amount: str, *, note: str = "") -> Figure:
    """A fee amount in bold (1026.6(b)(1)(i)), what it is charged for in body type under it."""
    return Figure(amount, size=FEE_SIZE, note=note)


def _terms(page: Page, disclosure: LineDisclosure) -> None:
    page.heading("Your credit limit")
    page.paragraph(
        f"{format_cents(disclosure.credit_limit)}. You may draw up to your available credit: "
        "the credit limit less the principal you owe and draws not yet sent."
    )
    page.heading("Minimum payment")
    page.paragraph(disclosure.minimum_payment_terms)
    page.heading("How we will calculate your balance")
    page.paragraph(disclosure.balance_computation_terms)
    # 1026.6(b)(4)(i)(A): the periodic rate and its corresponding APR, outside the table.
    page.paragraph(
        f"Daily periodic rate for draws: {percent(disclosure.daily_periodic_rate)} (the APR "
        "divided by 365), corresponding to an annual percentage rate of "
        f"{percent(disclosure.annual_percentage_rate)}."
    )
    page.heading("Billing rights")
    page.paragraph(disclosure.billing_rights)
