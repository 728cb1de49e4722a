"""Render the sample agreement and statement, and page 1 of each as a PNG for the docs.

A docs-only tool: pypdfium2 rasterises the PDFs and is not a dependency of ``loc``
(install it next to the ``documents`` extra to run this). From the repository root:

    python docs/images/render_documents.py
"""

# ruff: noqa: INP001  # a script run by path from the docs folder, not a package

from __future__ import annotations

from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]  # docs-only tool; ships no type information

from loc_adapters.documents import PdfRenderer
from loc_adapters.documents.samples import (
    SAMPLE_BORROWER,
    sample_loan_disclosure,
    sample_statement_disclosure,
)

IMAGES = Path(__file__).parent
SCALE = 1.5
"""1.5 times 72 dpi: sharp enough to read, small enough to commit (under 250 KB each)."""


def first_page_png(pdf: bytes, target: Path) -> None:
    """Rasterise page 1 of `pdf` into `target`."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        document[0].render(scale=SCALE).to_pil().save(target, optimize=True)
    finally:
        document.close()


def main() -> None:
    """Write agreement.png and statement.png next to this script."""
    renderer = PdfRenderer()
    agreement = renderer.agreement(sample_loan_disclosure(), borrower_name=SAMPLE_BORROWER)
    statement = renderer.statement(sample_statement_disclosure(), borrower_name=SAMPLE_BORROWER)
    first_page_png(agreement, IMAGES / "agreement.png")
    first_page_png(statement, IMAGES / "statement.png")


if __name__ == "__main__":
    main()
