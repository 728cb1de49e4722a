"""Partitioned runs: the same report however the book is split, where it runs, or retried.

A small book (60 borrowers x 60 days, partitions of 10) runs whole, in 1, 2 and 3 local
processes and on a Dask local cluster; every report is the same apart from `timing`.
"""

import gc
import multiprocessing
import os
import pickle
import signal
import socket
import sys
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from loc_entrypoints.cli import main
from loc_entrypoints.simulation import (
    ClusterUnavailable,
    ClusterUnreachable,
    InvariantBroken,
    PartitionFailed,
    Scenario,
    Simulation,
    run_simulation,
)
from loc_entrypoints.simulation import partition as partition_module
from loc_entrypoints.simulation.partition import (
    Partition,
    PartitionResult,
    cluster_address,
    gather,
    merge,
    partitions,
    run_partition,
)

BOOK = Scenario(crash_probability=0.05).resized(borrowers=60, days=60)
SIZE = 10


def without_timing(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "timing"}


@pytest.fixture(scope="module")
def whole() -> dict[str, Any]:
    return without_timing(run_simulation(BOOK))


def test_partitions_cover_the_book_in_fixed_ranges() -> None:
    parts = partitions(25, 10)
    assert [(p.number, p.first, p.last) for p in parts] == [(0, 1, 10), (1, 11, 20), (2, 21, 25)]


def test_any_split_in_this_process_gives_the_whole_book_report(whole: dict[str, Any]) -> None:
    for size in (7, 60):
        merged = merge(BOOK, [run_partition(BOOK, part) for part in partitions(60, size)])
        assert merged == whole
    assert whole["recovery"]["crashes_injected"] > 0  # crashes are drawn per borrower too


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_workers_give_the_same_report_and_progress_reaches_the_whole_book(
    whole: dict[str, Any], workers: int
) -> None:
    heard: list[int] = []
    report = run_simulation(BOOK, workers=workers, partition_size=SIZE, progress=heard.append)
    assert without_timing(report) == whole
    assert heard == sorted(heard)
    assert heard[-1] == BOOK.borrower_days


def test_a_dask_cluster_gives_the_same_report(whole: dict[str, Any]) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        heard: list[int] = []
        report = run_simulation(
            BOOK, cluster=cluster.scheduler_address, partition_size=SIZE, progress=heard.append
        )
    assert without_timing(report) == whole
    assert heard[-1] == BOOK.borrower_days


def test_a_worker_process_killed_mid_run_costs_a_retry_not_the_run(
    whole: dict[str, Any],
) -> None:
    """The out-of-memory killer (here SIGKILL) takes a worker: the run still ends whole."""
    killed: list[int] = []

    def kill_a_worker_once(done: int) -> None:
        workers = [p for p in multiprocessing.active_children() if p.name.startswith("Spawn")]
        if not killed and workers and workers[0].pid is not None:
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(done)

    with capture_logs() as logs:
        report = run_simulation(BOOK, workers=2, partition_size=SIZE, progress=kill_a_worker_once)
    assert killed  # the kill happened while the run was under way
    assert without_timing(report) == whole
    retried = [log for log in logs if log["event"] == "partition failed; running it again"]
    assert retried
    assert {log["attempt"] for log in retried} == {1}
    assert all(log["error"].startswith("BrokenProcessPool") for log in retried)


def test_the_progress_channel_lost_mid_run_costs_the_progress_not_the_run(
    whole: dict[str, Any],
) -> None:
    """Its manager process killed: the run ends whole, its bar jumps to the end."""
    killed: list[int] = []
    heard: list[int] = []

    def kill_the_manager_once(done: int) -> None:
        heard.append(done)
        managers = [p for p in multiprocessing.active_children() if "Manager" in p.name]
        if not killed and managers and managers[0].pid is not None:
            os.kill(managers[0].pid, signal.SIGKILL)
            killed.append(done)

    with capture_logs() as logs:
        report = run_simulation(
            BOOK, workers=2, partition_size=SIZE, progress=kill_the_manager_once
        )
    assert killed
    assert without_timing(report) == whole
    assert heard == sorted(heard)
    assert heard[-1] == BOOK.borrower_days
    lost = [
        log for log in logs if log["event"] == "progress from the workers lost; the run goes on"
    ]
    assert len(lost) == 1
    # a partition already handed to the pool with the channel fails once: its worker cannot
    # reach the channel's manager to unpickle it (and dies of it, breaking the pool); it
    # runs again on a fresh pool, without the channel
    retried = [log for log in logs if log["event"] == "partition failed; running it again"]
    assert all(log["attempt"] == 1 for log in retried)
    unreachable = ("BrokenProcessPool", "ConnectionRefusedError", "EOFError", "BrokenPipeError")
    assert all(log["error"].startswith(unreachable) for log in retried)


