"""Process crashes between a rail's answer and the booking commit, recovered in the simulation.

A run raises `InvariantBroken` at the first failed daily check (ledger equal to balances,
no double charge, no CRITICAL alert such as money moved but not booked), so a crashing
run that finishes kept every invariant; these tests assert what it could still get
wrong: crashes that were never injected, money booked twice or not at all, intents left
open, a run that is not reproducible.
"""

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner

from loc_core.intents import IntentStatus, intent_id_of
from loc_core.ports import UnitOfWork
from loc_entrypoints.cli import main
from loc_entrypoints.simulation import HARSH, Scenario, Simulation, run_simulation
from loc_entrypoints.simulation.partition import book_digest

CRASHING = Scenario(crash_probability=0.05).resized(borrowers=300, days=85)
"""Shorter than INTENT_RETENTION (90 days), so every crashed movement's intent is still kept."""


@pytest.fixture(scope="module")
def crashed() -> tuple[Simulation, dict[str, Any]]:
    simulation = Simulation.build(CRASHING)
    ledger = simulation.world.database.ledger
    tally = simulation.run()
    digest = book_digest(ledger, simulation.book.products)
    report = tally.report(digest=digest, journal_entries=0, audit_records=0)
    return simulation, report


def test_every_injected_crash_is_booked_once_and_nothing_is_left_open(
    crashed: tuple[Simulation, dict[str, Any]],
) -> None:
    simulation, report = crashed
    recovery = report["recovery"]
    assert recovery["crashes_injected"] > 0
    # A crashed movement is booked by the recovery job, or earlier by a retry of its command
    # (a collection message delivered twice in one run of the worker); never both, never
    # neither.
    assert recovery["booked"] + recovery["resumed_by_retry"] == recovery["crashes_injected"]
    assert recovery["still_open"] == 0
    assert recovery["failed"] == recovery["abandoned"] == 0
    crashes = simulation.world.crashes
    assert len(crashes.crashed) == recovery["crashes_injected"]
    with simulation.world.bus.get(UnitOfWork) as uow:
        for key, (request, answer) in crashes.crashed.items():
            intent = uow.intents.get(request.user_id, intent_id_of(key) or "")
            assert intent.status is IntentStatus.BOOKED, key
            assert intent.confirmation_id == answer.confirmation_id


def test_a_crashing_run_is_deterministic(crashed: tuple[Simulation, dict[str, Any]]) -> None:
    _, report = crashed
    again = run_simulation(CRASHING)
    assert again["ledger_digest"] == report["ledger_digest"]
    assert again["recovery"] == report["recovery"]


def test_every_money_moving_command_and_job_can_die_and_be_recovered() -> None:
    report = run_simulation(
        # Seed 1: a book where a prepayment's process dies too (seed 0's prepayments
        # all survive since ids, and so the rail's draws, derive from the borrower).
        attrs.evolve(HARSH, crash_probability=0.3).resized(borrowers=300, days=150, seed=1)
    )
    died = set(report["recovery"]["crashes_by_command"])
    assert died >= {
        "apply_loan",  # accept and disburse
        "pay_installment",
        "prepay",
        "first_draw",
        "draw",
        "pay_line_full",
        "pay_line_minimum",
        "collect_installment",  # autopay, the collections worker
        "collect_due_minimums",  # the due job: its run ends
    }
    assert report["recovery"]["still_open"] == 0


def test_a_scenario_file_turns_crashes_on_and_the_cli_prints_the_recovery(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "crashes.toml"
    scenario.write_text("crash_probability = 0.2\n")
    out = tmp_path / "out"
    arguments = ["simulate", "--scenario", str(scenario), "--borrowers", "60", "--days", "45"]
    result = CliRunner().invoke(main, [*arguments, "--out", str(out)])
    assert result.exit_code == 0, result.output
    recovery = json.loads((out / "report.json").read_text())["recovery"]
    assert recovery["crashes_injected"] > 0
    printed = " ".join(result.output.split())
    assert "Crash recovery: crash_probability 0.2" in printed
    assert f"process crashes injected │ {recovery['crashes_injected']:,} │" in printed
