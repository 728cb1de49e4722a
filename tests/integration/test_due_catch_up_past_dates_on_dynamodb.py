"""An operator's ``--date`` run presents no finished day again, on DynamoDB.

The test body is imported as it is; only the `world` fixture differs: the days' marks
are idempotency records in the table, where moto, like DynamoDB before its TTL sweep,
still holds a mark past its time.
"""

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import kept_in
from unit.services.lines.test_due_catch_up_past_dates import (
    PRODUCT,
    test_a_past_date_run_does_not_present_a_finished_day_whose_mark_is_gone,
)

from loc_adapters.dynamodb import DynamoTable
from loc_core.creditline import CreditLineProduct

__all__ = ["test_a_past_date_run_does_not_present_a_finished_day_whose_mark_is_gone"]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    built = Deployment.build(now=LINES_OPENED, seed=11, overrides={CreditLineProduct: PRODUCT})
    return kept_in(table, built, records=True)
