"""`loc adopt --apply` racing another run, throttled, or failing mid-scan, on moto.

The Go table is `test_adopt`'s (three loans that verify with 8 payments between them, one
that does not, applications). Whatever happens, each loan is adopted once, whole, and a
rerun or resume finishes the job; the operator reads one line, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from click.testing import CliRunner, Result
from integration.test_adopt import NOW, TODAY, go_table, snapshot
from integration.test_adopt_checkpoint import ADOPTED_LOANS, PAYMENTS, adoptions

from loc_adapters.dynamodb import DynamoTable
from loc_adapters.dynamodb.adopt import Outcome, adopt_table
from loc_entrypoints.cli import main

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["go_table"]  # the fixture, shared with test_adopt


def adopt(table: DynamoTable, *args: str) -> Result:
    return CliRunner().invoke(main, ["adopt", *args], obj={"table": table})


class Flaky:
    """The boto3 client, but `operation` fails with `error` on its calls numbered `failing`."""

    def __init__(self, client: Any, operation: str, error: ClientError, failing: set[int]) -> None:
        self._client, self._operation, self._error, self._failing = (
            client,
            operation,
            error,
            failing,
        )
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        if name != self._operation:
            return real

        def call(**kwargs: Any) -> Any:
            self.calls += 1
            if self.calls in self._failing:
                raise self._error
            return real(**kwargs)

        return call


def throttled(operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {
                "Code": "ProvisionedThroughputExceededException",
                "Message": "The level of configured provisioned throughput was exceeded",
            }
        },
        operation,
    )


def transaction_throttled() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": "ThrottlingError", "Message": "throttled"}],
        },
        "TransactWriteItems",
    )


def test_two_apply_runs_at_once_adopt_each_loan_once_and_neither_says_changed(
    go_table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    class OtherRunFirst(DynamoTable):
        """Another `loc adopt --apply` adopts the whole table just before this run writes."""

        raced = False

        def transact(self, actions: Sequence[TransactWriteItemTypeDef], *, token: str) -> None:
            if not self.raced:
                self.raced = True
                adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=2)
            super().transact(actions, token=token)

    racing = OtherRunFirst(go_table.client, go_table.name, page_size=3)
    report = adopt_table(racing, today=TODAY, now=NOW, apply=True, segments=1)

    assert report.counts()["changed during adoption, retry"] == 0, report.findings
    assert report.counts()["adopted"] == 0
    assert adoptions(dynamodb, go_table) == (PAYMENTS, ADOPTED_LOANS)


def test_a_throttled_transaction_is_reported_as_such_and_a_rerun_adopts_it(
    go_table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    flaky = Flaky(go_table.client, "transact_write_items", transaction_throttled(), {1})
    table = DynamoTable(flaky, go_table.name, page_size=3)  # type: ignore[arg-type]
    report = adopt_table(table, today=TODAY, now=NOW, apply=True, segments=1)
    (changed,) = [f for f in report.findings if f.outcome is Outcome.CHANGED]
    assert changed.detail == "DynamoDB cancelled the write (ThrottlingError)"
    assert adoptions(dynamodb, go_table)[1] == ADOPTED_LOANS - 1
    again = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=1)
    assert [f.item_id for f in again.findings if f.outcome is Outcome.ADOPTED] == [changed.item_id]
    assert adoptions(dynamodb, go_table) == (PAYMENTS, ADOPTED_LOANS)


def test_a_scan_throttled_mid_run_stops_in_one_line_and_the_resume_adopts_each_loan_once(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    checkpoint, report = tmp_path / "adopt.json", tmp_path / "adopt.report"
    flaky = Flaky(go_table.client, "scan", throttled("Scan"), {3})
    table = DynamoTable(flaky, go_table.name, page_size=3)  # type: ignore[arg-type]
    args = ("--apply", "--segments", "1", "--checkpoint", str(checkpoint))

    failed = adopt(table, *args)
    assert failed.exit_code == 1, failed.output
    assert isinstance(failed.exception, SystemExit)
    (line,) = failed.output.strip().splitlines()
    assert line.startswith("Error: DynamoDB Scan failed: ProvisionedThroughputExceededException")
    assert 0 < adoptions(dynamodb, go_table)[1] < ADOPTED_LOANS

    resumed = adopt(go_table, *args, "--report", str(report))
    assert resumed.exit_code == 1, resumed.output  # go_table's loan that does not verify
    written = json.loads(report.read_text())
    assert written["counts"]["adopted"] == ADOPTED_LOANS
    assert written["written"] == {"payments": PAYMENTS, "entries": ADOPTED_LOANS}
    assert adoptions(dynamodb, go_table) == (PAYMENTS, ADOPTED_LOANS)
    loans = [f["item_id"] for f in written["findings"] if f["kind"] == "loan"]
    assert len(loans) == len(set(loans))  # nothing counted twice


def test_a_dry_run_on_a_hostile_table_makes_no_write_call(
    go_table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    writes = []
    dynamodb.meta.events.register(
        "before-call.dynamodb",
        lambda model, **_: (
            writes.append(model.name)
            if model.name not in {"Scan", "Query", "GetItem", "DescribeTable"}
            else None
        ),
        unique_id="adopt-dry-writes",
    )
    before = snapshot(dynamodb, go_table)
    try:
        result = adopt(go_table, "--segments", "3")
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb", unique_id="adopt-dry-writes")
    assert result.exit_code == 1, result.output  # go_table's loan that does not verify
    assert writes == []
    assert snapshot(dynamodb, go_table) == before
