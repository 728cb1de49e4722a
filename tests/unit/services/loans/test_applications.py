"""The eligibility pre-check and applying for a loan."""

import datetime as dt

import pytest
from deployment import Deployment

from loc_core.applications import ApplicationStatus
from loc_core.errors import (
    ExternalServiceError,
    IdempotencyConflict,
    InvalidRequest,
    LockNotAcquired,
    NotEligible,
    NotFound,
)
from loc_core.installment import LoanApplication
from loc_core.ports import IdGenerator, LineDecision, LoanDecision, Underwriting, UnitOfWork
from loc_core.services.commands import ApplyForLoan, CheckEligibility, Eligibility
from loc_core.services.kit import lock_key
from loc_core.services.messagebus import MessageBus


def check(world: Deployment, user_id: str = "user-1") -> Eligibility:
    return world.bus.handle(CheckEligibility(user_id))


def reasons(world: Deployment, user_id: str = "user-1") -> tuple[str, ...]:
    return check(world, user_id).reasons


def next_loan_number(world: Deployment) -> str:
    return world.bus.get(IdGenerator).next_loan_number()


def applications(world: Deployment) -> list[LoanApplication]:
    """What user-1 has filed."""
    with world.bus.get(UnitOfWork) as uow:
        return uow.loan_applications.for_user("user-1")


def test_a_new_active_user_is_eligible_however_often_asked(world: Deployment) -> None:
    answers = [check(world) for _ in range(2)]
    assert [(a.eligible, a.reasons) for a in answers] == [(True, ()), (True, ())]
    assert world.database.commits == 0


def test_the_pre_check_names_every_failed_rule(world: Deployment) -> None:
    world.users.add("user-2", active=False)
    assert reasons(world, "user-2") == ("USER_INACTIVE",)
    application = world.apply_loan()
    assert reasons(world) == ("LIVE_APPLICATION",)
    world.accept_loan(application.application_id)
    assert reasons(world) == ("OPEN_LOAN",)
    with pytest.raises(NotFound, match="no user user-9"):
        reasons(world, "user-9")


def test_an_offer_that_expired_no_longer_blocks_a_new_application(world: Deployment) -> None:
    world.apply_loan()
    world.clock.advance(dt.timedelta(hours=24))
    assert reasons(world) == ()


def test_an_approved_application_is_an_offer_with_a_loan_number(world: Deployment) -> None:
    application = world.apply_loan(amount=30_000)
    assert application.status is ApplicationStatus.APPROVED
    assert (application.loan_number, application.loan_amount, application.origination_fee) == (
        "FM-000001",
        30_000,
        1_500,  # 5 % from the simulated underwriting
    )
    assert application.expires_at == world.clock.now() + dt.timedelta(hours=24)
    assert len(application.proposed_schedule) == 6
    stored = world.loan_application(application.application_id)
    assert (stored.status, stored.version) == (ApplicationStatus.APPROVED, 1)
    assert world.audit_processes("application", application.application_id) == ["UNDERWRITING"]


def test_a_rejection_is_filed_with_its_reasons_and_uses_no_loan_number(
    world: Deployment, rejecting: MessageBus
) -> None:
    application = rejecting.handle(ApplyForLoan("user-1", 30_000, "apply-1"))
    assert application.status is ApplicationStatus.REJECTED
    assert [a.code for a in application.adverse_actions] == ["CREDIT_SCORE"]
    assert application.loan_number is None
    assert next_loan_number(world) == "FM-000001"  # the counter was not touched
    assert reasons(world) == ()  # a rejection is no live offer


def test_applying_twice_with_one_key_files_one_application(world: Deployment) -> None:
    first = world.apply_loan(key="k-1")
    again = world.apply_loan(key="k-1")
    assert again.application_id == first.application_id
    assert len(applications(world)) == 1
    assert next_loan_number(world) == "FM-000002"
    with pytest.raises(IdempotencyConflict):
        world.apply_loan(amount=40_000, key="k-1")


def test_a_second_key_is_refused_by_the_pre_check_while_the_offer_lives(
    world: Deployment,
) -> None:
    world.apply_loan(key="k-1")
    with pytest.raises(NotEligible, match="LIVE_APPLICATION"):
        world.apply_loan(key="k-2")


def test_a_concurrent_application_of_the_same_borrower_waits_for_the_lease(
    world: Deployment,
) -> None:
    world.lock.acquire(
        lock_key("loan-application", user_id="user-1", item_id="installment"),
        owner="another-request",
        ttl=dt.timedelta(seconds=30),
    )
    with pytest.raises(LockNotAcquired):
        world.apply_loan(key="k-1")
    world.clock.advance(dt.timedelta(seconds=31))
    assert world.apply_loan(key="k-1").status is ApplicationStatus.APPROVED  # the key can retry


def test_an_approval_without_a_fee_is_not_trusted(world: Deployment) -> None:
    class Careless:
        def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
            del user_id  # approves anyone
            return LoanDecision(approved=True, loan_amount=requested_amount)

        def decide_line(self, user_id: str) -> LineDecision:
            del user_id
            return LineDecision(approved=False)

    with pytest.raises(ExternalServiceError, match="without an origination fee"):
        world.replacing(Underwriting, Careless()).handle(ApplyForLoan("user-1", 30_000, "k-1"))
    assert applications(world) == []


def test_a_bad_amount_is_refused_before_anything(world: Deployment) -> None:
    with pytest.raises(InvalidRequest, match="requested_amount"):
        world.apply_loan(amount=0)
