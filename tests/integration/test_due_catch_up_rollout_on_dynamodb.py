"""The due job's catch-up takes no day before this release's first run for missed, on DynamoDB.

The test bodies are imported as they are; only the `world` fixture differs: the unit of
work, the leases and the idempotency records (the days' marks, the catching-up-since
record) are in the table.
"""

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import kept_in
from unit.services.lines.conftest import billed, drawn
from unit.services.lines.test_due_catch_up_rollout import (
    test_a_past_date_run_before_the_first_marking_run_presents_no_earlier_due_date,
    test_an_operators_past_date_run_first_after_the_deploy_takes_no_older_run_for_missed,
)

from loc_adapters.dynamodb import DynamoTable

__all__ = [
    "billed",
    "drawn",
    "test_a_past_date_run_before_the_first_marking_run_presents_no_earlier_due_date",
    "test_an_operators_past_date_run_first_after_the_deploy_takes_no_older_run_for_missed",
]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    return kept_in(table, Deployment.build(now=LINES_OPENED, seed=11), records=True)
