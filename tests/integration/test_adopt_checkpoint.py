"""`loc adopt --checkpoint`: what a resume must share with the run that made the file.

On the moto server, with the Go table `test_adopt` builds (3 loans that verify, with 8
payments between them, one that does not, and applications). A checkpoint is resumed
only by a run of the same mode, segments and table; any other file, or one that is not
a checkpoint, is refused in one line before the scan, the table and the file untouched.
A resumed run reports the whole run, every invocation since the checkpoint was made.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result
from integration.test_adopt import NOW, TODAY, charged_by_go, go_table, snapshot

from loc_adapters.dynamodb import DynamoTable, create_table
from loc_adapters.dynamodb.adopt import adopt_table
from loc_core.errors import InvariantViolation
from loc_entrypoints.cli import main

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["go_table"]  # the fixture, shared with test_adopt

ADOPTED_LOANS = 3
PAYMENTS = 8  # what adopting the three loans writes, as the dry run test reports
PARTIAL = 1
"""The exit status of a run on `go_table`: it holds a loan that does not verify."""


def adopt(table: DynamoTable, *args: str) -> Result:
    return CliRunner().invoke(main, ["adopt", *args], obj={"table": table})


def adoptions(dynamodb: DynamoDBClient, table: DynamoTable) -> tuple[int, int]:
    """The payment items and adoption entries the table holds."""
    items = snapshot(dynamodb, table)
    payments = sum("#PAYMENT#" in item["SK"]["S"] for item in items)
    entries = sum(item["SK"]["S"].endswith(":adopted") for item in items)
    return payments, entries


def refused(result: Result, checkpoint: Path, why: str) -> None:
    """Refused in one line that names the file, without a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.output.strip().splitlines() == [f"Error: checkpoint {checkpoint} {why}"]


