"""Borrower documents as PDF (loan agreements, line statements): `PdfRenderer`.

Needs the ``documents`` extra (fpdf2). The text is set in the bundled DejaVu Sans
(``fonts/``, with its licence), which covers Latin, Greek and Cyrillic names; CJK
scripts are beyond it. `samples` holds fixed disclosures for docs and tests.
"""

from loc_adapters.documents._page import Creditor
from loc_adapters.documents._renderer import PdfRenderer

__all__ = ["Creditor", "PdfRenderer"]
