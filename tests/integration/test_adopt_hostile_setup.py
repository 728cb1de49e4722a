"""`loc adopt` pointed at the wrong table, region or endpoint, from the environment.

The command reads the table from ``LOC_*`` variables like every other; here it talks to
the moto server through them. Each mistake ends in one line and a non-zero exit status,
before anything is written: the table and the checkpoint file included.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from integration.support import REGION
from integration.test_adopt import open_book, snapshot
from support.go_items import go_loan_book, put_go_items

from loc_adapters.dynamodb import DynamoTable
from loc_entrypoints.cli import main

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, tmp_path: Path) -> None:
    """moto's dummy credentials and no AWS file; every LOC_ variable unset."""
    for name in list(os.environ):
        if name.startswith(("LOC_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("LOC_REGION", REGION)
    monkeypatch.setenv("LOC_ENDPOINT_URL", moto_endpoint)


def adopt(*args: str) -> Result:
    return CliRunner().invoke(main, ["adopt", *args])


def one_line(result: Result) -> str:
    """The command failed in one line, with a non-zero status and no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ")
    return line


@pytest.mark.usefixtures("environment")
def test_the_runbook_command_runs_without_a_queue(
    monkeypatch: pytest.MonkeyPatch, dynamodb: DynamoDBClient, table: DynamoTable, tmp_path: Path
) -> None:
    """`LOC_BACKEND=dynamodb LOC_TABLE_NAME=... loc adopt`, as docs/migration.md has it."""
    put_go_items(dynamodb, table.name, go_loan_book(open_book("u-1", "l-1")))
    monkeypatch.setenv("LOC_BACKEND", "dynamodb")
    monkeypatch.setenv("LOC_LOCK_BACKEND", "dynamolock")  # set for the cutover's workers
    monkeypatch.setenv("LOC_TABLE_NAME", table.name)
    report = tmp_path / "r.json"
    result = adopt("--apply", "--report", str(report))
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["counts"]["adopted"] == 1


@pytest.mark.usefixtures("environment")
def test_a_misspelt_setting_is_still_refused(
    monkeypatch: pytest.MonkeyPatch, table: DynamoTable
) -> None:
    monkeypatch.setenv("LOC_TABLE_NAME", table.name)
    monkeypatch.setenv("LOC_REGOIN", "eu-west-1")
    assert "unknown setting LOC_REGOIN" in one_line(adopt())


@pytest.mark.usefixtures("environment")
def test_without_a_table_name_nothing_is_adopted_by_default(tmp_path: Path) -> None:
    """The default name (dev-loc-service) is never adopted because the variable was forgotten."""
    line = one_line(adopt("--apply", "--checkpoint", str(tmp_path / "c.json")))
    assert line == (
        "Error: LOC_TABLE_NAME is required: the table to adopt (the Go service names it "
        "<env>-loc-service)"
    )
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("LOC_TABLE_NAME", "prod-loc-servce", "does not exist in us-east-1"),
        ("LOC_REGION", "eu-west-1", "does not exist in eu-west-1"),
        ("LOC_REGION", "not a region", "'not a region'"),
        ("LOC_ENDPOINT_URL", "http://127.0.0.1:1", "DynamoDB DescribeTable failed"),
        ("LOC_ENDPOINT_URL", "not a url", "LOC_ENDPOINT_URL must be an http(s) URL"),
    ],
)
@pytest.mark.usefixtures("environment")
def test_a_wrong_table_region_or_endpoint_is_one_line_and_writes_nothing(  # noqa: PLR0917 - fixtures and parameters
    monkeypatch: pytest.MonkeyPatch,
    dynamodb: DynamoDBClient,
    table: DynamoTable,
    tmp_path: Path,
    variable: str,
    value: str,
    says: str,
) -> None:
    put_go_items(dynamodb, table.name, go_loan_book(open_book("u-1", "l-1")))
    before = snapshot(dynamodb, table)
    monkeypatch.setenv("LOC_TABLE_NAME", table.name)
    monkeypatch.setenv(variable, value)
    checkpoint = tmp_path / "c.json"
    line = one_line(adopt("--apply", "--checkpoint", str(checkpoint)))
    assert says in line
    assert not checkpoint.exists()  # a rerun with the right table can use the same file
    assert snapshot(dynamodb, table) == before


@pytest.mark.usefixtures("environment")
def test_a_table_of_another_shape_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    """The Go service's lock table (partition key ``key``), named by mistake."""
    name = f"locks-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        dynamodb.put_item(TableName=name, Item={"key": {"S": "loc-collections:user_id:u"}})
        monkeypatch.setenv("LOC_TABLE_NAME", name)
        line = one_line(adopt("--apply", "--checkpoint", str(tmp_path / "c.json")))
    finally:
        dynamodb.delete_table(TableName=name)
    assert line.endswith("is not a loc table: its key is key, not PK, SK")
    assert not (tmp_path / "c.json").exists()
