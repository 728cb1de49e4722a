"""The loan service tests run on one in-memory deployment each, driven through its bus."""

import pytest
from deployment import Deployment

from loc_adapters.memory import SimulatedUnderwriting
from loc_core.ports import Underwriting
from loc_core.services.messagebus import MessageBus


@pytest.fixture
def world() -> Deployment:
    """A fresh deployment on 5 January 2026 where user-1 is an active borrower."""
    made = Deployment.build()
    made.users.add("user-1")
    return made


@pytest.fixture
def rejecting(world: Deployment) -> MessageBus:
    """The world's bus, with underwriting that turns every loan application down."""
    return world.replacing(Underwriting, SimulatedUnderwriting(loan_approval_probability=0))
