"""Reconciliation on DynamoDB: journal items hand-edited in the console are reported and
alerted, never raised, and the table is left exactly as found."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from deployment import LINES_OPENED, Deployment
from integration.support import on_table

from loc_adapters.dynamodb import DynamoTable
from loc_core.ports import Severity
from loc_core.services.commands import ReconcileLine, ReconcileLoan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]


def items(dynamodb: DynamoDBClient, table: DynamoTable) -> list[Item]:
    """Every item of the table, as stored, in key order."""
    found: list[Item] = []
    pages = dynamodb.get_paginator("scan").paginate(TableName=table.name, ConsistentRead=True)
    for page in pages:
        found.extend(page["Items"])
    return sorted(found, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def entry_item(dynamodb: DynamoDBClient, table: DynamoTable, owner: str, suffix: str) -> Item:
    """The journal item of `owner` whose entry id ends with `suffix`."""
    (found,) = [
        item
        for item in items(dynamodb, table)
        if item["PK"]["S"] == f"JOURNAL#{owner}" and item["SK"]["S"].endswith(suffix)
    ]
    return found


def posting(item: Item, account: str) -> Item:
    found: list[Item] = [
        p["M"] for p in item["loc_postings"]["L"] if p["M"]["account"]["S"] == account
    ]
    (one,) = found
    return one


def audited(
    world: Deployment,
    dynamodb: DynamoDBClient,
    table: DynamoTable,
    reconcile: Callable[[], Any],
) -> Any:
    """Reconcile once: the table is byte-for-byte as it was, and one CRITICAL alert."""
    before, alerts = items(dynamodb, table), len(world.alerts())
    result = reconcile()
    assert items(dynamodb, table) == before
    assert [a.severity for a in world.alerts()[alerts:]] == [Severity.CRITICAL]
    assert not result.matches
    return result


def test_hand_edited_loan_journal_items_are_reported_not_raised(
    dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    world = Deployment.build()
    world.users.add("user-1")
    world.bus = world.bus.replacing(on_table(table, world.clock))
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 12))
    world.pay_loan(loan, 2_000)

    def reconcile() -> Any:
        return world.bus.handle(ReconcileLoan("user-1", loan.loan_id))

    assert reconcile().matches
    paid = entry_item(dynamodb, table, loan.loan_id, ":apply")
    entry_id = paid["loc_entry_id"]["S"]

    # the payment's item copied in the console: a new key, the same entry
    twin = {**copy.deepcopy(paid), "SK": {"S": f"ENTRY#{entry_id}:copy"}}
    dynamodb.put_item(TableName=table.name, Item=twin)
    result = audited(world, dynamodb, table, reconcile)
    assert f"entry {entry_id} is stored 2 times" in result.problems
    assert "the ledger holds 27500, the loan says 29500" in result.problems
    dynamodb.delete_item(TableName=table.name, Key={"PK": twin["PK"], "SK": twin["SK"]})

    # one posting's amount edited: the entry no longer balances, the store cannot decode it
    edited = copy.deepcopy(paid)
    posting(edited, f"receivable:{loan.loan_id}:principal")["amount"] = {"N": "1700"}
    dynamodb.put_item(TableName=table.name, Item=edited)
    result = audited(world, dynamodb, table, reconcile)
    assert result.ledger_outstanding is None
    assert result.problems[-1].startswith("the journal cannot be read: ")
    assert "debits 2000 != credits 1950" in result.problems[-1]

    # the clearing leg moved to funding: balanced, receivables right, the cash wrong
    edited = copy.deepcopy(paid)
    posting(edited, "asset:cash:clearing")["account"] = {"S": "asset:cash:funding"}
    dynamodb.put_item(TableName=table.name, Item=edited)
    result = audited(world, dynamodb, table, reconcile)
    assert result.accounts == {
        "asset:cash:clearing": (2_000, 0),
        "asset:cash:funding": (-30_000, -28_000),
    }

    dynamodb.put_item(TableName=table.name, Item=paid)  # restored: clean again
    assert reconcile().matches


def test_a_hand_edited_line_journal_item_is_reported_not_raised(
    dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    world = Deployment.build(now=LINES_OPENED)
    world.bus = world.bus.replacing(on_table(table, world.clock))
    line = world.open_line("user-1")
    world.draw(line, 40_000)

    def reconcile() -> Any:
        return world.bus.handle(ReconcileLine("user-1", line.line_id))

    assert reconcile().matches
    drawn = entry_item(dynamodb, table, line.line_id, ":disburse")
    edited = copy.deepcopy(drawn)
    posting(edited, "asset:cash:funding")["amount"] = {"N": "4000"}
    dynamodb.put_item(TableName=table.name, Item=edited)
    result = audited(world, dynamodb, table, reconcile)
    (problem,) = result.problems
    assert "debits 40000 != credits 4000" in problem
    assert world.alerts()[-1].details["problems"] == problem

    dynamodb.put_item(TableName=table.name, Item=drawn)
    assert reconcile().matches
