"""Every command that writes files refuses a place it cannot write before doing any work."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from loc_entrypoints.cli import main


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A path under a regular file: no folder can be made there, whoever runs the test."""
    plain = tmp_path / "a-file"
    plain.write_text("not a folder")
    return plain / "below"


def run(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.output


def test_simulate_refuses_an_out_folder_it_cannot_make_before_running(blocked: Path) -> None:
    code, output = run("simulate", "--borrowers", "5", "--days", "3", "--out", str(blocked))
    assert code == 2
    assert f"cannot write to {blocked}" in output
    assert "Traceback" not in output
    assert "borrower-days in" not in output  # nothing ran


def test_simulate_makes_a_missing_out_folder(tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper"
    code, _ = run("simulate", "--borrowers", "5", "--days", "3", "--out", str(out))
    assert code == 0
    assert (out / "report.json").exists()


def test_openapi_refuses_a_file_it_cannot_write(blocked: Path, tmp_path: Path) -> None:
    code, output = run("openapi", "--out", str(blocked / "openapi.json"))
    assert code == 2
    assert f"cannot write to {blocked}" in output
    code, output = run("openapi", "--out", str(tmp_path))
    assert code == 2
    assert "is a directory" in output


@pytest.mark.parametrize("option", ["--report", "--checkpoint"])
def test_adopt_refuses_a_file_it_cannot_write_before_reading_the_table(
    blocked: Path, option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No table is configured at all: the path is refused first, so the scan never starts."""
    monkeypatch.delenv("LOC_TABLE_NAME", raising=False)
    code, output = run("adopt", option, str(blocked / "adopt.json"))
    assert code == 2
    assert f"cannot write to {blocked}" in output
    assert "Traceback" not in output


def test_a_command_refused_later_leaves_no_folder_behind(tmp_path: Path) -> None:
    """The check makes and removes what it made: a bad scenario file leaves no trace."""
    scenario = tmp_path / "bad.toml"
    scenario.write_text("favourite_colour = 'red'\n")
    out = tmp_path / "runs" / "first"
    code, output = run("simulate", "--scenario", str(scenario), "--out", str(out))
    assert code == 2
    assert "favourite_colour" in output
    assert not (tmp_path / "runs").exists()
