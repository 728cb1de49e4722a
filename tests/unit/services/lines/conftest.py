"""Fixtures for the credit-line service tests: one in-memory deployment on the lines' day.

`world` is the deployment the tests drive through its bus; another store's suite (the
DynamoDB lifecycle test) overrides it with a deployment over that store. `drawn` and
`billed` are the line most tests start from, before and after its first bill;
`second_process` is another process on the same store, for a request that runs while a
first one is in flight.
"""

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment

from loc_core.creditline import CreditLine
from loc_core.services.messagebus import MessageBus


@pytest.fixture
def world() -> Deployment:
    """A deployment at 2026-03-05 14:00, rails seeded 11: lines opened now bill on the 5th."""
    return Deployment.build(now=LINES_OPENED, seed=11)


@pytest.fixture
def drawn(world: Deployment) -> CreditLine:
    """A $1,000.00 line opened 2026-03-05 (cycle day 5) with $400.00 drawn on 03-12."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    return line


@pytest.fixture
def billed(world: Deployment, drawn: CreditLine) -> CreditLine:
    """`drawn`, billed 04-05 08:00: 40,000 principal and 789 interest owed, 1,989 due 04-27."""
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    return drawn


@pytest.fixture
def second_process(world: Deployment) -> MessageBus:
    """Another process on the world's store (its own unit of work), sharing its leases."""
    return world.another_process()
