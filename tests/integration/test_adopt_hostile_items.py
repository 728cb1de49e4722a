"""`loc adopt` on Go items that are malformed or half-written, on the moto server.

Each bad loan or application is reported with its key, in one line of the findings, and
left exactly as stored; every other loan is adopted; the command's exit status says that
some were not adopted. Never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result
from integration.test_adopt import NOW, TODAY, open_book, snapshot
from support.go_items import go_loan_application, go_loan_book, n, null, put_go_items, s

from loc_adapters.dynamodb import DynamoTable
from loc_adapters.dynamodb.adopt import Outcome, adopt_table
from loc_entrypoints.cli import main

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Raw = dict[str, Any]
Spoil = Callable[[list[Raw]], None]
"""Changes a Go loan's items (the loan first, then its installments) in place."""


def adopt(table: DynamoTable, *args: str) -> Result:
    return CliRunner().invoke(main, ["adopt", *args], obj={"table": table})


def _drop(index: int, name: str) -> Spoil:
    return lambda items: items[index].pop(name)


def _set(index: int, name: str, value: Raw) -> Spoil:
    return lambda items: items[index].__setitem__(name, value)


def _application(index: int, name: str, value: Raw | None) -> Spoil:
    def spoil(items: list[Raw]) -> None:
        first = items[index]["loc_applications"]["L"][0]["M"]
        if value is None:
            first.pop(name)
        else:
            first[name] = value

    return spoil


def _only_keys(items: list[Raw]) -> None:
    """A loan item the Go service had only begun to write: its keys and nothing else."""
    items[0] = {"PK": items[0]["PK"], "SK": items[0]["SK"]}


SPOILED: dict[str, Spoil] = {
    "loan without outstanding": _drop(0, "loc_outstanding_balance"),
    "loan without status": _drop(0, "loc_status"),
    "loan only keys": _only_keys,
    "loan total as a string": _set(0, "loc_total_amount", s("21000")),
    "loan outstanding as a string": _set(0, "loc_outstanding_balance", s("14513")),
    "loan total a fraction": _set(0, "loc_total_amount", n("21000.5")),
    "loan total NULL": _set(0, "loc_total_amount", null()),
    "loan status unknown": _set(0, "loc_status", s("FROZEN")),
    "loan status a number": _set(0, "loc_status", n(1)),
    "installment without total": _drop(1, "loc_total_amount"),
    "installment outstanding as a string": _set(1, "loc_outstanding_balance", s("0")),
    "installment status unknown": _set(3, "loc_status", s("PAUSED")),
    "installment due date garbled": _set(3, "loc_due_date", s("next tuesday")),
    "installment due date missing": _drop(3, "loc_due_date"),
    "installment applications a map": _set(1, "loc_applications", {"M": {}}),
    "installment applications hold a string": _set(1, "loc_applications", {"L": [s("x")]}),
    "application amount as a string": _application(1, "amount", s("5250")),
    "application amount missing": _application(1, "amount", None),
    "application payment id missing": _application(1, "payment_id", None),
    "application date garbled": _application(1, "payment_date", s("yesterday")),
    "installment total negative": _set(4, "loc_total_amount", n(-1)),
    "loan without installments": lambda items: items.__delitem__(slice(1, None)),
    "installment version garbled": _set(1, "loc_version", s("one")),
    "installments do not add up": _set(0, "loc_outstanding_balance", n(14_512)),
}


def spoiled_book(name: str) -> list[Raw]:
    items = go_loan_book(open_book("u-bad", "l-bad"))
    SPOILED[name](items)
    return items


def good_items() -> list[Raw]:
    return [
        *go_loan_book(open_book("u-1", "l-good")),
        go_loan_application(
            user_id="u-1", application_id="app-good", status="REJECTED", adverse_actions=["X"]
        ),
    ]


