"""A loan cancelled because its disbursement came back, on the DynamoDB unit of work.

The in-memory test, imported as it is: the cancelled installments must leave the table's
due-installment index, so for weeks no job collects or charges the loan.
"""

import pytest
from deployment import Deployment
from integration.support import on_table
from unit.services.loans.test_returned_disbursement import (
    loan,
    test_a_late_fee_is_taken_back_and_nothing_is_charged_afterwards,
)

from loc_adapters.dynamodb import DynamoTable

__all__ = ["loan", "test_a_late_fee_is_taken_back_and_nothing_is_charged_afterwards"]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    world = Deployment.build()
    world.users.add("user-1")
    for port, adapter in on_table(table, world.clock).items():
        world = world.using(port, adapter)
    return world
