"""The installment services' full lifecycle test, unchanged, on the DynamoDB unit of work.

The test body is imported as it is; only the `new_uow` fixture differs (DynamoDB over
HTTP, from this folder's conftest) and the clock starts where the test expects it.
"""

import pytest
from unit.services.loans.harness import OPENED
from unit.services.loans.test_lifecycle import test_a_loan_from_application_to_payoff

from loc_adapters.memory import ManualClock

__all__ = ["test_a_loan_from_application_to_payoff"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPENED)
