"""`PdfRenderer`: the `DocumentRenderer` port on fpdf2."""

from __future__ import annotations

import attrs

from loc_adapters.documents._agreement import render_agreement
from loc_adapters.documents._line_agreement import render_line_agreement
from loc_adapters.documents._notice import render_adverse_action_notice
from loc_adapters.documents._page import Creditor
from loc_adapters.documents._statement import render_statement
from loc_adapters.logs import install_glyph_filter
from loc_core.applications import AdverseActionNotice
from loc_core.disclosures import LineDisclosure, LoanDisclosure, StatementDisclosure

__all__ = ["PdfRenderer"]


@attrs.frozen
class PdfRenderer:
    """Borrower documents as PDF with fpdf2: the same figures and name, the same bytes.

    Stateless; every call builds its own document, so one renderer serves every thread.
    Building one installs the PDF libraries' log guards (`install_glyph_filter`, once per
    process): fpdf2 would otherwise name each glyph its font lacks, a borrower's name
    letter by letter, wherever logging was not set up by `configure_logging`.
    """

    creditor: Creditor = attrs.field(factory=Creditor)
    """The lender the documents name (``LOC_CREDITOR_NAME``, ``LOC_CREDITOR_ADDRESS``)."""

    def __attrs_post_init__(self) -> None:
        install_glyph_filter()

    def agreement(self, disclosure: LoanDisclosure, *, borrower_name: str) -> bytes:
        """The loan agreement: header, Truth-in-Lending box, schedule, terms, signatures."""
        return render_agreement(disclosure, borrower_name=borrower_name, creditor=self.creditor)

    def statement(self, disclosure: StatementDisclosure, *, borrower_name: str) -> bytes:
        """The periodic statement: summary, payment information, transactions, interest."""
        return render_statement(disclosure, borrower_name=borrower_name, creditor=self.creditor)

    def line_agreement(self, disclosure: LineDisclosure, *, borrower_name: str) -> bytes:
        """A line's account-opening disclosure: rates, fees, limit, minimum, balance method."""
        return render_line_agreement(
            disclosure, borrower_name=borrower_name, creditor=self.creditor
        )

    def adverse_action_notice(self, notice: AdverseActionNotice, *, borrower_name: str) -> bytes:
        """A rejected application's notice: action, creditor, reasons, FCRA part, ECOA notice."""
        return render_adverse_action_notice(
            notice, borrower_name=borrower_name, creditor=self.creditor
        )
