"""The eligibility pre-check and applying for a loan."""

import datetime as dt

import pytest
from unit.services.loans.harness import World

from loc_adapters.memory import SimulatedUnderwriting
from loc_core.applications import ApplicationStatus
from loc_core.errors import (
    ExternalServiceError,
    IdempotencyConflict,
    InvalidAmount,
    LockNotAcquired,
    NotEligible,
    NotFound,
)
from loc_core.ports import LineDecision, LoanDecision, lock_key
from loc_core.services.loans import CheckEligibility, check_loan_eligibility


@pytest.fixture
def world() -> World:
    made = World.in_memory()
    made.users.add("user-1")
    return made


def reasons(world: World, user_id: str = "user-1") -> tuple[str, ...]:
    return check_loan_eligibility(
        CheckEligibility(user_id), uow=world.new_uow(), users=world.users, clock=world.clock
    ).reasons


def test_a_new_active_user_is_eligible_however_often_asked(world: World) -> None:
    answers = [
        check_loan_eligibility(
            CheckEligibility("user-1"), uow=world.new_uow(), users=world.users, clock=world.clock
        )
        for _ in range(2)
    ]
    assert [(a.eligible, a.reasons) for a in answers] == [(True, ()), (True, ())]
    assert world.database is not None
    assert world.database.commits == 0


def test_the_pre_check_names_every_failed_rule(world: World) -> None:
    world.users.add("user-2", active=False)
    assert reasons(world, "user-2") == ("USER_INACTIVE",)
    application = world.apply()
    assert reasons(world) == ("LIVE_APPLICATION",)
    world.accept(application.application_id)
    assert reasons(world) == ("OPEN_LOAN",)
    with pytest.raises(NotFound, match="no user user-9"):
        reasons(world, "user-9")


def test_an_offer_that_expired_no_longer_blocks_a_new_application(world: World) -> None:
    world.apply()
    world.clock.advance(dt.timedelta(hours=24))
    assert reasons(world) == ()


def test_an_approved_application_is_an_offer_with_a_loan_number(world: World) -> None:
    application = world.apply(amount=30_000)
    assert application.status is ApplicationStatus.APPROVED
    assert (application.loan_number, application.loan_amount, application.origination_fee) == (
        "FM-000001",
        30_000,
        1_500,  # 5 % from the simulated underwriting
    )
    assert application.expires_at == world.clock.now() + dt.timedelta(hours=24)
    assert len(application.proposed_schedule) == 6
    stored = world.application(application.application_id)
    assert (stored.status, stored.version) == (ApplicationStatus.APPROVED, 1)
    assert world.audit_processes("application", application.application_id) == ["UNDERWRITING"]


def test_a_rejection_is_filed_with_its_reasons_and_uses_no_loan_number(world: World) -> None:
    world.underwriting = SimulatedUnderwriting(loan_approval_probability=0)
    application = world.apply()
    assert application.status is ApplicationStatus.REJECTED
    assert [a.code for a in application.adverse_actions] == ["CREDIT_SCORE"]
    assert application.loan_number is None
    assert world.ids.next_loan_number() == "FM-000001"  # the counter was not touched
    assert reasons(world) == ()  # a rejection is no live offer


def test_an_ineligible_borrower_is_refused_and_nothing_is_filed(world: World) -> None:
    world.users.add("user-1", active=False)
    with pytest.raises(NotEligible) as refused:
        world.apply()
    assert refused.value.reasons == ("USER_INACTIVE",)
    with world.new_uow() as uow:
        assert uow.loan_applications.for_user("user-1") == []
    assert world.metrics.count("loc.loans.applications.not_eligible") == 1


def test_applying_twice_with_one_key_files_one_application(world: World) -> None:
    first = world.apply(key="k-1")
    again = world.apply(key="k-1")
    assert again.application_id == first.application_id
    with world.new_uow() as uow:
        assert len(uow.loan_applications.for_user("user-1")) == 1
    assert world.ids.next_loan_number() == "FM-000002"
    with pytest.raises(IdempotencyConflict):
        world.apply(amount=40_000, key="k-1")


def test_a_second_key_is_refused_by_the_pre_check_while_the_offer_lives(world: World) -> None:
    world.apply(key="k-1")
    with pytest.raises(NotEligible, match="LIVE_APPLICATION"):
        world.apply(key="k-2")


def test_a_concurrent_application_of_the_same_borrower_waits_for_the_lease(world: World) -> None:
    world.lock.acquire(
        lock_key("loan-application", user_id="user-1", item_id="installment"),
        owner="another-request",
        ttl=dt.timedelta(seconds=30),
    )
    with pytest.raises(LockNotAcquired):
        world.apply(key="k-1")
    world.clock.advance(dt.timedelta(seconds=31))
    assert world.apply(key="k-1").status is ApplicationStatus.APPROVED  # the key can retry


def test_an_approval_without_a_fee_is_not_trusted(world: World) -> None:
    class Careless:
        def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
            del user_id  # approves anyone
            return LoanDecision(approved=True, loan_amount=requested_amount)

        def decide_line(self, user_id: str) -> LineDecision:
            del user_id
            return LineDecision(approved=False)

    world.underwriting = Careless()
    with pytest.raises(ExternalServiceError, match="without an origination fee"):
        world.apply()
    with world.new_uow() as uow:
        assert uow.loan_applications.for_user("user-1") == []


def test_a_bad_amount_is_refused_before_anything(world: World) -> None:
    with pytest.raises(InvalidAmount):
        world.apply(amount=0)
