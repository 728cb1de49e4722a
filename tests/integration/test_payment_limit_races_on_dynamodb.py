"""Two manual payments racing for a loan's last place, on DynamoDB.

The test body is imported as it is; only the fixtures differ: the loan, its intents and
its payment lease are in the table, and the second process is another unit of work on it.
"""

import pytest
from deployment import Deployment
from integration.support import kept_in, second_process
from unit.services.loans.test_payment_limit_races import (
    BOUND,
    test_two_manual_payments_racing_for_the_loans_last_place_take_it_once,
)

from loc_adapters.dynamodb import DynamoTable
from loc_core.installment import InstallmentProduct
from loc_core.services.messagebus import MessageBus

__all__ = ["test_two_manual_payments_racing_for_the_loans_last_place_take_it_once"]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    world = Deployment.build(overrides={InstallmentProduct: BOUND})
    world.users.add("user-1")
    return kept_in(table, world)


@pytest.fixture(name="second_process")
def other_process(world: Deployment, table: DynamoTable) -> MessageBus:
    return second_process(world, table)
