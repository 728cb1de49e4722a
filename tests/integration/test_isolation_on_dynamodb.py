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
from hypothesis import HealthCheck, example, given, settings
from unit.services.test_isolation import Storage, look_alikes, no_read_crosses_users

from loc_adapters.dynamodb import DynamoUnitOfWork, create_table
from loc_core.ports import UnitOfWork

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def storage(dynamodb: DynamoDBClient) -> Iterator[Storage]:
    """A fresh table for each deployment built; all dropped when the test ends."""
    names: list[str] = []

    def fresh(world: Deployment) -> dict[type, object]:
        names.append(f"iso-{uuid.uuid4().hex[:12]}-loc-service")
        return {UnitOfWork: DynamoUnitOfWork(create_table(dynamodb, names[-1]), clock=world.clock)}

    yield fresh
    for name in names:
        dynamodb.delete_table(TableName=name)


@settings(max_examples=2, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=look_alikes())
@example(users=("alice", "alice2"))
@example(users=("us-east-1:4f9a", "us-east-1:4f9a.b"))
def test_no_read_path_returns_one_users_records_to_another_on_dynamodb(
    storage: Storage, users: tuple[str, str]
) -> None:
    no_read_crosses_users(storage, *users)
