"""The page every borrower document is printed on: font, metadata, header, tables.

Determinism lives here: the creation date is the document's own date at 00:00 UTC, the
producer and creator are fixed, and the file id is fpdf2's hash of those bytes, so the
same figures and name give the same file in any process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import attrs
from fpdf import FPDF
from fpdf.enums import CellBordersLayout
from fpdf.fonts import FontFace

from loc_core.disclosures.figures import plain_percent
from loc_core.money import format_cents

__all__ = ["FONT", "Creditor", "Figure", "Page", "percent", "set_apart"]

FONT = "DejaVu"
"""DejaVu Sans, bundled (``fonts/``, Bitstream Vera licence): Latin, Greek, Cyrillic."""

_FONTS = Path(__file__).with_name("fonts")
_LENDER = "loc"


@attrs.frozen
class Creditor:
    """The lender every document names, and its address where a notice must give it.

    ``LOC_CREDITOR_NAME`` and ``LOC_CREDITOR_ADDRESS`` (an adverse action notice).
    """

    name: str = _LENDER
    address: str = ""


_MARGIN = 18.0
_BODY_SIZE = 9.5
_LINE = 5.0
_RULE_GREY = 160
_HEADING_FILL = 235
_SET_APART = "B"
"""A conspicuous figure's emphasis (`set_apart`): bold."""
_PADDING = (0.5, 1.5)
"""A table cell's padding: 0.5 mm above and below, 1.5 mm either side."""
_FIGURE_PADDING = (2.0, 1.5, 0.5)
"""A set-apart figure's: more above, so its larger type clears the rule."""


def set_apart(size: float) -> FontFace:
    """The face of a figure the borrower must not miss: bold, at `size` points.

    The one mechanism of conspicuous figures: the loan agreement's Truth-in-Lending box
    (`Page.figure`, 13 pt against 7.5-9.5 pt around it), the line's APR in its table
    (a `Figure` cell of `Page.grid`, 16 pt) and the fee amounts of that table (`Figure`
    cells at the body's 9.5 pt: bold, not larger).
    """
    return FontFace(family=FONT, emphasis=_SET_APART, size_pt=size)


@attrs.frozen
class Figure:
    """A `Page.grid` cell whose figure is set apart (`set_apart`), its note below it."""

    value: str
    size: float
    note: str = ""
    """Body-size text under the figure, in the same cell (no rule between them)."""


def percent(rate: Decimal) -> str:
    """A rate in percent as printed: ``Decimal('36.27')`` -> ``'36.27%'``, never ``'3E+1%'``."""
    return plain_percent(rate)


