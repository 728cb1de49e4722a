"""A draw the rail brings back after its statement, on the DynamoDB unit of work.

The in-memory test, imported as it is: the line, its refund due and its books, corrected,
must round-trip through the table and reconcile there.
"""

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import kept_in
from unit.services.lines.conftest import billed, drawn
from unit.services.lines.test_returned_draws import (
    test_a_paid_minimum_becomes_a_refund_when_the_draw_comes_back_after_its_statement,
)

from loc_adapters.dynamodb import DynamoTable

__all__ = [
    "billed",
    "drawn",
    "test_a_paid_minimum_becomes_a_refund_when_the_draw_comes_back_after_its_statement",
]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    return kept_in(table, Deployment.build(now=LINES_OPENED, seed=11))
