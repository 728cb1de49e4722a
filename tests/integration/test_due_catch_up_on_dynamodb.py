"""The due job's catch-up of a missed due date, unchanged, on the DynamoDB table.

The test body is imported as it is; only the `world` fixture differs: the unit of work
(the lines' due-date index, GSI2, queried for the missed day), the leases and the
idempotency records that mark the days the due job ran are in the table.
"""

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import on_table
from unit.services.lines.test_due_catch_up import (
    due_job_ran_before,
    test_a_due_date_the_job_missed_is_debited_by_its_next_run_before_the_overdue_job,
)

from loc_adapters.dynamodb import DynamoIdempotencyStore, DynamoTable
from loc_core.ports import IdempotencyStore

__all__ = [
    "due_job_ran_before",
    "test_a_due_date_the_job_missed_is_debited_by_its_next_run_before_the_overdue_job",
]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    world = Deployment.build(now=LINES_OPENED, seed=11)
    stored = {**on_table(table, world.clock), IdempotencyStore: DynamoIdempotencyStore(table)}
    for port, adapter in stored.items():
        world = world.using(port, adapter)
    return world
