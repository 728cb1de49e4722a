"""`loc simulate --documents N`: a deterministic sample of borrowers' documents as files."""

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from loc_adapters.memory import TextRenderer
from loc_entrypoints.bootstrap import pdf_renderer
from loc_entrypoints.cli import main
from loc_entrypoints.simulation import Scenario, run_simulation
from loc_entrypoints.simulation.documents import DocumentSample

TINY = Scenario().resized(borrowers=40, days=60, seed=5)


def without_timing(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "timing"}


def files(folder: Path) -> list[Path]:
    return sorted(path.relative_to(folder) for path in folder.rglob("*.pdf"))


def test_the_sample_writes_each_chosen_borrowers_documents_and_leaves_the_report(
    tmp_path: Path,
) -> None:
    sample = DocumentSample(tmp_path / "documents", 3, TINY.seed, TextRenderer())
    report = run_simulation(TINY, documents=sample)
    assert without_timing(report) == without_timing(run_simulation(TINY))
    written = files(tmp_path / "documents")
    assert written == sorted(path.relative_to(tmp_path / "documents") for path in sample.written)
    assert len({path.parts[0] for path in written}) == 3
    assert any(path.name.startswith("agreement-") for path in written)
    for path in sample.written:
        kind = "agreement" if path.name.startswith("agreement-") else "statement"
        assert path.read_bytes().startswith(f"loc text rendering\n{kind}\n".encode())
    again = DocumentSample(tmp_path / "again", 3, TINY.seed, TextRenderer())
    run_simulation(TINY, documents=again)
    assert files(tmp_path / "again") == written  # the same seed, the same borrowers


def test_loc_simulate_documents_writes_pdfs_or_says_why_not(tmp_path: Path) -> None:
    out = tmp_path / "out"
    arguments = ["--borrowers", "40", "--days", "60", "--seed", "5", "--out", str(out)]
    result = CliRunner().invoke(main, ["simulate", *arguments, "--documents", "3"])
    assert result.exit_code == 0, result.output
    if pdf_renderer() is None:  # no fpdf2, or PdfRenderer not on this branch yet
        assert "documents skipped: install the documents extra" in result.output
        assert not (out / "documents").exists()
        return
    written = files(out / "documents")
    assert len({path.parts[0] for path in written}) == 3
    assert f"wrote {len(written)} documents" in result.output
    assert all((out / "documents" / path).read_bytes().startswith(b"%PDF-") for path in written)
