"""The line's account-opening disclosure as PDF: every figure readable, the same bytes again."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from pypdf import PdfReader

from loc_adapters.documents import PdfRenderer
from loc_adapters.documents.samples import SAMPLE_BORROWER, sample_line_disclosure
from loc_core.corrections import CorrectionPolicy
from loc_core.creditline import CreditLineProduct
from loc_core.disclosures import LineDisclosure

RENDERER = PdfRenderer()
ROOT = Path(__file__).parents[3]


def render(disclosure: LineDisclosure | None = None, name: str = SAMPLE_BORROWER) -> bytes:
    return RENDERER.line_agreement(disclosure or sample_line_disclosure(), borrower_name=name)


def flowing(pdf: bytes) -> str:
    """Every page's text with line breaks and runs of spaces as single spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def test_every_figure_of_the_disclosure_is_printed() -> None:
    disclosure = sample_line_disclosure()
    text = flowing(render(disclosure))
    assert text.startswith("loc Line of Credit Account Opening Disclosure")
    assert f"Borrower {SAMPLE_BORROWER}" in text
    assert "Date February 1, 2025" in text
    assert "Credit limit $1,500.00" in text
    assert "Annual Percentage Rate (APR) for Draws 29.99%" in text
    assert "Daily periodic rate for draws: 0.082164% (the APR divided by 365)" in text
    assert "You have no grace period on draws" in text
    assert "at least 21 days after each statement date" in text
    assert "Minimum Interest Charge None" in text
    assert "Annual Fee None" in text
    assert "Transaction Fees Draws None" in text
    assert "Penalty Fees Late Payment Up to $5.00 Charged on the day after the due date" in text
    assert "once per billing cycle, and never more than the minimum payment due" in text
    assert "Returned Payment None" in text
    assert "plus 3% of the principal owed at the close" in text
    assert 'a method called "average daily balance (including new draws)"' in text
    assert "times the APR divided by 365, rounded to the cent once per cycle" in text
    assert "rights to dispute transactions" in text


def test_the_product_figures_are_the_ones_printed() -> None:
    product = CreditLineProduct(
        late_fee_cents=1_234,
        statement_to_due_days=24,
        corrections=CorrectionPolicy(late_fee_when_missed_by_return=False),
    )
    text = flowing(render(sample_line_disclosure(product)))
    assert "Up to $12.34 Charged on the day after the due date" in text
    assert "at least 24 days after each statement date" in text
    assert "only because its payment was returned is not charged the fee" in text


def test_a_line_without_a_late_fee_prints_none() -> None:
    text = flowing(render(sample_line_disclosure(CreditLineProduct(late_fee_cents=0))))
    assert "Penalty Fees Late Payment None" in text
    assert "$5.00" not in text


@attrs.frozen
class Run:
    """A run of text as printed: its characters, type size in points, and weight."""

    text: str
    size: float
    bold: bool


def runs(pdf: bytes) -> list[Run]:
    """Page 1's runs of text, in the order they are drawn."""
    found: list[Run] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            bold = "Bold" in str(font.get("/BaseFont", "")) if font else False
            found.append(Run(text.strip(), size * abs(tm[3]) * abs(cm[3]), bold))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return found


def test_the_apr_is_set_apart_at_16_point_bold_above_every_other_disclosure() -> None:
    """12 CFR 1026.6(b)(2)(i): 16 point; (b)(1)(i): bold; 1026.5(a)(2)(i): most conspicuous."""
    printed = runs(render())
    [apr] = [run for run in printed if run.text == "29.99%"]
    assert apr.size >= 16
    assert apr.bold
    lender = Run("loc", 20.0, bold=True)  # the creditor's name may stand out more
    assert max(run.size for run in printed if run not in (apr, lender)) < apr.size
    [note] = [run for run in printed if run.text == "This APR does not vary."]
    assert (note.size, note.bold) == (9.5, False)  # the body type, under the figure


FEE_ROWS = ("Annual Fee", "Draws", "Late Payment", "Returned Payment")
"""The label run each fee amount follows (1026.6(b)(2)(ii), (iv), (viii), (ix))."""


