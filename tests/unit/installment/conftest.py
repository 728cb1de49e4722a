"""Fixtures for the installment tests: the docs' example loan, $300 at a $15 fee in 6."""

import pytest

from loc_core.installment import InstallmentProduct, Loan
from loc_core.ledger import Ledger
from loc_core.testing.installment import make_loan


@pytest.fixture
def product() -> InstallmentProduct:
    return InstallmentProduct()


@pytest.fixture
def loan() -> Loan:
    """An OPEN loan whose disbursement is already drained from the outbox."""
    made = make_loan()
    made.outbox.drain()
    return made


@pytest.fixture
def booked() -> tuple[Loan, Ledger]:
    """The example loan with a ledger that holds its disbursement entry."""
    made = make_loan()
    return made, Ledger(made.outbox.drain().entries)
