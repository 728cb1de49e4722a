"""Benchmark the cold-start import cost of every Lambda handler module against ``import boto3``.

    python benchmarks/lambda_imports.py              # every module of the catalog, 7 runs
    python benchmarks/lambda_imports.py --runs 15 --limit 1.5 collections_worker

Each import runs in a fresh interpreter (as in a new Lambda container), timed inside that
interpreter around the ``import`` statement alone, so the interpreter's own start-up does
not dilute the ratio. One untimed run first writes the bytecode caches. The median of the
runs of each module is compared with the median of ``import boto3`` measured in the same
run. The target (issue 13): no handler module costs more than 1.5x ``import boto3``; the
script exits 1 when one does, or when a module cannot be imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from loc_entrypoints.lambdas.catalog import CATALOG

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "boto3"
LIMIT = 1.5
"""The most a handler module's import may cost, as a multiple of ``import boto3``."""
_TIMED = (
    "import time; started = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - started)"
)


def import_seconds(module: str) -> float:
    """Seconds one fresh interpreter takes to import `module`.

    Raises:
        RuntimeError: with the interpreter's error output, when the import fails.
    """
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", _TIMED.format(module=module)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{done.stderr.strip()}")
    return float(done.stdout.strip().splitlines()[-1])


def median_seconds(module: str, runs: int) -> float:
    """The median of `runs` timed imports of `module`, after one untimed warm-up."""
    import_seconds(module)
    return statistics.median(import_seconds(module) for _ in range(runs))


def _say(line: str, *, error: bool = False) -> None:
    (sys.stderr if error else sys.stdout).write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, and return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="handler modules (default: the catalog)")
    parser.add_argument("--runs", type=int, default=7, help="timed imports per module")
    parser.add_argument("--limit", type=float, default=LIMIT, help="largest ratio allowed")
    arguments = parser.parse_args(argv)
    chosen = arguments.modules or [function.module for function in CATALOG]
    baseline = median_seconds(BASELINE, arguments.runs)
    _say(f"{'module':<22} {'median ms':>10} {'x boto3':>8}")
    _say(f"{'import ' + BASELINE:<22} {baseline * 1000:>10.1f} {1:>8.2f}")
    failures = []
    for module in chosen:
        try:
            seconds = median_seconds(f"loc_entrypoints.lambdas.{module}", arguments.runs)
        except RuntimeError as exc:
            _say(f"{module:<22} {'error':>10}")
            _say(str(exc), error=True)
            failures.append(module)
            continue
        ratio = seconds / baseline
        verdict = "" if ratio <= arguments.limit else f"  > {arguments.limit}"
        _say(f"{module:<22} {seconds * 1000:>10.1f} {ratio:>8.2f}{verdict}")
        if ratio > arguments.limit:
            failures.append(module)
    if failures:
        _say(f"over budget or broken: {', '.join(failures)}", error=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
