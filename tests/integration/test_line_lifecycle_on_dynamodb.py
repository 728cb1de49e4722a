"""The credit-line services' full lifecycle test, unchanged, on the DynamoDB unit of work.

The test body is imported as it is; only the `new_uow` fixture differs (DynamoDB over
HTTP, from this folder's conftest) and the clock starts where the test expects it.
"""

import pytest
from unit.services.lines.test_lifecycle import test_a_line_from_application_to_closing
from unit.services.lines.world import OPENED, UowFactory, World, build_world

from loc_adapters.memory import ManualClock

__all__ = ["test_a_line_from_application_to_closing"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPENED)


@pytest.fixture
def world(clock: ManualClock, new_uow: UowFactory) -> World:
    return build_world(clock, new_uow)
