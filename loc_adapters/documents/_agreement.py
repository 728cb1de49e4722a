"""The loan agreement: the Truth-in-Lending box, the schedule, itemization and terms."""

from __future__ import annotations

from loc_adapters.documents._page import FONT, Creditor, Page, percent
from loc_core.disclosures import LoanDisclosure
from loc_core.disclosures.figures import spoken_date
from loc_core.money import format_cents

__all__ = ["render_agreement"]

_BOX_HEIGHT = 31.0
_BOX_PAD = 1.8
_TERMS_SIZE = 8.0
"""The late-charge and prepayment terms, a little smaller so eight payments fit one page."""
_FIGURE_SIZE = 13.0
"""The box's figures, set apart: larger than any other disclosure on the page."""
_SIGNING_SPACE = 7.0
"""Room above the signature lines to sign in."""
_SIGNATURES_HEIGHT = 37.0
"""The signature block's heading, text and lines, kept together on one page."""

_BOX_COLUMNS = (
    ("ANNUAL PERCENTAGE RATE", "The cost of your credit as a yearly rate."),
    ("FINANCE CHARGE", "The dollar amount the credit will cost you."),
    ("Amount Financed", "The amount of credit provided to you or on your behalf."),
    (
        "Total of Payments",
        "The amount you will have paid after you have made all payments as scheduled.",
    ),
)
"""The four columns of 12 CFR 1026.18 (b)-(e) as the model form H-2 words them."""


def render_agreement(
    disclosure: LoanDisclosure, *, borrower_name: str, creditor: Creditor
) -> bytes:
    """The agreement of `disclosure` for `borrower_name`, as PDF bytes."""
    page = Page(
        title=f"Loan agreement {disclosure.loan_number}",
        dated=disclosure.disclosed_on,
        reference=f"Loan agreement {disclosure.loan_number}",
        creditor=creditor,
    )
    page.masthead(
        "Loan Agreement",
        [
            ("Borrower", borrower_name),
            ("Loan number", disclosure.loan_number),
            ("Date", spoken_date(disclosure.disclosed_on)),
        ],
    )
    _disclosure_box(page, disclosure)
    _schedule(page, disclosure)
    _itemization(page, disclosure)
    _terms(page, disclosure)
    _signatures(page, borrower_name)
    return bytes(page.output())


def _disclosure_box(page: Page, disclosure: LoanDisclosure) -> None:
    page.heading("Federal Truth-in-Lending Disclosures")
    if page.will_page_break(_BOX_HEIGHT):
        page.add_page()
    values = (
        percent(disclosure.annual_percentage_rate),
        format_cents(disclosure.finance_charge),
        format_cents(disclosure.amount_financed),
        format_cents(disclosure.total_of_payments),
    )
    width = page.content_width / len(_BOX_COLUMNS)
    top = page.y
    for index, ((title, meaning), value) in enumerate(zip(_BOX_COLUMNS, values, strict=True)):
        left = page.l_margin + index * width
        page.rect(left, top, width, _BOX_HEIGHT)
        page.set_xy(left + _BOX_PAD, top + _BOX_PAD)
        page.set_font(FONT, "B", 9)
        page.multi_cell(width - 2 * _BOX_PAD, 4.2, title, align="C")
        page.set_x(left + _BOX_PAD)
        page.set_font(FONT, "", 7.5)
        page.multi_cell(width - 2 * _BOX_PAD, 3.4, meaning, align="C")
        page.set_xy(left + _BOX_PAD, top + _BOX_HEIGHT - 10)
        page.figure(width - 2 * _BOX_PAD, 7, value, size=_FIGURE_SIZE)
    page.set_xy(page.l_margin, top + _BOX_HEIGHT + 1)
    page.paragraph(
        "Security: none. Filing fees: none. See the terms below for nonpayment, default, "
        "any required repayment in full before the scheduled date, and prepayment refunds "
        "and penalties.",
        size=7.5,
    )


def _schedule(page: Page, disclosure: LoanDisclosure) -> None:
    page.heading("Your payment schedule")
    page.grid(
        ("Payment", "Due date", "Amount"),
        [
            (str(row.number), spoken_date(row.due_date), format_cents(row.amount))
            for row in disclosure.payments
        ],
        widths=(1, 2, 1.2),
        aligns=("CENTER", "LEFT", "RIGHT"),
        share=0.6,
    )
    page.paragraph(f"Number of payments: {len(disclosure.payments)}")


def _itemization(page: Page, disclosure: LoanDisclosure) -> None:
    page.heading("Itemization of the amount financed")
    page.money_rows(
        [
            ("Amount given to you directly", disclosure.amount_financed),
            ("Amount paid to others on your behalf", 0),
            ("Amount financed", disclosure.amount_financed),
        ],
        bold_last=True,
    )
    page.paragraph(
        f"Prepaid finance charge: the origination fee of "
        f"{format_cents(disclosure.origination_fee)} is added to your payments, not taken "
        f"from the amount given to you."
    )


def _terms(page: Page, disclosure: LoanDisclosure) -> None:
    page.heading("Late charge and prepayment")
    page.paragraph(f"Late charge: {disclosure.late_charge_terms}", size=_TERMS_SIZE)
    page.paragraph(disclosure.prepayment_terms, size=_TERMS_SIZE)


def _signatures(page: Page, borrower_name: str) -> None:
    if page.will_page_break(_SIGNATURES_HEIGHT):
        page.add_page()
    page.heading("Signatures")
    page.paragraph(
        "By signing, you agree to the terms of this agreement and acknowledge receipt of a "
        "completed copy, including the disclosures above.",
        size=8,
    )
    page.ln(_SIGNING_SPACE)
    rule = page.y
    half = page.content_width / 2
    bottom = rule
    for column, signer in enumerate((f"Borrower: {borrower_name}", "Lender: loc")):
        left = page.l_margin + column * half
        page.line(left, rule, left + half - 12, rule)
        page.set_xy(left, rule + 1)
        page.multi_cell(half - 12, 4.5, f"{signer}\nDate:", align="LEFT")
        bottom = max(bottom, page.y)
    page.set_y(bottom)
