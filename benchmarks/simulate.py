"""Benchmark `loc simulate`: borrower-days per second, scaling, and peak memory.

    python benchmarks/simulate.py                      # 10,000 and 100,000 borrowers
    python benchmarks/simulate.py --borrowers 2000 --scale 10 --days 365
    python benchmarks/simulate.py --profile out/sim.prof --borrowers 1000

Each size runs in its own process, so the peak memory reported is that run's own. The
targets (issue 5): at least 100,000 borrower-days per second on one core for the default
scenario; 10x the borrowers in at most 11x the time; peak memory under 2 GiB at 100,000
borrowers.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import resource
import sys
import time
from pathlib import Path
from typing import Any

from loc_entrypoints.simulation import Scenario, run_simulation

TARGET_BORROWER_DAYS_PER_SECOND = 100_000
MEMORY_LIMIT_MIB = 2 * 1024
SCALING_SLACK = 1.1
"""10x the borrowers may take at most 11x the time."""


def measure(borrowers: int, days: int, seed: int, profile: str | None) -> dict[str, Any]:
    """Run one simulation and return its timing and the process's peak memory."""
    scenario = Scenario().resized(borrowers=borrowers, days=days, seed=seed)
    started = time.perf_counter()
    if profile:
        profiler = cProfile.Profile()
        report = profiler.runcall(run_simulation, scenario)
        profiler.dump_stats(profile)
    else:
        report = run_simulation(scenario)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "borrowers": borrowers,
        "days": days,
        "borrower_days": scenario.borrower_days,
        "wall_seconds": round(wall, 2),
        "borrower_days_per_second": round(scenario.borrower_days / wall),
        "peak_memory_mib": round(peak_kib / 1024),
        "ledger_digest": report["ledger_digest"],
    }


def _in_child(queue: Any, *args: Any) -> None:  # noqa: ANN401 - multiprocessing plumbing
    queue.put(measure(*args))


def run_isolated(borrowers: int, days: int, seed: int, profile: str | None) -> dict[str, Any]:
    """`measure` in a fresh process, so peak memory is this run's alone."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue, borrowers, days, seed, profile))
    child.start()
    result: dict[str, Any] = queue.get()
    child.join()
    return result


def main() -> int:
    """Measure the base size and `--scale` times it; print a JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--borrowers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=10, help="0 to skip the larger run")
    parser.add_argument("--profile", help="write a cProfile of the base run here")
    args = parser.parse_args()
    base = run_isolated(args.borrowers, args.days, args.seed, args.profile)
    results = {"base": base}
    if args.scale:
        scaled = run_isolated(args.borrowers * args.scale, args.days, args.seed, None)
        results["scaled"] = scaled
        results["time_ratio"] = round(scaled["wall_seconds"] / base["wall_seconds"], 2)
    results["targets"] = {
        "borrower_days_per_second>=100000": base["borrower_days_per_second"]
        >= TARGET_BORROWER_DAYS_PER_SECOND,
        "time_ratio<=scale*1.1": results.get("time_ratio", 0) <= args.scale * SCALING_SLACK,
        "peak_memory<2GiB_at_scaled": results.get("scaled", base)["peak_memory_mib"]
        < MEMORY_LIMIT_MIB,
    }
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if args.profile:
        Path(args.profile).parent.mkdir(parents=True, exist_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
