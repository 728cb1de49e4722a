"""The PDF libraries' logs hold no letter of a document, where logging was never configured.

fpdf2 warns naming each glyph its font lacks (a name in a script DejaVu Sans lacks, letter
by letter) and fontTools lists a document's glyphs at INFO. `configure_logging` guards
both; code that builds the bus (or a `PdfRenderer`) with its own logging, or none, is
guarded too: building the renderer installs the guards, once.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from loc_entrypoints.bootstrap import pdf_renderer

pytest.importorskip("fpdf", reason="the documents extra is not installed")

NAME = "山田 太郎"
PDF_LOGGERS = ("fpdf", "fpdf.output", "fontTools")


@pytest.fixture
def unconfigured() -> Iterator[io.StringIO]:
    """Logging as a process that never called `configure_logging` has it.

    The PDF libraries' loggers at their defaults with no filter, and the root writing
    everything from DEBUG in plain text (an application's own ``basicConfig``); the
    suite's configuration comes back after the test.
    """
    loggers = [logging.getLogger(name) for name in PDF_LOGGERS]
    root = logging.getLogger()
    saved = [(logger.level, list(logger.filters)) for logger in loggers]
    saved_root = (root.level, list(root.handlers))
    for logger in loggers:
        logger.setLevel(logging.NOTSET)
        logger.filters[:] = []
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    yield stream
    root.handlers[:] = saved_root[1]
    root.setLevel(saved_root[0])
    for logger, (level, filters) in zip(loggers, saved, strict=True):
        logger.setLevel(level)
        logger.filters[:] = filters


def test_the_bus_renderer_logs_no_letter_of_a_name_its_font_lacks(
    unconfigured: io.StringIO,
) -> None:
    from loc_adapters.documents.samples import sample_loan_disclosure  # noqa: PLC0415 - after the skip

    renderer = pdf_renderer()  # as the bootstrap builds the bus's renderer
    assert renderer is not None
    renderer.agreement(sample_loan_disclosure(), borrower_name=NAME)

    text = unconfigured.getvalue()
    assert not [letter for letter in "山田太郎" if letter in text], text
    assert "5c71" not in text.lower()  # nor its escape
    (warning,) = [line for line in text.splitlines() if "glyph" in line]
    assert "missing 4 glyphs" in warning  # operations still learn the document lacks some


def test_building_renderers_installs_the_glyph_filter_once(unconfigured: io.StringIO) -> None:
    del unconfigured
    pdf_renderer()
    pdf_renderer()

    filters = logging.getLogger("fpdf.output").filters
    assert [type(found).__name__ for found in filters] == ["_CountMissingGlyphs"]


def test_a_pdf_logger_set_quieter_stays_so(unconfigured: io.StringIO) -> None:
    del unconfigured
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    pdf_renderer()

    assert logging.getLogger("fontTools").level == logging.ERROR
    assert logging.getLogger("fpdf").level == logging.WARNING
