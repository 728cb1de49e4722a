"""The loan service tests run on one in-memory deployment each, driven through its bus."""

import datetime as dt

import pytest
from deployment import Deployment

from loc_adapters.memory import SimulatedUnderwriting
from loc_core.installment import Loan
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


FIRST_DUE = dt.date(2026, 1, 20)
"""The first installment's due date of the loan `Deployment.open_loan` makes."""


@pytest.fixture
def due_loan(world: Deployment) -> Loan:
    """user-1's loan, the clock at 10:00 on its first installment's due date (`FIRST_DUE`)."""
    made = world.open_loan()
    world.at(FIRST_DUE, 10)
    return made
