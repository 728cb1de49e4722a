"""The periodic statement of a line of credit, in the sections of 12 CFR 1026.7."""

from __future__ import annotations

from loc_adapters.documents._page import FONT, Creditor, Page, percent
from loc_core.disclosures import StatementDisclosure
from loc_core.disclosures.figures import short_date, spoken_date
from loc_core.money import format_cents

__all__ = ["render_statement"]

_GUTTER = 8.0
_BOX_PAD = 2.0


def render_statement(
    disclosure: StatementDisclosure, *, borrower_name: str, creditor: Creditor
) -> bytes:
    """The statement of `disclosure` for `borrower_name`, as PDF bytes."""
    reference = f"Statement {disclosure.line_id} {disclosure.statement_date.isoformat()}"
    page = Page(
        title=reference, dated=disclosure.statement_date, reference=reference, creditor=creditor
    )
    cycle = (
        f"{spoken_date(disclosure.cycle_start)} to {spoken_date(disclosure.cycle_end)}"
        f" ({disclosure.days_in_cycle} days)"
    )
    page.masthead(
        "Line of Credit Statement",
        [
            ("Borrower", borrower_name),
            ("Line", disclosure.line_id),
            ("Statement date", spoken_date(disclosure.statement_date)),
            ("Billing cycle", cycle),
        ],
    )
    _summary_and_payment(page, disclosure)
    _transactions(page, disclosure)
    _fees_and_interest(page, disclosure)
    _interest_calculation(page, disclosure)
    return bytes(page.output())


def _summary_and_payment(page: Page, disclosure: StatementDisclosure) -> None:
    """The account summary beside the payment information box, as 1026.7(b) groups them."""
    column = (page.content_width - _GUTTER) / 2
    top = page.y
    page.heading("Account summary")
    page.money_rows(
        [
            ("Previous balance", disclosure.previous_balance),
            ("Payments", -disclosure.payments),
            ("Draws", disclosure.draws),
            ("Returned payments", disclosure.reversals),
            ("Adjustments", disclosure.adjustments),
            ("Fees charged", disclosure.fees_charged),
            ("Interest charged", disclosure.interest_charged),
            ("New balance", disclosure.new_balance),
        ],
        x=page.l_margin,
        width=column,
        bold_last=True,
    )
    page.ln(2)
    page.money_rows(
        [
            ("Credit limit", disclosure.credit_limit),
            ("Available credit", disclosure.available_credit),
        ],
        x=page.l_margin,
        width=column,
        bold_last=False,
    )
    summary_bottom = page.y
    payment_bottom = _payment_box(page, disclosure, x=page.l_margin + column + _GUTTER, top=top)
    page.set_xy(page.l_margin, max(summary_bottom, payment_bottom) + 2)


def _payment_box(page: Page, disclosure: StatementDisclosure, *, x: float, top: float) -> float:
    """The payment information box of 1026.7(b)(11) and (12); where it ends on the page."""
    width = page.content_width - (x - page.l_margin)
    inner = width - 2 * _BOX_PAD
    page.set_xy(x + _BOX_PAD, top + _BOX_PAD)
    page.set_font(FONT, "B", 11)
    page.cell(inner, 7, "Payment information", new_x="LEFT", new_y="NEXT")
    credit = [("Credit balance owed to you", disclosure.credit_balance)]
    page.money_rows(
        [
            ("New balance", disclosure.new_balance),
            *(credit if disclosure.credit_balance else []),
            ("Past due amount", disclosure.past_due_amount),
            ("Minimum payment due", disclosure.minimum_payment),
        ],
        x=x + _BOX_PAD,
        width=inner,
        bold_last=True,
    )
    page.set_x(x + _BOX_PAD)
    page.set_font(FONT, "B", 9.5)
    page.cell(inner * 0.62, 6, "Payment due date")
    page.cell(inner * 0.38, 6, spoken_date(disclosure.due_date), align="R", new_x="LEFT")
    page.ln(8)
    late, minimum = _warnings(disclosure)
    for text in (_credit_balance_notice(disclosure), late, minimum):
        if not text:
            continue
        page.set_x(x + _BOX_PAD)
        page.set_font(FONT, "", 7.5)
        page.multi_cell(inner, 3.4, text, align="LEFT", new_x="LEFT", new_y="NEXT")
        page.ln(1.5)
    bottom = page.y + _BOX_PAD
    page.rect(x, top, width, bottom - top)
    return bottom


def _credit_balance_notice(disclosure: StatementDisclosure) -> str:
    """What a credit balance is and what becomes of it; "" without one."""
    if not disclosure.credit_balance:
        return ""
    owed = disclosure.new_balance + disclosure.credit_balance
    minimum = (
        f" The minimum payment is figured on the {format_cents(owed)} you owe." if owed else ""
    )
    return (
        f"Credit balance: we owe you {format_cents(disclosure.credit_balance)}, money we "
        "received beyond what you owed; the new balance subtracts it. It pays your next "
        "draws, interest and fees first; we refund what is left to you, at once if you "
        f"ask.{minimum}"
    )


def _warnings(disclosure: StatementDisclosure) -> tuple[str, str]:
    """The late payment and minimum payment warnings of 1026.7(b)(11) and (b)(12).

    Worded by the core (`StatementDisclosure.late_payment_warning` and
    `minimum_payment_warning`); the minimum payment warning is empty when nothing is owed.
    """
    return (
        f"Late Payment Warning: {disclosure.late_payment_warning}",
        disclosure.minimum_payment_warning,
    )


def _transactions(page: Page, disclosure: StatementDisclosure) -> None:
    page.heading("Transactions")
    if not disclosure.transactions:
        page.paragraph("No transactions this period.")
        return
    page.grid(
        ("Date", "Reference", "Description", "Amount"),
        [
            (
                short_date(row.on),
                row.reference,
                row.description,
                format_cents(row.amount),
            )
            for row in disclosure.transactions
        ],
        widths=(0.95, 2.8, 1.8, 0.95),
        aligns=("LEFT", "LEFT", "LEFT", "RIGHT"),
    )


def _fees_and_interest(page: Page, disclosure: StatementDisclosure) -> None:
    page.heading("Fees and interest charged")
    year = disclosure.cycle_end.year  # the cycle's last day's: Statement.totals_year
    page.money_rows(
        [
            ("Total fees charged this period", disclosure.fees_charged),
            ("Total interest charged this period", disclosure.interest_charged),
            (f"Total fees charged in {year}", disclosure.fees_year_to_date),
            (f"Total interest charged in {year}", disclosure.interest_year_to_date),
        ],
        bold_last=False,
    )


def _interest_calculation(page: Page, disclosure: StatementDisclosure) -> None:
    page.heading("Interest charge calculation")
    page.paragraph(disclosure.interest_explanation, size=7.5)
    page.ln(1)
    page.grid(
        (
            "Annual percentage rate (APR)",
            "Daily periodic rate",
            "Balance subject to interest rate",
            "Days in billing cycle",
            "Interest charge",
        ),
        [
            (
                percent(disclosure.annual_percentage_rate),
                percent(disclosure.daily_periodic_rate),
                format_cents(disclosure.balance_subject_to_interest),
                str(disclosure.days_in_cycle),
                format_cents(disclosure.interest_charged),
            )
        ],
        widths=(1, 1, 1, 1, 1),
        aligns=("RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
    )
