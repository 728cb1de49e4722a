"""The installment services' full lifecycle test, unchanged, on the DynamoDB unit of work.

The test body is imported as it is; only the `storage` fixture differs: the deployment
stores in a fresh DynamoDB table over HTTP (this folder's conftest), on its own clock.
"""

import pytest
from integration.support import on_table
from unit.services.loans.test_lifecycle import Storage, test_a_loan_from_application_to_payoff

from loc_adapters.dynamodb import DynamoTable

__all__ = ["test_a_loan_from_application_to_payoff"]


@pytest.fixture
def storage(table: DynamoTable) -> Storage:
    return lambda world: on_table(table, world.clock)
