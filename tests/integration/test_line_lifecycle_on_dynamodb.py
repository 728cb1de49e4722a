"""The credit-line services' full lifecycle test, unchanged, on the DynamoDB unit of work.

The test body is imported as it is; only the `world` fixture differs: the same deployment
with its unit of work on DynamoDB over HTTP (the table from this folder's conftest),
stamping items by the deployment's clock.
"""

import pytest
from deployment import LINES_OPENED, Deployment
from integration.support import on_table
from unit.services.lines.test_lifecycle import test_a_line_from_application_to_closing

from loc_adapters.dynamodb import DynamoTable

__all__ = ["test_a_line_from_application_to_closing"]


@pytest.fixture
def world(table: DynamoTable) -> Deployment:
    world = Deployment.build(now=LINES_OPENED, seed=11)
    for port, adapter in on_table(table, world.clock).items():
        world = world.using(port, adapter)
    world.repeats_jobs = False  # the in-memory run repeats every job; here once is the cost
    return world
