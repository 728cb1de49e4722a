"""Deterministic simulation of a whole book of borrowers over the real use cases.

`run_simulation(scenario)` builds an in-memory deployment, lives every day of the
scenario and returns the report; `loc simulate` is the command-line face of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from loc_entrypoints.simulation.engine import InvariantBroken, Simulation
from loc_entrypoints.simulation.scenario import HARSH, PERFECT, Scenario
from loc_entrypoints.simulation.world import World

__all__ = ["HARSH", "PERFECT", "InvariantBroken", "Scenario", "Simulation", "run_simulation"]


def run_simulation(
    scenario: Scenario,
    *,
    progress: Callable[[int], None] | None = None,
    documents: Callable[[World], object] | None = None,
) -> dict[str, Any]:
    """Run `scenario` and return its report, `timing` included.

    `documents` (``--documents N``: a `DocumentSample`) is given the world after the
    report is made, outside the timing.

    Raises:
        InvariantBroken: an invariant failed; the message names the borrower, day and
            invariant.
    """
    started = time.perf_counter()
    simulation = Simulation.build(scenario)
    tally = simulation.run(progress)
    ledger = simulation.world.database.ledger
    report = tally.report(
        digest=ledger.digest(),
        journal_entries=len(ledger),
        audit_records=simulation.world.database.audit_count,
    )
    wall = time.perf_counter() - started
    report["timing"] = {
        "wall_seconds": round(wall, 3),
        "borrower_days_per_second": round(scenario.borrower_days / wall) if wall else 0,
    }
    if documents is not None:
        documents(simulation.world)
    return report