def test_a_dry_run_checkpoint_is_refused_for_apply_and_nothing_is_written(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    checkpoint, report = tmp_path / "adopt-dry.json", tmp_path / "apply.report"
    dry = adopt(go_table, "--checkpoint", str(checkpoint))
    assert dry.exit_code == PARTIAL, dry.output
    before, saved = snapshot(dynamodb, go_table), checkpoint.read_bytes()

    result = adopt(go_table, "--apply", "--checkpoint", str(checkpoint), "--report", str(report))
    refused(
        result,
        checkpoint,
        "was made by a dry run, which wrote nothing, and this is an --apply run: use a new "
        "file (or drop --apply to finish the dry run)",
    )
    assert snapshot(dynamodb, go_table) == before
    assert checkpoint.read_bytes() == saved
    assert not report.exists()

    applied = adopt(go_table, "--apply", "--checkpoint", str(tmp_path / "adopt.json"))
    assert applied.exit_code == PARTIAL, applied.output
    assert adoptions(dynamodb, go_table) == (PAYMENTS, ADOPTED_LOANS)


def test_an_apply_checkpoint_is_refused_for_a_dry_run(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "adopt.json"
    adopt_table(
        go_table, today=TODAY, now=NOW, apply=True, checkpoint=checkpoint, stop_after_pages=1
    )
    before, saved = snapshot(dynamodb, go_table), checkpoint.read_bytes()

    result = adopt(go_table, "--checkpoint", str(checkpoint))
    refused(
        result,
        checkpoint,
        "was made by an --apply run, and this is a dry run: add --apply to resume it, or "
        "use a new file",
    )
    assert snapshot(dynamodb, go_table) == before
    assert checkpoint.read_bytes() == saved


def test_a_checkpoint_of_another_table_is_refused(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "adopt.json"
    adopt_table(go_table, today=TODAY, now=NOW, checkpoint=checkpoint, stop_after_pages=1)
    other = create_table(dynamodb, f"{go_table.name}-other")
    try:
        with pytest.raises(InvariantViolation, match="was made on table") as refusal:
            adopt_table(other, today=TODAY, now=NOW, checkpoint=checkpoint)
    finally:
        dynamodb.delete_table(TableName=other.name)
    assert (refusal.value.key, refusal.value.entity_id) == ("table", str(checkpoint))
    assert f"{go_table.name} in " in str(refusal.value)


def saved_state(**changes: Any) -> str:
    """A checkpoint's text as a dry run with the CLI's default 4 segments saves it, changed."""
    state = {
        "mode": "dry run",
        "segments": 4,
        "table": "ignored: the shape is checked first",
        "started": [],
        "positions": {},
        "scanned": 0,
        "found": [],
    }
    return json.dumps({**state, **changes})


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "it is not JSON (Expecting property name enclosed in double quotes"),
        ('{"segments": 4}', "its 'mode' is missing or not a JSON string"),
        ("[]", "it holds a JSON array, not an object"),
        ('"adopt"', "it holds a JSON string, not an object"),
        (  # what loc adopt saved before it recorded the mode and table
            '{"segments": 4, "positions": {}, "scanned": 0, "found": []}',
            "its 'mode' is missing or not a JSON string",
        ),
        (saved_state(mode="maybe"), "its mode, segments or count scanned is out of range"),
        (saved_state(segments=True), "its 'segments' is missing or not a JSON number"),
        (
            saved_state(positions={"4": {"done": True, "key": None}}),
            "the position of segment '4' is malformed",
        ),
        (saved_state(positions={"0": {"done": "yes"}}), "the position of segment '0' is malformed"),
        (saved_state(found=[{"kind": "loan"}]), "it holds something other than a finding"),
        (
            saved_state(
                found=[
                    {
                        "kind": "loan",
                        "user_id": "u-1",
                        "item_id": "l-open",
                        "outcome": "adopted",
                        "detail": "",
                        "payments": "2",
                        "entries": 1,
                    }
                ]
            ),
            "it holds a finding with a malformed payments",
        ),
    ],
)
def test_a_file_that_is_not_a_checkpoint_is_refused_in_one_line(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path, text: str, why: str
) -> None:
    checkpoint = tmp_path / "adopt.json"
    checkpoint.write_text(text)
    before = snapshot(dynamodb, go_table)
    result = adopt(go_table, "--apply", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: checkpoint {checkpoint} cannot be resumed: {why}")
    assert line.endswith("; use a new file")
    assert snapshot(dynamodb, go_table) == before
    assert checkpoint.read_text() == text


def test_a_checkpoint_that_is_not_text_is_refused(go_table: DynamoTable, tmp_path: Path) -> None:
    checkpoint = tmp_path / "adopt.json"
    checkpoint.write_bytes(b"\xff\xfe{")
    refused(
        adopt(go_table, "--checkpoint", str(checkpoint)),
        checkpoint,
        "cannot be resumed: it is not text; use a new file",
    )


def test_a_checkpoint_folder_is_made_by_the_command_and_refused_by_the_library(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    missing = tmp_path / "gone" / "adopt.json"
    before = snapshot(dynamodb, go_table)
    with pytest.raises(InvariantViolation, match=f"cannot save checkpoint {missing}: No such"):
        adopt_table(go_table, today=TODAY, now=NOW, apply=True, checkpoint=missing)
    assert snapshot(dynamodb, go_table) == before  # refused before the first write

    deeper = tmp_path / "new" / "deeper" / "adopt.json"
    result = adopt(go_table, "--checkpoint", str(deeper))
    assert result.exit_code == PARTIAL, result.output
    assert json.loads(deeper.read_text())["mode"] == "dry run"


def test_an_interrupted_apply_resumed_reports_what_the_whole_run_wrote(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    checkpoint, report = tmp_path / "adopt.json", tmp_path / "adopt.report"
    first = adopt_table(
        go_table,
        today=TODAY,
        now=NOW,
        apply=True,
        segments=2,
        checkpoint=checkpoint,
        stop_after_pages=1,
    )
    assert 0 < adoptions(dynamodb, go_table)[1] < ADOPTED_LOANS, first.findings

    args = ("--apply", "--segments", "2", "--checkpoint", str(checkpoint))
    result = adopt(go_table, *args, "--report", str(report))
    assert result.exit_code == PARTIAL, result.output
    summary = " ".join(result.output.split())  # as one line, however the console wrapped it
    assert "by the whole run (resumed from" in summary
    assert str(checkpoint) in result.output.replace("\n", "")
    assert f"wrote {PAYMENTS} payments and {ADOPTED_LOANS} journal entries" in summary
    written = json.loads(report.read_text())
    assert (written["resumed"], written["applied"]) == (True, True)
    assert written["counts"]["adopted"] == ADOPTED_LOANS
    assert written["written"] == {"payments": PAYMENTS, "entries": ADOPTED_LOANS}
    assert adoptions(dynamodb, go_table) == (PAYMENTS, ADOPTED_LOANS)


class Crashed(BaseException):
    """The process died (a `BaseException`, as a signal's is: no handler of errors sees it)."""


class CrashAfterFirstWrite(DynamoTable):
    """The process dies right after its first adoption commits, before the page is saved."""

    def transact(self, actions: Sequence[TransactWriteItemTypeDef], *, token: str) -> None:
        super().transact(actions, token=token)
        raise Crashed


def test_a_loan_adopted_just_before_a_crash_is_counted_by_the_resume(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    checkpoint, report = tmp_path / "adopt.json", tmp_path / "adopt.report"
    crashing = CrashAfterFirstWrite(go_table.client, go_table.name, page_size=3)
    with pytest.raises(Crashed):
        adopt_table(crashing, today=TODAY, now=NOW, apply=True, segments=1, checkpoint=checkpoint)
    assert adoptions(dynamodb, go_table)[1] == 1
    assert json.loads(checkpoint.read_text())["found"] == []  # no page was saved

    args = ("--apply", "--segments", "1", "--checkpoint", str(checkpoint))
    result = adopt(go_table, *args, "--report", str(report))
    assert result.exit_code == PARTIAL, result.output
    assert f"wrote {PAYMENTS} payments and {ADOPTED_LOANS} journal entries" in " ".join(
        result.output.split()
    )
    written = json.loads(report.read_text())
    assert written["counts"]["adopted"] == ADOPTED_LOANS
    assert written["written"] == {"payments": PAYMENTS, "entries": ADOPTED_LOANS}
    details = {f["item_id"]: f["detail"] for f in written["findings"] if f["outcome"] == "adopted"}
    assert sorted(details.values()).count("adopted before the run was interrupted") == 1
    assert adoptions(dynamodb, go_table) == (PAYMENTS, ADOPTED_LOANS)

    again = adopt(go_table, "--apply", "--checkpoint", str(tmp_path / "again.json"))
    assert "wrote 0 payments and 0 journal entries" in " ".join(again.output.split())


def test_a_loan_adopted_again_just_before_a_crash_is_counted_by_the_resume(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=1)
    charged_by_go(dynamodb, go_table)
    checkpoint, report = tmp_path / "adopt.json", tmp_path / "adopt.report"
    crashing = CrashAfterFirstWrite(go_table.client, go_table.name, page_size=3)
    later = NOW + dt.timedelta(hours=1)  # the first adoption's run is not the one resumed
    with pytest.raises(Crashed):
        adopt_table(crashing, today=TODAY, now=later, apply=True, segments=1, checkpoint=checkpoint)
    args = ("--apply", "--segments", "1", "--checkpoint", str(checkpoint))
    assert adopt(go_table, *args, "--report", str(report)).exit_code == PARTIAL
    written = json.loads(report.read_text())
    assert written["written"] == {"payments": 1, "entries": 1}
    (again,) = [f for f in written["findings"] if f["outcome"] == "adopted"]
    assert (again["item_id"], again["detail"]) == (
        "l-open",
        "adopted again before the run was interrupted",
    )