def amounts(printed: list[Run]) -> dict[str, Run]:
    """Each fee row's amount: the run after its label."""
    texts = [run.text for run in printed]
    return {label: printed[texts.index(label) + 1] for label in FEE_ROWS}


@pytest.mark.parametrize(
    ("fees", "printed"),
    [
        pytest.param((0, 0, 500, 0), ("None", "None", "Up to $5.00", "None"), id="the-sample"),
        pytest.param(
            (2_500, 300, 1_234, 0),
            ("$25.00", "$3.00", "Up to $12.34", "None"),
            id="every-fee-charged",
        ),
        pytest.param((0, 0, 0, 0), ("None", "None", "None", "None"), id="no-late-fee"),
    ],
)
def test_every_fee_amount_of_the_table_is_bold(
    fees: tuple[int, int, int, int], printed: tuple[str, ...]
) -> None:
    """12 CFR 1026.6(b)(1)(i): the fee amounts of the table in bold, at the body's size."""
    annual, draw, late, returned = fees
    disclosure = attrs.evolve(
        sample_line_disclosure(),
        annual_fee=annual,
        draw_fee=draw,
        late_fee=late,
        returned_payment_fee=returned,
    )
    pdf = render(disclosure)
    found = amounts(runs(pdf))
    assert tuple(run.text for run in found.values()) == printed
    assert all(run.bold and run.size == 9.5 for run in found.values()), found
    # What the late fee is charged for stays in body type, after its bold amount.
    if late:
        assert " Charged on the day after the due date when the minimum payment" in flowing(pdf)


def test_the_minimum_interest_charge_is_not_a_fee_and_not_bold() -> None:
    """(b)(2)(iii) is not among the amounts 1026.6(b)(1)(i) sets in bold."""
    printed = runs(render())
    texts = [run.text for run in printed]
    assert printed[texts.index("Minimum Interest Charge") + 1] == Run("None", 9.5, bold=False)


def test_the_daily_periodic_rate_is_printed_below_the_table_not_in_the_apr_cell() -> None:
    """1026.6(b)(1)(ii): the table holds (b)(2)'s disclosures; the periodic rate of
    (b)(4)(i)(A), with its corresponding APR, is printed outside it."""
    pdf = render()
    texts = [run.text for run in runs(pdf)]
    apr = texts.index("29.99%")
    assert texts[apr + 1 : apr + 3] == ["This APR does not vary.", "Paying Interest"]
    [rate] = [index for index, text in enumerate(texts) if "0.082164%" in text]
    assert rate > texts.index("Returned Payment") + 1  # after the table's last row
    assert texts[rate].startswith("Daily periodic rate for draws: 0.082164%")
    assert "corresponding to an annual percentage rate of 29.99%." in flowing(pdf)
    assert PdfReader(io.BytesIO(pdf)).get_num_pages() == 1  # it still fits one page


def test_metadata_is_fixed_by_the_document() -> None:
    info = PdfReader(io.BytesIO(render())).metadata
    assert info is not None
    assert info.creation_date == dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    assert info.producer == "loc"


LINE_AGREEMENT_SHA256 = "01b8432ec020b2f78e0e96fb8e5b9b563256f5e2dfb8da951933aec5909bc968"
"""The sample's digest with fpdf2 2.8.9, pinned like the loan agreement's and statement's."""


def test_another_process_renders_the_same_bytes() -> None:
    script = (
        "import hashlib;"
        "from loc_adapters.documents import PdfRenderer;"
        "from loc_adapters.documents.samples import *;"
        "print(hashlib.sha256(PdfRenderer().line_agreement(sample_line_disclosure(),"
        " borrower_name=SAMPLE_BORROWER)).hexdigest())"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "54321"}
    done = subprocess.run(  # noqa: S603  # this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    assert render() == render()
    assert done.stdout.split() == [hashlib.sha256(render()).hexdigest()]
    assert done.stdout.split() == [LINE_AGREEMENT_SHA256]
