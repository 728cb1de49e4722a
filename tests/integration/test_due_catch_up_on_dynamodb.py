"""The due job's catch-up of a missed due date, unchanged, on the DynamoDB table.

The test bodies are imported as they are; only the fixtures differ: the unit of work
(the lines' due-date index, GSI2, queried for the missed day), the leases and the
idempotency records that mark the days the due job ran are in the table, and the second
process is another unit of work on it.
"""

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import kept_in, second_process
from unit.services.lines.conftest import billed, drawn
from unit.services.lines.test_due_catch_up import (
    due_job_ran_before,
    test_a_due_date_the_job_missed_is_debited_by_its_next_run_before_the_overdue_job,
    test_a_due_run_cut_short_leaves_its_day_to_the_next_run,
    test_two_runs_of_one_day_catching_up_debit_a_missed_due_date_once,
)

from loc_adapters.dynamodb import DynamoTable
from loc_core.services.messagebus import MessageBus

__all__ = [
    "billed",
    "drawn",
    "due_job_ran_before",
    "test_a_due_date_the_job_missed_is_debited_by_its_next_run_before_the_overdue_job",
    "test_a_due_run_cut_short_leaves_its_day_to_the_next_run",
    "test_two_runs_of_one_day_catching_up_debit_a_missed_due_date_once",
]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    return kept_in(table, Deployment.build(now=LINES_OPENED, seed=11), records=True)


@pytest.fixture(name="second_process")
def other_process(world: Deployment, table: DynamoTable) -> MessageBus:
    return second_process(world, table)
