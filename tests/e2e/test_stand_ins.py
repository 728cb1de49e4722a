"""A deployment on the real table never stands a simulation in for a missing service.

Simulated underwriting approves by a seeded draw, simulated rails report money moved
that never moved, an empty user list knows no borrower: on the memory backend they are
the embedded default, on dynamodb a missing service's first call fails, naming the
variable to set, and nothing is stored (``LOC_STAND_INS``, docs/configuration.md).
"""

from __future__ import annotations

import pytest

from loc_adapters.memory import InMemoryUsers, SimulatedUnderwriting
from loc_core.errors import NotFound, RailUnavailable, ServiceNotConfigured
from loc_core.ports import Underwriting, Users
from loc_core.services.commands import AcceptOffer, ApplyForLoan, ListLoanApplications, ListLoans
from loc_core.services.messagebus import MessageBus
from loc_entrypoints.bootstrap import Settings, bootstrap


def _deployment(
    environ: dict[str, str], configured: dict[type, object] | None = None
) -> MessageBus:
    """The deployment `environ` describes, with `configured` services standing in for
    ones whose settings would point at real servers."""
    return bootstrap(Settings.from_env(environ), overrides=configured)


@pytest.fixture
def real(lambda_env: dict[str, str]) -> dict[str, str]:
    """The moto deployment as a real one is configured: no stand-ins asked for."""
    return {name: value for name, value in lambda_env.items() if name != "LOC_STAND_INS"}


@pytest.fixture
def known() -> InMemoryUsers:
    people = InMemoryUsers()
    people.add("user-1", active=True)
    return people


def test_without_the_user_service_an_application_fails_naming_its_variable(
    real: dict[str, str],
) -> None:
    bus = _deployment(real)
    with pytest.raises(ServiceNotConfigured, match="LOC_USERS_BASE_URL"):
        bus.handle(ApplyForLoan("user-1", 30_000, "key-1"))
    assert bus.handle(ListLoanApplications("user-1")) == []


def test_without_underwriting_no_application_is_decided_by_a_draw(
    real: dict[str, str], known: InMemoryUsers
) -> None:
    bus = _deployment(real, {Users: known})
    with pytest.raises(ServiceNotConfigured, match="LOC_UNDERWRITING_BASE_URL"):
        bus.handle(ApplyForLoan("user-1", 30_000, "key-1"))
    assert bus.handle(ListLoanApplications("user-1")) == []


def test_without_payengine_no_loan_is_disbursed_by_simulated_rails(
    real: dict[str, str], known: InMemoryUsers
) -> None:
    approving = SimulatedUnderwriting(loan_approval_probability=1)
    bus = _deployment(real, {Users: known, Underwriting: approving})
    offer = bus.handle(ApplyForLoan("user-1", 30_000, "key-1"))
    with pytest.raises(RailUnavailable, match="not sent: set LOC_PAYENGINE_BASE_URL"):
        bus.handle(AcceptOffer("user-1", offer.application_id))
    assert bus.handle(ListLoans("user-1")) == []


def test_a_test_stack_may_ask_for_the_simulated_services(lambda_env: dict[str, str]) -> None:
    bus = _deployment(lambda_env)  # LOC_STAND_INS=simulated: the empty user list
    with pytest.raises(NotFound, match="no user user-1"):
        bus.handle(ApplyForLoan("user-1", 30_000, "key-1"))
