"""Ctrl-C or SIGTERM on `loc simulate`: one line, exit 130 or 143, no worker left, no report.

A terminal sends SIGINT to its whole foreground process group, workers included; the
test does the same to a run started in a session of its own. SIGTERM comes to the one
process (``timeout``, a container stop) or to the group (a service manager).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LOC = Path(sys.executable).parent / "loc"

pytestmark = pytest.mark.skipif(
    not hasattr(os, "killpg") or not Path("/proc").is_dir(), reason="needs POSIX process groups"
)


def _in_group(group: int) -> list[str]:
    """The command lines of the live processes of process group `group` (not zombies)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


def _interrupted(
    out: Path,
    *options: str,
    workers_first: int,
    sent: signal.Signals = signal.SIGINT,
    to_group: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Start a long run, signal it once `workers_first` workers exist, and wait for it to end."""
    arguments = [str(LOC), "simulate", "--borrowers", "1000", "--days", "3000", "--out", str(out)]
    run = subprocess.Popen(  # noqa: S603 - our own command
        [*arguments, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if sum("spawn_main" in line for line in _in_group(run.pid)) >= workers_first:
            break
        time.sleep(0.1)
    # the command under way (Python's own start-up is not the command's to handle); with
    # workers, one of them importing, one under way, or both
    time.sleep(1.5 if workers_first else 5)
    started = time.monotonic()
    if to_group:
        os.killpg(run.pid, sent)
    else:
        os.kill(run.pid, sent)
    try:
        stdout, stderr = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert time.monotonic() - started < 15  # not after the running partitions finished
    time.sleep(0.5)
    assert _in_group(run.pid) == []  # no worker, manager or tracker left behind
    return subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)


@pytest.mark.parametrize("workers", [2, None])
def test_ctrl_c_ends_the_run_with_one_line_and_no_orphans(
    tmp_path: Path, workers: int | None
) -> None:
    out = tmp_path / "out"
    options = [] if workers is None else ["--workers", str(workers)]
    done = _interrupted(out, *options, workers_first=workers or 0)
    assert done.returncode == 130
    assert "Traceback" not in done.stderr
    assert "KeyboardInterrupt" not in done.stderr
    assert done.stderr.strip().splitlines() == ["Error: interrupted; no report was written"]
    assert not (out / "report.json").exists()


@pytest.mark.parametrize(
    ("workers", "target"),
    [
        pytest.param(2, "process", id="workers-process-alone"),
        pytest.param(2, "group", id="workers-whole-group"),
        pytest.param(None, "process", id="one-process"),
    ],
)
def test_sigterm_ends_the_run_with_one_line_and_no_orphans(
    tmp_path: Path, workers: int | None, target: str
) -> None:
    """It used to kill the command silently (exit -15) and leave its workers running."""
    out = tmp_path / "out"
    options = [] if workers is None else ["--workers", str(workers)]
    done = _interrupted(
        out, *options, workers_first=workers or 0, sent=signal.SIGTERM, to_group=target == "group"
    )
    assert done.returncode == 143
    assert done.stderr.strip().splitlines() == ["Error: terminated; no report was written"]
    assert not (out / "report.json").exists()


def test_ctrl_c_on_a_local_dask_cluster_ends_with_one_line_and_no_orphans(tmp_path: Path) -> None:
    """Its workers used to die mid-import with their own tracebacks, Dask's exit hook
    failed on the half-started cluster, and its INFO lines filled standard error."""
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    done = _interrupted(out, "--cluster", "local", "--workers", "2", workers_first=2)
    assert done.returncode == 130
    assert done.stderr.strip().splitlines() == ["Error: interrupted; no report was written"]
    assert not (out / "report.json").exists()