def test_without_the_cluster_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ClusterUnavailable, match="'cluster' extra"):
        run_simulation(BOOK, cluster="local")


def _flaky(failures: dict[int, int]) -> Any:
    """Submit partitions on threads; partition N fails its first `failures[N]` attempts."""
    pool = ThreadPoolExecutor(2)
    tiny = BOOK.resized(borrowers=20, days=5)

    def run(part: Partition) -> PartitionResult:
        if failures.get(part.number, 0) > 0:
            failures[part.number] -= 1
            raise OSError("worker lost")
        return run_partition(tiny, part)

    def submit(part: Partition) -> "Future[PartitionResult]":
        return pool.submit(run, part)

    return tiny, submit


def test_a_failed_partition_is_retried() -> None:
    tiny, submit = _flaky({1: 2})
    results = gather(partitions(20, SIZE), submit)
    assert merge(tiny, results) == without_timing(run_simulation(tiny))


def test_a_partition_failing_every_retry_fails_the_run_naming_it() -> None:
    _, submit = _flaky({1: 3})
    with pytest.raises(PartitionFailed, match=r"partition 1 \(borrowers 11-20\) failed 3 times"):
        gather(partitions(20, SIZE), submit)


def test_an_invariant_broken_in_a_partition_crosses_processes_whole() -> None:
    broken = InvariantBroken(
        day=BOOK.start, user_id="user-0000007", invariant="no double charge", detail="twice"
    )
    again = pickle.loads(pickle.dumps(broken))  # noqa: S301 - our own bytes
    assert (again.day, again.user_id, again.invariant, again.detail, str(again)) == (
        broken.day,
        broken.user_id,
        broken.invariant,
        broken.detail,
        str(broken),
    )


def test_a_finished_partition_leaves_no_world_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its world is freed when the partition returns, not when the collector gets round to it."""
    built: list[weakref.ref[Any]] = []
    build = Simulation.build

    def remembered(*args: Any, **kwargs: Any) -> Any:
        simulation = build(*args, **kwargs)
        built.append(weakref.ref(simulation.world))
        return simulation

    monkeypatch.setattr(Simulation, "build", staticmethod(remembered))
    gc.disable()  # only the partition's own collection may free it
    try:
        result = run_partition(BOOK, partitions(BOOK.borrowers, SIZE)[0])
    finally:
        gc.enable()
    assert result.world is None
    assert built
    assert built[0]() is None


@pytest.mark.parametrize(
    "address", ["nonsense", "tcp://127.0.0.1:99999", "http://sched:8786", "sched:", ":8786", ""]
)
def test_an_address_no_scheduler_could_have_is_refused_before_anything_runs(
    address: str,
) -> None:
    with pytest.raises(ClusterUnavailable, match="not a Dask scheduler address"):
        run_simulation(BOOK, cluster=address)
    result = CliRunner().invoke(main, ["simulate", "--borrowers", "5", "--cluster", address])
    assert result.exit_code == 2  # a usage error
    assert "not a Dask scheduler address" in result.output


@pytest.mark.parametrize(
    "address",
    [
        "local",
        "tcp://10.0.0.5:8786",
        "10.0.0.5:8786",
        "tls://[::1]:8786",
        "sched.internal:8786",
        "inproc://192.0.2.2/4242/1",
    ],
)
def test_scheduler_addresses_as_dask_takes_them_are_accepted(address: str) -> None:
    assert cluster_address(f" {address} ") == address


def test_a_scheduler_that_does_not_answer_is_named_and_nothing_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(partition_module, "CONNECT_TIMEOUT_SECONDS", 1)
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ClusterUnreachable, match=f"no Dask scheduler answered at {address}"):
        run_simulation(BOOK, cluster=address)
    out = tmp_path / "out"
    arguments = ["simulate", "--borrowers", "5", "--days", "5", "--out", str(out)]
    result = CliRunner().invoke(main, [*arguments, "--cluster", address])
    assert result.exit_code == 1
    assert "run failed" in result.output
    assert f"no Dask scheduler answered at {address}" in result.output
    assert not (out / "report.json").exists()
