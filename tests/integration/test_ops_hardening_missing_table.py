"""A ``LOC_TABLE_NAME`` that names no table, on moto's server.

The long-running commands ask for the table once before they start and end in one line
naming it (exit 1), instead of serving every request a 500. Where nothing asked first
(a Lambda), a call on the missing table is a `ServiceNotConfigured` naming the table and
the variable, not an anonymous failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from loc_adapters.dynamodb import DynamoTable
from loc_core.errors import ServiceNotConfigured
from loc_core.ports import IdGenerator
from loc_entrypoints.bootstrap import Backend, Settings, StandIns, bootstrap, check_storage
from loc_entrypoints.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_dynamodb import DynamoDBClient

TYPO = "prod-loc-servcie"


@pytest.fixture
def offline_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """moto's dummy credentials, no configuration file: nothing leaves this machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.mark.usefixtures("offline_credentials")
@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["serve", "--port", "18779"], id="serve"),
        pytest.param(["job", "run", "due_job"], id="job-run"),
        pytest.param(["reconcile", "--all"], id="reconcile"),
    ],
)
def test_a_long_running_command_on_a_missing_table_ends_in_one_line(
    moto_endpoint: str, queue_url: str, arguments: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def served(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("loc serve listened on a table that does not exist")

    monkeypatch.setattr("uvicorn.run", served)
    environ = {
        "LOC_BACKEND": "dynamodb",
        "LOC_TABLE_NAME": TYPO,
        "LOC_QUEUE_URL": queue_url,
        "LOC_ENDPOINT_URL": moto_endpoint,
        "LOC_STAND_INS": "simulated",
        "LOC_JWT_SECRET": "s" * 32,
    }
    result = CliRunner().invoke(main, arguments, env=environ)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [line] = [text for text in result.output.splitlines() if text.startswith("Error:")]
    assert line.startswith("Error: cannot build the deployment: ")  # before any work began
    assert f"table {TYPO} does not exist" in line
    assert "LOC_TABLE_NAME" in line


@pytest.mark.usefixtures("offline_credentials")
def test_the_start_up_check_passes_on_the_table_that_exists(
    moto_endpoint: str, queue_url: str, table: DynamoTable
) -> None:
    check_storage(
        Settings(
            backend=Backend.DYNAMODB,
            table_name=table.name,
            queue_url=queue_url,
            endpoint_url=moto_endpoint,
        )
    )


@pytest.mark.usefixtures("offline_credentials")
def test_a_call_on_a_missing_table_names_the_table_and_its_variable(
    moto_endpoint: str, queue_url: str, dynamodb: DynamoDBClient
) -> None:
    bus = bootstrap(
        Settings(
            backend=Backend.DYNAMODB,
            table_name=TYPO,
            queue_url=queue_url,
            endpoint_url=moto_endpoint,
            stand_ins=StandIns.SIMULATED,
        )
    )
    with pytest.raises(ServiceNotConfigured, match=f"table {TYPO} does not exist") as missing:
        bus.get(IdGenerator).next_loan_number()
    assert (missing.value.key, missing.value.entity, missing.value.entity_id) == (
        "LOC_TABLE_NAME",
        "table",
        TYPO,
    )
    with pytest.raises(ServiceNotConfigured, match="LOC_TABLE_NAME"):
        DynamoTable(dynamodb, TYPO).get(("USER#alice", "LOAN#1"))
