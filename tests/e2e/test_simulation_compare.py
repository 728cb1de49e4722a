"""`loc simulate --compare`: two policies on the same book, the same draws, side by side."""

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from loc_entrypoints.cli import main
from loc_entrypoints.simulation import Scenario, run_simulation
from loc_entrypoints.simulation.compare import Comparison, paired

BOOK = ["--borrowers", "120", "--days", "90", "--seed", "7"]


def _compare(tmp_path: Path, policy: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    other = tmp_path / "other.toml"
    other.write_text(policy)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["simulate", *BOOK, "--compare", str(other), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    comparison = json.loads((out / "comparison.json").read_text())
    return result.output, report, comparison


def test_a_scenario_compared_with_itself_shows_no_difference(tmp_path: Path) -> None:
    output, report, comparison = _compare(tmp_path, 'name = "same"\n')

    assert comparison["differences"] == {}
    assert comparison["base"]["ledger_digest"] == comparison["other"]["ledger_digest"]
    assert comparison["base"]["ledger_digest"] == report["ledger_digest"]
    assert output.count("no difference") == 2
    assert "note" not in output  # the file sets no book field
    assert (tmp_path / "out" / "portfolio.png").read_bytes().startswith(b"\x89PNG")


def test_a_higher_fee_changes_the_money_not_the_borrowers(tmp_path: Path) -> None:
    # The file's own book size is ignored: the compared policy runs on the base's book.
    output, report, comparison = _compare(
        tmp_path, 'name = "dearer"\norigination_fee_percent = "9"\nborrowers = 3\n'
    )
    compared = json.loads((tmp_path / "out" / "report-compared.json").read_text())

    assert "other.toml sets borrowers = 3; ignored" in " ".join(output.split())
    assert compared["borrowers"] == report["borrowers"] == 120
    assert compared["scenario"]["origination_fee_percent"] == "9"
    loans_before, loans_after = report["summary"]["installment"], compared["summary"]["installment"]
    # Same borrowers, same draws: they apply, are approved and borrow the same principal ...
    for figure in ("applications", "approvals", "originations", "principal_originated"):
        assert loans_after[figure] == loans_before[figure]
    # ... and owe and pay the dearer fee, which is exactly what the comparison reports.
    installment = comparison["differences"]["installment"]
    assert installment["collected"] > 0
    assert installment["collected"] == loans_after["collected"] - loans_before["collected"]
    assert "creditline" not in comparison["differences"]


def test_paired_takes_the_book_from_the_base_and_the_policy_from_the_other() -> None:
    base = Scenario(borrowers=50, days=30, seed=3)
    other = Scenario(name="harsh-ish", borrowers=9, days=400, seed=99, decline_probability=0.5)

    run = paired(base, other)

    assert (run.borrowers, run.days, run.start, run.seed) == (50, 30, base.start, 3)
    assert (run.name, run.decline_probability) == ("harsh-ish", 0.5)


def test_differences_are_other_minus_base_for_every_figure_either_has() -> None:
    base = run_simulation(Scenario(borrowers=40, days=40, seed=1))
    other = {**base, "summary": {**base["summary"], "installment": {"collected": 5}}}

    comparison = Comparison(base, other)

    expected = {
        figure: -value
        for figure, value in base["summary"]["installment"].items()
        if value and figure != "collected"
    }
    expected["collected"] = 5 - base["summary"]["installment"]["collected"]
    assert comparison.differences["installment"] == {k: v for k, v in expected.items() if v}
    assert "creditline" not in comparison.differences


def test_a_scenario_file_without_a_name_is_named_after_itself(tmp_path: Path) -> None:
    """So the table and the chart of a comparison tell the two files apart."""
    unnamed = tmp_path / "cheaper-fee.toml"
    unnamed.write_text('origination_fee_percent = "5"\n')
    named = tmp_path / "other.toml"
    named.write_text('name = "promo"\n')
    assert Scenario.load(unnamed).name == "cheaper-fee"
    assert Scenario.load(named).name == "promo"
