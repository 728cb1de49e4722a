"""A line's billing-error disputes and late fee waivers on DynamoDB: items of their own.

The in-memory tests of the dispute bound, a dispute credited by a correction and a waiver
are imported as they are, over a deployment whose unit of work is on the table. Then
the rolling deploy: a line item the earlier release wrote, its disputes and waivers on
it, is read with every one of them, and its next save moves them to child items and
takes them off the line item, losing none.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import on_table
from unit.services.lines.conftest import billed, drawn
from unit.services.lines.test_billing_disputes import (
    test_a_late_fee_found_in_error_is_taken_off_and_the_line_is_not_past_due_meanwhile,
)
from unit.services.lines.test_dispute_limit import (
    BOUND,
    STATEMENT,
    test_a_notice_past_the_open_bound_is_refused_alerted_and_changes_nothing,
)
from unit.services.lines.test_fee_waiver import (
    late,
    test_an_unpaid_fee_waived_is_owed_no_more_and_never_charged_again,
    waiver,
)

from loc_adapters.dynamodb import DynamoTable
from loc_adapters.dynamodb import _codecs as codecs
from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._convert import Item, converter
from loc_adapters.dynamodb._table import deserialize, serialize
from loc_core.creditline import CreditLine, CreditLineProduct, DisputedCharge, DisputeStatus
from loc_core.services.commands import DisputeBillingError, ResolveBillingDispute

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "billed",
    "drawn",
    "late",
    "test_a_late_fee_found_in_error_is_taken_off_and_the_line_is_not_past_due_meanwhile",
    "test_a_notice_past_the_open_bound_is_refused_alerted_and_changes_nothing",
    "test_an_unpaid_fee_waived_is_owed_no_more_and_never_charged_again",
]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    world = Deployment.build(now=LINES_OPENED, seed=11, overrides={CreditLineProduct: BOUND})
    for port, adapter in on_table(table, world.clock).items():
        world = world.using(port, adapter)
    return world


def _items(dynamodb: DynamoDBClient, table: DynamoTable, line: CreditLine) -> list[Item]:
    """The line's item and its children, as stored."""
    root = keys.line_sk(line.line_id)
    found = dynamodb.query(
        TableName=table.name,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :root AND :bound",
        ExpressionAttributeValues=serialize(
            {":pk": keys.user_pk(line.user_id), ":root": root, ":bound": f"{root}#STATEMENT"}
        ),
        ConsistentRead=True,
    )
    return [deserialize(item) for item in found["Items"]]


def _as_the_earlier_release_wrote(
    dynamodb: DynamoDBClient, table: DynamoTable, line: CreditLine
) -> None:
    """Store `line` as the release before child records did: its disputes and waivers as
    maps on the line item (what its `Shape` wrote: each field unstructured), no children."""
    for item in _items(dynamodb, table, line):
        kind = str(item["SK"]).split("#")[2:3]
        if kind in (["DISPUTE"], ["FEEWAIVER"]):
            key = {"PK": item["PK"], "SK": item["SK"]}
            dynamodb.delete_item(TableName=table.name, Key=serialize(key))
        elif not kind:
            item["loc_disputes"] = converter.unstructure(line.disputes)
            item["loc_late_fee_waivers"] = converter.unstructure(line.late_fee_waivers)
            dynamodb.put_item(TableName=table.name, Item=serialize(item))


def test_a_line_the_earlier_release_wrote_loses_no_dispute_or_waiver_on_its_next_save(
    world: Deployment, late: CreditLine, table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    """Two disputes and a waiver, stored as the earlier release did; a dispute resolved."""
    world.at(dt.date(2026, 4, 30), 10)
    world.bus.handle(waiver(late))
    draw_id = next(iter(world.line(late).draws))
    ids = [
        world.bus.handle(
            DisputeBillingError(
                late.user_id,
                late.line_id,
                STATEMENT,
                DisputedCharge.DRAW,
                1,
                "one cent too much",
                key,
                draw_id,
            )
        ).dispute_id
        for key in ("cent-1", "cent-2")
    ]
    before = world.line(late)
    assert (len(before.disputes), len(before.late_fee_waivers)) == (2, 1)
    _as_the_earlier_release_wrote(dynamodb, table, before)
    assert world.line(late) == before  # read from the line item

    resolved = ResolveBillingDispute(
        late.user_id, late.line_id, ids[0], error_found=False, explanation="charged right"
    )
    world.bus.handle(resolved)

    after = world.line(late)
    assert set(after.disputes) == set(ids)
    assert after.disputes[ids[0]].status is DisputeStatus.RESOLVED_NO_ERROR
    assert after.late_fee_waivers == before.late_fee_waivers
    stored = {str(item["SK"]).split("#", 2)[-1]: item for item in _items(dynamodb, table, late)}
    root = stored.pop(late.line_id)
    assert (root["loc_disputes"], root["loc_late_fee_waivers"]) == (
        codecs.CHILDREN_MARK,
        codecs.CHILDREN_MARK,
    )
    assert sorted(key.split("#")[0] for key in stored if not key.startswith(("DRAW", "PAY"))) == [
        "DISPUTE",
        "DISPUTE",
        "FEEWAIVER",
    ]
