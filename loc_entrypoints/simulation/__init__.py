"""Deterministic simulation of a whole book of borrowers over the real use cases.

`run_simulation(scenario)` builds an in-memory deployment, lives every day of the
scenario and returns the report; with `workers` or `cluster` it splits the book into
partitions of borrowers and runs them in parallel (`partition`), with the same result.
`loc simulate` is the command-line face of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from loc_entrypoints.simulation.engine import InvariantBroken, Simulation
from loc_entrypoints.simulation.partition import (
    PARTITION_BORROWERS,
    ClusterUnavailable,
    ClusterUnreachable,
    Partition,
    PartitionFailed,
    PartitionResult,
    merge,
    partitions,
    run_on_cluster,
    run_partition,
    run_partitions,
)
from loc_entrypoints.simulation.scenario import HARSH, PERFECT, Scenario
from loc_entrypoints.simulation.world import World

__all__ = [
    "HARSH",
    "PERFECT",
    "ClusterUnavailable",
    "ClusterUnreachable",
    "InvariantBroken",
    "PartitionFailed",
    "Scenario",
    "Simulation",
    "run_simulation",
]


def run_simulation(
    scenario: Scenario,
    *,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    partition_size: int = PARTITION_BORROWERS,
    documents: Callable[[World], object] | None = None,
) -> dict[str, Any]:
    """Run `scenario` and return its report, `timing` included.

    Args:
        scenario: the book and its behaviour.
        progress: hears how many borrower-days of the whole book are done.
        workers: run the book's partitions in this many local processes (None: the whole
            book in this process).
        cluster: run the partitions on this Dask scheduler (``local``: a local cluster of
            `workers` processes, all cores when None).
        partition_size: borrowers per partition; the report does not depend on it.
        documents: (``--documents N``: a `DocumentSample`) given the world after the
            report is made, outside the timing; a whole-book run in this process only.

    Raises:
        InvariantBroken: an invariant failed; the message names the borrower, day and
            invariant.
        PartitionFailed: a partition failed every retry (in this process: failed once).
        ClusterUnavailable: `cluster` without the ``cluster`` extra installed.
        ValueError: `documents` with `workers` or `cluster`: the worlds of a partitioned
            run stay in their processes.
    """
    if documents is not None and (workers is not None or cluster is not None):
        msg = "documents are rendered from a whole-book run in this process: no workers or cluster"
        raise ValueError(msg)
    started = time.perf_counter()
    world = None
    if cluster is not None:
        report = run_on_cluster(
            scenario, cluster, size=partition_size, workers=workers, progress=progress
        )
    elif workers is not None:
        report = run_partitions(scenario, workers=workers, size=partition_size, progress=progress)
    elif documents is not None:
        (whole,) = partitions(scenario.borrowers, scenario.borrowers)
        told = None if progress is None else (lambda day: progress(day * scenario.borrowers))
        result = _in_this_process(scenario, whole, told, keep_world=True)
        report, world = merge(scenario, [result]), result.world
    else:
        report = merge(scenario, _one_by_one(scenario, partition_size, progress))
    wall = time.perf_counter() - started
    report["timing"] = {
        "wall_seconds": round(wall, 3),
        "borrower_days_per_second": round(scenario.borrower_days / wall) if wall else 0,
    }
    if documents is not None and world is not None:
        documents(world)
    return report


def _one_by_one(
    scenario: Scenario, size: int, progress: Callable[[int], None] | None
) -> list[PartitionResult]:
    """The book's partitions run one after the other in this process.

    Borrowers never interact and every id and draw derives from the borrower, so this is
    the whole-book run's report; each partition's world is dropped when it ends, so time
    and memory grow with the book, not faster (a whole book in one world does not).
    """
    results: list[PartitionResult] = []
    done = 0
    for part in partitions(scenario.borrowers, size):
        borrowers = len(part.borrowers)
        told = (
            None
            if progress is None
            else (lambda day, base=done, n=borrowers: progress(base + day * n))
        )
        results.append(_in_this_process(scenario, part, told))
        done += borrowers * scenario.days
    return results


def _in_this_process(
    scenario: Scenario,
    part: Partition,
    progress: Callable[[int], None] | None,
    *,
    keep_world: bool = False,
) -> PartitionResult:
    """`run_partition` here; a failure other than a broken invariant names the partition.

    Not retried: in this process no worker can be lost, and the run is deterministic, so
    the same partition would fail the same way again.

    Raises:
        InvariantBroken: an invariant failed.
        PartitionFailed: anything else went wrong, with the partition's borrowers.
    """
    try:
        return run_partition(scenario, part, progress, keep_world=keep_world)
    except InvariantBroken:
        raise
    except Exception as exc:
        raise PartitionFailed(part, 1, exc) from exc
