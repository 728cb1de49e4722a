"""Audit trails on DynamoDB beyond the contract: index keys, sharding, items without them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs
import pytest
from contracts.audit import AuditLogContract
from contracts.uow import UowFactory, store_loan

from loc_adapters.dynamodb import DynamoTable, create_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class TestShardedAuditLog(AuditLogContract):
    """The contract on a table with 3 shards, read 2 items a request."""

    @pytest.fixture
    def table(self, dynamodb: DynamoDBClient) -> Iterator[DynamoTable]:
        name = f"test-{uuid.uuid4().hex[:12]}-loc-service"
        made = create_table(dynamodb, name, shards=3)
        yield attrs.evolve(made, page_size=2)
        dynamodb.delete_table(TableName=name)


def _audit_items(dynamodb: DynamoDBClient, table: DynamoTable, pk: str) -> list[dict[str, str]]:
    found = dynamodb.query(
        TableName=table.name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]
    return [{k: v["S"] for k, v in item.items() if "S" in v} for item in found]


def test_an_audit_record_is_indexed_by_borrower_and_process(
    new_uow: UowFactory, table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    store_loan(new_uow)
    (item,) = _audit_items(dynamodb, table, "AUDIT#loan#loan-1")
    assert item["GSI1PK"] == "AUDIT#USER#user-1"
    assert item["GSI2PK"] == "AUDIT#PROCESS#CREATION"
    assert item["GSI1SK"] == item["GSI2SK"] == f"2026-01-05T16:00:00.000000Z#{item['SK']}"
    assert re.fullmatch(r"RECORD#0000000001#0000#[0-9a-f]{32}", item["SK"])


def test_a_record_written_without_index_keys_still_reads_by_entity(
    new_uow: UowFactory, table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    """Records written before the indexes existed are in the entity's trail only."""
    store_loan(new_uow)
    (item,) = _audit_items(dynamodb, table, "AUDIT#loan#loan-1")
    dynamodb.update_item(
        TableName=table.name,
        Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        UpdateExpression="REMOVE GSI1PK, GSI1SK, GSI2PK, GSI2SK",
    )
    with new_uow() as uow:
        (record,) = uow.audit.records_for("loan", "loan-1")
        page = uow.audit.entity_page("loan", "loan-1", cursor=None, limit=5)
        borrower = uow.audit.user_page("user-1", cursor=None, limit=100)
    assert page.records == (record,)
    assert record.record_id not in {found.record_id for found in borrower.records}
    assert len(borrower.records) == 6  # the installments' creation records
