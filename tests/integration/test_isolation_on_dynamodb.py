"""Reads belong to their owner on DynamoDB: the isolation property, unchanged, on moto.

Each example stores in a fresh table (look-alike ids of one example must not meet the
records of another); the example count is small, the table-per-example is the cost.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from deployment import Deployment
from integration.support import on_table
from unit.services.test_isolation import Storage, isolation_property

from loc_adapters.dynamodb import create_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def storage(dynamodb: DynamoDBClient) -> Iterator[Storage]:
    """A fresh table for each deployment built; all dropped when the test ends."""
    names: list[str] = []

    def fresh(world: Deployment) -> dict[type, object]:
        names.append(f"iso-{uuid.uuid4().hex[:12]}-loc-service")
        return on_table(create_table(dynamodb, names[-1]), world.clock)

    yield fresh
    for name in names:
        dynamodb.delete_table(TableName=name)


test_no_read_path_returns_one_users_records_to_another_on_dynamodb = isolation_property(1)
"""Each example builds a table of its own: one generated pair and the three fixed ones (the
in-memory property runs 100 generated pairs through the same reads)."""
