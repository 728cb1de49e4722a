"""`loc simulate` run carelessly: absurd sizes, failures mid-run, a full disk, an old report.

Every failure is one line on standard error, a non-zero exit and no traceback; the
output folder holds one run's files, whole, or what it held before.
"""

import errno
import importlib.util
import os
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from loc_core.errors import InvalidConfiguration
from loc_entrypoints import cli
from loc_entrypoints.cli import main
from loc_entrypoints.simulation import (
    InvariantBroken,
    PartitionFailed,
    Scenario,
    Simulation,
    run_simulation,
)
from loc_entrypoints.simulation import partition as partition_module
from loc_entrypoints.simulation.scenario import MAX_BORROWERS

TINY = ["--borrowers", "20", "--days", "3"]


def simulate(out: Path, *arguments: str) -> Result:
    return CliRunner().invoke(main, ["simulate", *TINY, "--out", str(out), *arguments])


def one_error_line(result: Result) -> str:
    """The run's only line on standard error (log lines are JSON), checked for a traceback."""
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    return line


@pytest.mark.parametrize("borrowers", [str(MAX_BORROWERS + 1), "99999999999999999999999"])
def test_a_book_beyond_seven_digit_borrower_ids_is_refused_at_once(
    tmp_path: Path, borrowers: str
) -> None:
    # Borrower ids have seven digits; more would sort out of borrower order (the digest's
    # order) and, at 10**23, the run hung building its list of partitions.
    with pytest.raises(InvalidConfiguration) as refused:
        Scenario(borrowers=int(borrowers))
    assert refused.value.key == "borrowers"
    result = CliRunner().invoke(
        main, ["simulate", "--borrowers", borrowers, "--days", "1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--borrowers" in result.output
    assert Scenario(borrowers=MAX_BORROWERS).borrowers == MAX_BORROWERS


def test_more_workers_than_partitions_start_one_process_a_partition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pools: list[int] = []

    class Counted(ProcessPoolExecutor):
        def __init__(self, max_workers: int, **options: Any) -> None:
            pools.append(max_workers)
            super().__init__(max_workers, **options)

    monkeypatch.setattr(partition_module, "ProcessPoolExecutor", Counted)
    book = Scenario().resized(borrowers=20, days=3)
    report = run_simulation(book, workers=10_000, partition_size=10)
    assert pools == [2]  # two partitions of 10: not ten thousand processes
    assert report["borrower_days"] == 60


def test_a_local_cluster_starts_no_more_workers_than_partitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[int] = []

    class Stop(Exception):
        pass

    def local_cluster(*, n_workers: int, **_options: object) -> None:
        started.append(n_workers)
        raise Stop

    monkeypatch.setitem(
        sys.modules, "distributed", types.SimpleNamespace(LocalCluster=local_cluster)
    )
    book = Scenario().resized(borrowers=20, days=3)
    for workers in (10_000, None):
        with pytest.raises(Stop):
            run_simulation(book, cluster="local", workers=workers, partition_size=10)
    assert started == [2, min(os.cpu_count() or 1, 2)]


def test_a_partition_that_raises_is_one_line_naming_its_borrowers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_simulation: Simulation, _progress: object = None) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(Simulation, "run", broken)
    with pytest.raises(PartitionFailed) as failed:
        run_simulation(Scenario().resized(borrowers=20, days=3), partition_size=10)
    assert (failed.value.partition.first, failed.value.partition.last) == (1, 10)
    result = simulate(tmp_path / "out")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert line == (
        "Error: run failed: partition 0 (borrowers 1-20) failed once: RuntimeError: a bug in a "
        "handler"
    )
    assert not (tmp_path / "out" / "report.json").exists()


def test_a_broken_invariant_is_one_line_on_standard_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = Scenario()

    def broken(*_args: object, **_options: object) -> None:
        raise InvariantBroken(
            day=book.start, user_id="user-0000007", invariant="no double charge", detail="twice"
        )

    monkeypatch.setattr(cli, "run_simulation", broken)
    result = simulate(tmp_path / "out")
    assert result.exit_code == 1
    assert one_error_line(result) == (
        "Error: invariant violated on 2026-01-01, borrower user-0000007: no double charge: twice"
    )
    assert "invariant violated" not in result.stdout


def test_an_earlier_comparison_is_not_left_beside_a_new_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    other = tmp_path / "dearer.toml"
    other.write_text('origination_fee_percent = "9"\n')
    assert simulate(out, "--compare", str(other)).exit_code == 0
    assert (out / "comparison.json").exists()
    result = simulate(out, "--seed", "4")
    assert result.exit_code == 0, result.output
    charted = ["portfolio.png"] if importlib.util.find_spec("matplotlib") else []
    assert sorted(path.name for path in out.iterdir()) == sorted(["report.json", *charted])


def test_an_earlier_chart_goes_when_this_run_draws_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "portfolio.png").write_bytes(b"an earlier run's chart")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # no 'report' extra
    result = simulate(out)
    assert result.exit_code == 0, result.output
    assert "portfolio.png skipped" in result.stdout
    assert sorted(path.name for path in out.iterdir()) == ["report.json"]


def test_a_full_disk_leaves_the_earlier_report_whole_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text('{"an": "earlier run"}\n')
    write = os.write
    written: list[int] = []

    def disk_full_after_100_bytes(descriptor: int, data: bytes) -> int:
        if not str(Path(f"/proc/self/fd/{descriptor}").readlink()).startswith(str(out)):
            return write(descriptor, data)
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(write(descriptor, bytes(data[:100])))
        return written[-1]

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell the report's writes from the rest")
    monkeypatch.setattr(os, "write", disk_full_after_100_bytes)
    result = simulate(out)
    assert written  # the report started being written, and the disk filled up
    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"Error: cannot write the report to {out}: No space left on device; nothing was written"
    )
    assert sorted(path.name for path in out.iterdir()) == ["report.json"]
    assert (out / "report.json").read_text() == '{"an": "earlier run"}\n'