class Page(FPDF):
    """A US-letter page in DejaVu Sans with a "page n of m" footer and fixed metadata."""

    def __init__(self, *, title: str, dated: dt.date, reference: str, creditor: Creditor) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self._reference = reference
        self._lender = creditor.name
        self.set_margins(_MARGIN, 16.0, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN)
        self.add_font(FONT, "", _FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", _FONTS / "DejaVuSans-Bold.ttf")
        self.set_creation_date(dt.datetime.combine(dated, dt.time(), dt.UTC))
        self.set_producer(creditor.name)
        self.set_creator(creditor.name)
        self.set_author(creditor.name)
        self.set_title(title)
        self.set_lang("en-US")
        self.set_draw_color(_RULE_GREY)
        self.add_page()
        self.set_font(FONT, size=_BODY_SIZE)

    def footer(self) -> None:
        """The document's reference and its page number on every page."""
        self.set_y(-12)
        self.set_font(FONT, size=7.5)
        self.cell(0, 4, f"{self._reference} · page {self.page_no()} of {{nb}}", align="C")
        self.set_font(FONT, size=_BODY_SIZE)

    def masthead(self, title: str, facts: Sequence[tuple[str, str]]) -> None:
        """The lender and the document's title, then its facts (borrower, number, date)."""
        self.set_font(FONT, "B", 20)
        self.cell(30, 10, self._lender)
        self.set_font(FONT, "B", 13)
        self.cell(0, 10, title, align="R", new_x="LMARGIN", new_y="NEXT")
        self.line(self.l_margin, self.y, self.w - self.r_margin, self.y)
        self.ln(2)
        self.key_values(facts, key_width=34)
        self.ln(3)

    def heading(self, text: str) -> None:
        """A section title, moved to the next page when fewer than three lines are left."""
        if self.will_page_break(4 * _LINE):
            self.add_page()
        self.ln(2)
        self.set_font(FONT, "B", 11)
        self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=_BODY_SIZE)

    def paragraph(self, text: str, *, size: float = _BODY_SIZE, bold: bool = False) -> None:
        """Running text across the page, wrapped."""
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, text, align="LEFT", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=_BODY_SIZE)

    def key_values(
        self,
        rows: Sequence[tuple[str, str]],
        *,
        key_width: float,
        value_width: float | None = None,
        x: float | None = None,
    ) -> None:
        """Label and value rows; without `value_width` the value wraps to the margin."""
        left = self.l_margin if x is None else x
        for key, value in rows:
            self.set_x(left)
            self.set_font(FONT, "B", _BODY_SIZE)
            self.cell(key_width, _LINE, key)
            self.set_font(FONT, size=_BODY_SIZE)
            if value_width is None:
                self.multi_cell(0, _LINE, value, align="LEFT", new_x="LMARGIN", new_y="NEXT")
            else:
                self.cell(value_width, _LINE, value, align="R", new_x="LMARGIN", new_y="NEXT")

    def figure(self, width: float, height: float, value: str, *, size: float) -> None:
        """`value` centred in a cell, set apart (`set_apart`: bold, `size` points)."""
        self.set_font(FONT, _SET_APART, size)
        self.cell(width, height, value, align="C")

    def money_rows(
        self,
        rows: Sequence[tuple[str, int]],
        *,
        bold_last: bool,
        x: float | None = None,
        width: float | None = None,
    ) -> None:
        """Labelled amounts in a column (by default from the margin, 60% of the page wide).

        A bold last row (a total) sits on a rule.
        """
        x = self.l_margin if x is None else x
        width = self.content_width * 0.6 if width is None else width
        for index, (label, cents) in enumerate(rows):
            emphasis = "B" if bold_last and index == len(rows) - 1 else ""
            if emphasis:
                self.line(x, self.y, x + width, self.y)
            self.set_x(x)
            self.set_font(FONT, emphasis, _BODY_SIZE)
            self.cell(width * 0.62, _LINE + 0.6, label)
            self.cell(width * 0.38, _LINE + 0.6, format_cents(cents), align="R")
            self.ln()
        self.set_font(FONT, size=_BODY_SIZE)

    def grid(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str | Figure]],
        *,
        widths: Sequence[float],
        aligns: Sequence[str],
        share: float = 1.0,
    ) -> None:
        """A table `share` of the page wide, its heading row repeated on every page.

        A `Figure` cell prints its value set apart and its note under it in body type:
        two table rows with no rule between them, the row's other cells spanning both
        (so a row with a noted figure is never the table's last).
        """
        with self.table(
            width=self.content_width * share,
            align="LEFT",
            col_widths=tuple(widths),
            text_align=tuple(aligns),
            borders_layout="HORIZONTAL_LINES",
            headings_style=FontFace(emphasis="BOLD", fill_color=_HEADING_FILL),
            line_height=_LINE,
            padding=_PADDING,
        ) as table:
            table.row(headings)
            for cells in rows:
                noted = [cell for cell in cells if isinstance(cell, Figure) and cell.note]
                row = table.row()
                for cell in cells:
                    if isinstance(cell, Figure):
                        border = CellBordersLayout.TOP if cell.note else CellBordersLayout.INHERIT
                        face = set_apart(cell.size)
                        # Body-size figures (fee amounts) need no more room above the rule.
                        padding = _FIGURE_PADDING if cell.size > _BODY_SIZE else _PADDING
                        row.cell(cell.value, style=face, border=border, padding=padding)
                    else:
                        row.cell(cell, rowspan=2 if noted else 1)
                if noted:
                    under = table.row()
                    for figure in noted:
                        under.cell(figure.note, border=CellBordersLayout.BOTTOM)
        self.ln(1)

    @property
    def content_width(self) -> float:
        """The width between the margins."""
        return self.w - self.l_margin - self.r_margin
