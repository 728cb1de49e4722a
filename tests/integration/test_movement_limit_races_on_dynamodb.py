"""The cycle's bound on a borrower's movements under concurrent requests, on DynamoDB.

The test bodies are imported as they are; only the fixtures differ: the line, its
intents and leases are in the table (a draw's hold is a transaction conditioned on the
line's version), and the second process is another unit of work on it.
"""

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import kept_in, second_process
from unit.services.lines.conftest import drawn
from unit.services.lines.test_movement_limit_races import (
    BOUND,
    test_a_payment_in_flight_while_a_draw_takes_the_last_place_is_booked_and_nothing_after,
    test_of_two_draws_racing_for_the_cycles_last_place_one_is_refused,
)

from loc_adapters.dynamodb import DynamoTable
from loc_core.creditline import CreditLineProduct
from loc_core.services.messagebus import MessageBus

__all__ = [
    "drawn",
    "test_a_payment_in_flight_while_a_draw_takes_the_last_place_is_booked_and_nothing_after",
    "test_of_two_draws_racing_for_the_cycles_last_place_one_is_refused",
]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    return kept_in(
        table, Deployment.build(now=LINES_OPENED, seed=11, overrides={CreditLineProduct: BOUND})
    )


@pytest.fixture(name="second_process")
def other_process(world: Deployment, table: DynamoTable) -> MessageBus:
    return second_process(world, table)
