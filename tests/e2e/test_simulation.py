"""`loc simulate` end to end: plausible figures, determinism, a broken invariant, the CLI.

A run raises `InvariantBroken` at the first failed check, so a finished run kept every
invariant: the tests assert what a run could get wrong and still finish.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loc_entrypoints.cli import main
from loc_entrypoints.simulation import (
    HARSH,
    PERFECT,
    InvariantBroken,
    Scenario,
    Simulation,
    run_simulation,
)


def small(scenario: Scenario, seed: int | None = None) -> Scenario:
    return scenario.resized(borrowers=300, days=120, seed=seed)


def without_timing(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "timing"}


@pytest.fixture(scope="module")
def default_run() -> dict[str, Any]:
    return run_simulation(small(Scenario()))


def test_a_default_book_shows_the_usual_events(default_run: dict[str, Any]) -> None:
    loans, lines = default_run["summary"]["installment"], default_run["summary"]["creditline"]
    assert default_run["borrower_days"] == 36_000
    assert loans["originations"] > 50
    assert lines["originations"] > 20
    assert loans["payoffs"] > 20
    assert loans["returns"] + lines["returns"] > 0
    assert loans["late_fees"] > 0
    assert lines["interest"] > 0
    # Money is conserved: what went out is owed or came back (or was written off).
    for product in (loans, lines):
        assert (
            0
            < product["collected"]
            < product["disbursed"] + product["late_fee_amount"] + product.get("interest", 0)
        )
        assert product["ending_receivables"] > 0
    assert len(default_run["daily"]) == 120


def test_a_harsh_book_defaults_and_a_perfect_one_never_does() -> None:
    harsh = run_simulation(small(HARSH))
    perfect = run_simulation(small(PERFECT))
    harsh_loans = harsh["summary"]["installment"]
    assert harsh_loans["defaults"] > 0
    assert harsh_loans["credit_losses"] > 0
    assert harsh_loans["returns"] + harsh_loans["chargebacks"] > 0
    for product in perfect["summary"].values():
        assert product.get("defaults", 0) == 0
        assert product.get("late_fees", 0) == 0
        assert product.get("returns", 0) == product.get("chargebacks", 0) == 0
        assert product.get("credit_losses", 0) == 0
    assert perfect["summary"]["installment"]["payoffs"] > 0


def test_the_same_scenario_and_seed_give_the_same_report(default_run: dict[str, Any]) -> None:
    again = run_simulation(small(Scenario()))
    assert without_timing(again) == without_timing(default_run)
    other = run_simulation(small(Scenario(), seed=1))
    assert other["ledger_digest"] != default_run["ledger_digest"]


def test_a_broken_invariant_stops_the_run_naming_borrower_day_and_invariant() -> None:
    simulation = Simulation.build(Scenario().resized(borrowers=50, days=40))
    corrupted: list[tuple[str, str, str]] = []

    def corrupt_a_loan_after_day_20(day: int) -> None:
        if day != 20:
            return
        loan_id, (_, user_id) = next(
            (key, owner)
            for key, owner in simulation.book.products.items()
            if owner[0] == "installment"
        )
        key = ("loan", user_id, loan_id)
        loan = simulation.world.database.read(key)
        loan.installments[-1].outstanding_balance += 1  # stored state that contradicts itself
        simulation.world.database.write(key, loan)
        corrupted.append(key)

    with pytest.raises(InvariantBroken) as broken:
        simulation.run(corrupt_a_loan_after_day_20)
    assert broken.value.user_id == corrupted[0][1]
    # Caught by the daily check, or earlier by a use case that refused the loan's state.
    assert broken.value.invariant in {"outstanding = total - applications", "stored state verifies"}
    assert "outstanding_balance" in broken.value.detail
    assert broken.value.day == simulation.scenario.start + dt.timedelta(days=20)
    assert f"borrower {corrupted[0][1]}" in str(broken.value)


def test_loc_simulate_writes_the_report_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["simulate", "--borrowers", "60", "--days", "45", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Portfolio summary" in result.output
    report = json.loads((out / "report.json").read_text())
    printed = "".join(result.output.split())  # the console wraps long lines
    assert f"ledgerdigest{report['ledger_digest'][:16]}" in printed
    assert (report["borrowers"], report["days"], report["seed"]) == (60, 45, 3)
    assert set(report["timing"]) == {"wall_seconds", "borrower_days_per_second"}
    assert (out / "portfolio.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_scenario_file_sets_parameters_and_the_options_win(tmp_path: Path) -> None:
    scenario = tmp_path / "tight.toml"
    scenario.write_text('name = "tight"\nborrowers = 500\nline_share = 0.0\nline_apr = "19.99"\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--scenario",
            str(scenario),
            "--borrowers",
            "40",
            "--days",
            "20",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert (report["scenario"]["name"], report["borrowers"], report["scenario"]["line_apr"]) == (
        "tight",
        40,
        "19.99",
    )
    assert report["summary"]["creditline"].get("applications", 0) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("borrowers = 10\nfavourite_colour = 'red'\n", "unknown scenario keys favourite_colour"),
        ("line_apr = 29.99\n", "write rates as strings"),
        ("decline_probability = 1.5\n", "decline_probability must be a probability"),
    ],
)
def test_a_bad_scenario_file_is_refused_with_a_clear_message(
    tmp_path: Path, content: str, message: str
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(content)
    result = CliRunner().invoke(
        main, ["simulate", "--scenario", str(scenario), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "o").exists()
