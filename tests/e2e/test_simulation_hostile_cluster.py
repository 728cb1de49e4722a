"""`--cluster` at an address no scheduler answers: one line, at once, and nothing run."""

import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from loc_entrypoints.cli import main
from loc_entrypoints.simulation import (
    ClusterUnavailable,
    ClusterUnreachable,
    Scenario,
    run_simulation,
)
from loc_entrypoints.simulation.partition import cluster_address

pytest.importorskip("distributed")

TINY = Scenario().resized(borrowers=5, days=2)


def _closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    "address",
    [
        "tcp://nonexistent.invalid:8786",  # a host no resolver knows
        "tcp://256.1.1.1:8786",  # not an IPv4 address, nor a name
        "tcp://127.0.0.1:{closed}",  # nothing listens: the connection is refused
        "inproc://127.0.0.1/1/1",  # a scheduler inside another process
    ],
)
def test_no_scheduler_there_fails_in_seconds_with_one_line(tmp_path: Path, address: str) -> None:
    address = address.format(closed=_closed_port())
    started = time.monotonic()
    with pytest.raises(ClusterUnreachable, match=f"no Dask scheduler answered at {address}"):
        run_simulation(TINY, cluster=address)
    out = tmp_path / "out"
    arguments = ["simulate", "--borrowers", "5", "--days", "2", "--out", str(out)]
    result = CliRunner().invoke(main, [*arguments, "--cluster", address])
    assert time.monotonic() - started < 10  # not Dask's 30 s of retries, twice
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert line.startswith(f"Error: run failed: no Dask scheduler answered at {address}")
    assert line.endswith("; nothing ran")
    assert not out.exists()


@pytest.mark.parametrize("address", ["inproc://x", "inproc://a/b/c", "inproc://1.2.3.4/12"])
def test_an_inproc_address_not_of_daskss_shape_is_a_usage_error(address: str) -> None:
    with pytest.raises(ClusterUnavailable, match="not a Dask scheduler address"):
        cluster_address(address)
    result = CliRunner().invoke(main, ["simulate", "--borrowers", "5", "--cluster", address])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