@pytest.mark.parametrize("name", sorted(SPOILED))
def test_a_malformed_go_loan_is_reported_by_key_and_the_rest_adopted(
    dynamodb: DynamoDBClient, table: DynamoTable, tmp_path: Path, name: str
) -> None:
    put_go_items(dynamodb, table.name, [*good_items(), *spoiled_book(name)])
    bad_before = [i for i in snapshot(dynamodb, table) if i["PK"]["S"] == "USER#u-bad"]
    report = tmp_path / "r.json"

    result = adopt(table, "--apply", "--report", str(report))

    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    written = json.loads(report.read_text())
    assert written["counts"]["adopted"] == 1, written
    unverified = [f for f in written["findings"] if f["outcome"] == "does not verify"]
    assert len(unverified) == 1, unverified
    (bad,) = unverified
    assert (bad["user_id"], bad["item_id"]) == ("u-bad", "l-bad")
    assert bad["detail"], bad
    assert "\n" not in bad["detail"]
    after = [i for i in snapshot(dynamodb, table) if i["PK"]["S"] == "USER#u-bad"]
    assert after == bad_before  # nothing half-adopted
    assert not [i for i in snapshot(dynamodb, table) if i["PK"]["S"] == "JOURNAL#l-bad"]
    summary = " ".join(result.output.split())
    assert "1 do not verify" in summary
    assert result.exit_code == 1  # a partial adoption (see the test of the exit status)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("installment status unknown", "'PAUSED' is not a valid InstallmentStatus"),
        ("installment due date garbled", "'next tuesday'"),
        ("installment due date missing", "a date must be a string, got None"),
        ("installment applications a map", "installment l-bad-i1"),
    ],
)
def test_an_item_the_codec_cannot_read_is_one_finding_not_a_traceback(
    dynamodb: DynamoDBClient, table: DynamoTable, name: str, why: str
) -> None:
    put_go_items(dynamodb, table.name, [*good_items(), *spoiled_book(name)])
    result = adopt(table, "--apply")
    assert result.exit_code == 1, result.exception  # a partial adoption, not a crash
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    report = adopt_table(table, today=TODAY, now=NOW, apply=True, segments=2)
    (bad,) = [f for f in report.findings if f.outcome is Outcome.UNVERIFIED]
    assert (bad.kind, bad.user_id, bad.item_id) == ("loan", "u-bad", "l-bad")
    assert why in bad.detail
    assert re.search(r"(INSTALLMENT#|installment )l-bad-i\d", bad.detail), bad.detail  # which one
    assert report.counts()["already served"] == 2  # l-good, adopted by the command


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda item: item.__setitem__("loc_status", s("MAYBE")), id="status"),
        pytest.param(
            lambda item: item.__setitem__("loc_installment_schedule", {"M": {}}),
            id="schedule a map",
        ),
        pytest.param(
            lambda item: item.__setitem__("loc_installment_schedule", {"L": [s("x")]}),
            id="schedule of strings",
        ),
        pytest.param(
            lambda item: item.__setitem__("loc_created_date", s("last week")),
            id="created garbled",
        ),
        pytest.param(lambda item: item.pop("loc_loan_amount"), id="no amount"),
    ],
)
def test_a_malformed_go_application_is_reported_by_key_and_the_rest_served(
    dynamodb: DynamoDBClient, table: DynamoTable, spoil: Callable[[Raw], None]
) -> None:
    item = go_loan_application(user_id="u-bad", application_id="app-bad", ttl=1_800_000_000)
    spoil(item)
    put_go_items(dynamodb, table.name, [*good_items(), item])
    report = adopt_table(table, today=TODAY, now=NOW, apply=True, segments=2)
    (bad,) = [f for f in report.findings if f.outcome is Outcome.UNVERIFIED]
    assert (bad.kind, bad.user_id, bad.item_id) == ("application", "u-bad", "app-bad")
    assert bad.detail
    assert report.counts()["adopted"] == 1


def test_the_exit_status_says_some_were_not_adopted(
    dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    put_go_items(dynamodb, table.name, [*good_items(), *spoiled_book("loan status unknown")])
    result = adopt(table, "--apply")
    assert result.exit_code == 1, result.output
