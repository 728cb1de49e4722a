"""The ``loc`` commands under an unlucky operator: signals, a full disk, bad arguments.

Each failure ends every command the same way: one line on standard error, a documented
exit status, standard output holding the result alone. The signal and disk cases run
``loc`` as a process, as an operator does; the others use click's runner.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import local_http
import pytest
from click.testing import CliRunner

from loc_entrypoints.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

LOC = Path(sys.executable).parent / "loc"


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """This process's environment without its LOC_ and AWS_ variables, plus `settings`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOC_", "AWS_"))}
    return {
        **clean,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        **settings,
    }


@pytest.fixture
def silent_endpoint() -> Iterator[tuple[str, threading.Event]]:
    """A local endpoint that accepts connections and never answers; set once one came."""
    with local_http.silent() as endpoint:
        yield endpoint


@pytest.mark.parametrize(
    "case",
    [
        (["job", "run", "billing_job"], signal.SIGINT, 130, "Error: interrupted"),
        (["reconcile", "--all"], signal.SIGTERM, 143, "Error: terminated"),
        (["adopt", "--apply"], signal.SIGTERM, 143, "Error: terminated"),
    ],
)
def test_ctrl_c_or_sigterm_mid_run_ends_in_one_line_with_the_signal_status(
    silent_endpoint: tuple[str, threading.Event],
    tmp_path: Path,
    case: tuple[list[str], signal.Signals, int, str],
) -> None:
    arguments, sent, status, line = case
    endpoint, connected = silent_endpoint
    settings = {
        "LOC_BACKEND": "dynamodb",
        "LOC_TABLE_NAME": "prod-loc-service",
        "LOC_QUEUE_URL": f"{endpoint}/123456789012/q",
        "LOC_ENDPOINT_URL": endpoint,
    }
    running = subprocess.Popen(  # noqa: S603 - this environment's loc, fixed arguments
        [str(LOC), *arguments],
        env=environment(tmp_path, **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert connected.wait(timeout=30), "loc never reached the table"
        running.send_signal(sent)
        out, err = running.communicate(timeout=30)
    finally:
        running.kill()
    assert running.returncode == status, err
    assert "Traceback" not in err
    assert [text for text in err.splitlines() if text.startswith("Error:")] == [line]
    assert out == ""


@pytest.mark.parametrize("arguments", [["token", "alice"], ["reconcile", "--all"]])
def test_standard_output_that_cannot_be_written_is_one_line(
    tmp_path: Path, arguments: list[str]
) -> None:
    with Path("/dev/full").open("w") as full:
        ended = subprocess.run(  # noqa: S603 - this environment's loc, fixed arguments
            [str(LOC), *arguments],
            env=environment(tmp_path),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert ended.returncode == 1
    assert ended.stderr.strip() == "Error: cannot write the output: No space left on device"


def test_standard_output_holds_the_reconciliation_table_alone() -> None:
    result = CliRunner().invoke(main, ["reconcile", "--all"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].strip() == "Reconciliation"
    assert result.stderr == ""


def test_a_user_id_no_command_would_take_is_a_usage_error_in_every_command() -> None:
    runner = CliRunner()
    for arguments in (["reconcile", "--user", "a#b"], ["token", "a#b"]):
        result = runner.invoke(main, arguments)
        assert result.exit_code == 2, result.output
        assert "user_id must be letters, digits and -_.:@ only" in result.stderr
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"LOC_JWT_SECRET": "short"}, "LOC_JWT_SECRET is 5 bytes long"),
        (
            {"LOC_BACKEND": "dynamodb", "LOC_QUEUE_URL": "http://127.0.0.1:9/q"},
            "LOC_JWT_SECRET is required",
        ),
        (
            {
                "LOC_JWT_JWKS_URL": "https://auth.example/jwks.json",
                "LOC_JWT_ISSUER": "https://auth.example/",
            },
            "LOC_JWT_JWKS_URL is set",
        ),
    ],
)
def test_loc_token_mints_no_token_the_api_would_refuse(
    settings: dict[str, str], reason: str
) -> None:
    result = CliRunner().invoke(main, ["token", "alice"], env=settings)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: {reason}")


def test_loc_serve_refuses_a_jwt_secret_anyone_could_guess(tmp_path: Path) -> None:
    served = subprocess.run(  # noqa: S603 - this environment's loc, fixed arguments
        [str(LOC), "serve", "--port", "18779"],
        env=environment(tmp_path, LOC_JWT_SECRET="0123456789"),  # noqa: S106 - a test secret, too short on purpose
        capture_output=True,
        text=True,
        timeout=30,  # a server that starts is a failure
        check=False,
    )
    assert served.returncode == 1
    (line,) = served.stderr.strip().splitlines()  # one line, not the server starting
    assert line.startswith("Error: ")
    assert "LOC_JWT_SECRET is 10 bytes long: an HS256 secret needs at least 32" in line
    assert "0123456789" not in line
