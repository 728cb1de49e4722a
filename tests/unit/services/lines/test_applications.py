import datetime as dt
from decimal import Decimal

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import InterferingUnitOfWork, line_offer, opened_line

from loc_adapters.memory import SimulatedUnderwriting
from loc_core.applications import AdverseAction, ApplicationStatus
from loc_core.creditline import CreditLineApplication, CreditLineProduct, LineStatus
from loc_core.errors import (
    ApplicationExpired,
    ApplicationNotApproved,
    ConcurrencyConflict,
    ExternalServiceError,
    InvalidTransition,
    LockNotAcquired,
    NotEligible,
    NotFound,
)
from loc_core.ports import LineDecision, LoanDecision, Underwriting, UnitOfWork
from loc_core.services.kit import lock_key
from loc_core.services.lines import line_eligibility

DAY = dt.timedelta(days=1)


def rejecting() -> SimulatedUnderwriting:
    """Underwriting that turns every line down."""
    return SimulatedUnderwriting(line_approval_probability=0)


class DownUnderwriting:
    def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
        raise ExternalServiceError(f"underwriting unreachable ({user_id}, {requested_amount})")

    def decide_line(self, user_id: str) -> LineDecision:
        raise ExternalServiceError(f"underwriting unreachable ({user_id})")


def applications(world: Deployment, user_id: str = "user-1") -> list[CreditLineApplication]:
    with world.bus.get(UnitOfWork) as uow:
        return uow.line_applications.for_user(user_id)


def test_an_approved_application_is_stored_with_its_offer_and_audited(world: Deployment) -> None:
    world.users.add("user-1")
    application = world.apply_line()
    assert application.status is ApplicationStatus.APPROVED
    assert (application.credit_limit, application.apr, application.minimum_payment_percent) == (
        100_000,
        Decimal("29.99"),
        Decimal(3),
    )
    assert application.expires_at == LINES_OPENED + dt.timedelta(hours=24)
    assert applications(world) == [application]
    (record,) = world.audit("application", application.application_id)
    assert (record.actor, record.request_id, record.change.process) == ("api", "apply-1", "OPEN")


def test_applying_twice_with_one_key_stores_one_application(world: Deployment) -> None:
    world.users.add("user-1")
    underwriting = SimulatedUnderwriting(line_approval_probability=1)
    world = world.using(Underwriting, underwriting)
    first = world.apply_line()
    again = world.apply_line()
    assert again == first
    assert len(applications(world)) == 1
    assert underwriting._decisions == 1  # underwriting was asked once


def test_a_rejection_is_stored_with_its_adverse_actions(world: Deployment) -> None:
    world.users.add("user-1")
    world = world.using(Underwriting, rejecting())
    application = world.apply_line()
    assert application.status is ApplicationStatus.REJECTED
    assert [a.code for a in application.adverse_actions] == ["CREDIT_SCORE"]
    assert world.apply_line() == application
    assert applications(world) == [application]


def test_a_live_offer_blocks_a_second_application_until_it_expires(world: Deployment) -> None:
    world.users.add("user-1")
    world.apply_line()
    with pytest.raises(NotEligible) as refused:
        world.apply_line(key="apply-2")
    assert refused.value.reasons == ("LIVE_APPLICATION",)
    world.clock.advance(dt.timedelta(hours=24))
    assert world.apply_line(key="apply-2").status is ApplicationStatus.APPROVED


def test_an_open_line_blocks_a_new_application(world: Deployment) -> None:
    world.open_line()
    with pytest.raises(NotEligible) as refused:
        world.apply_line(key="apply-2")
    assert refused.value.reasons == ("OPEN_LINE",)


def test_eligibility_reports_every_failed_rule_at_once() -> None:
    offer = line_offer(LINES_OPENED, user_id="u")
    defaulted = opened_line(offer)
    defaulted.status = LineStatus.DEFAULTED
    live = line_offer(LINES_OPENED, application_id="app-2", user_id="u")
    reasons = line_eligibility(
        user_active=False, lines=[defaulted], applications=[offer, live], now=LINES_OPENED
    )
    assert reasons == ("USER_INACTIVE", "DEFAULTED_LINE", "LIVE_APPLICATION")
    assert (
        line_eligibility(user_active=True, lines=[], applications=[live], now=live.expires_at) == ()
    )


def test_an_application_decided_elsewhere_holds_the_lease(world: Deployment) -> None:
    world.users.add("user-1")
    key = lock_key("line-application", user_id="user-1", item_id="user-1")
    world.lock.acquire(key, owner="other-worker", ttl=dt.timedelta(seconds=60))
    with pytest.raises(LockNotAcquired):
        world.apply_line()
    assert applications(world) == []
    world.clock.advance(dt.timedelta(minutes=2))
    assert world.apply_line().status is ApplicationStatus.APPROVED


def test_an_underwriting_outage_stores_nothing_and_the_key_can_be_retried(
    world: Deployment,
) -> None:
    world.users.add("user-1")
    with pytest.raises(ExternalServiceError):
        world.using(Underwriting, DownUnderwriting()).apply_line()
    assert applications(world) == []
    assert world.apply_line().status is ApplicationStatus.APPROVED


def test_an_unknown_user_is_not_found(world: Deployment) -> None:
    with pytest.raises(NotFound, match="no user user-9"):
        world.apply_line("user-9")


# --- accepting the offer --------------------------------------------------------------


def test_accepting_opens_an_active_line_and_a_repeat_returns_it(world: Deployment) -> None:
    world.users.add("user-1")
    application = world.apply_line()
    world.clock.advance(dt.timedelta(minutes=5))
    line = world.accept_line(application.application_id)
    assert (line.status, line.credit_limit, line.cycle_day, line.opened_on) == (
        LineStatus.ACTIVE,
        100_000,
        5,
        dt.date(2026, 3, 5),
    )
    assert line.version == 1
    stored = applications(world)[0]
    assert (stored.line_id, stored.converted_at) == (line.line_id, world.clock.now())
    world.clock.advance(2 * DAY)  # the offer has expired since, the line stays the answer
    assert world.accept_line(application.application_id) == line
    with world.bus.get(UnitOfWork) as uow:
        assert uow.lines.for_user("user-1") == [line]
    assert world.audit_processes("line", line.line_id) == ["OPEN"]


def test_the_borrower_may_choose_the_cycle_day(world: Deployment) -> None:
    world.users.add("user-1")
    application = world.apply_line()
    assert world.accept_line(application.application_id, cycle_day=20).cycle_day == 20


@pytest.mark.parametrize(
    ("prepare", "error"),
    [
        ("expire", ApplicationExpired),
        ("reject", ApplicationNotApproved),
        ("abandon", ApplicationNotApproved),
    ],
)
def test_an_offer_that_cannot_be_accepted_opens_no_line(
    world: Deployment, prepare: str, error: type[Exception]
) -> None:
    world.users.add("user-1")
    if prepare == "reject":
        world = world.using(Underwriting, rejecting())
    application = world.apply_line()
    if prepare in {"expire", "abandon"}:
        world.clock.advance(DAY)
    if prepare == "abandon":
        world.expire_line_offer(application.application_id)
    with pytest.raises(error):
        world.accept_line(application.application_id)
    with world.bus.get(UnitOfWork) as uow:
        assert uow.lines.for_user("user-1") == []


def test_a_user_deactivated_since_the_offer_cannot_accept_it(world: Deployment) -> None:
    world.users.add("user-1")
    application = world.apply_line()
    world.users.add("user-1", active=False)
    with pytest.raises(NotEligible, match="USER_INACTIVE"):
        world.accept_line(application.application_id)


def test_two_acceptances_racing_open_one_line(world: Deployment) -> None:
    world.users.add("user-1")
    application = world.apply_line()
    winner = []
    racing = InterferingUnitOfWork(
        world.database, lambda: winner.append(world.accept_line(application.application_id))
    )
    with pytest.raises(ConcurrencyConflict):
        world.using(UnitOfWork, racing).accept_line(application.application_id)
    assert world.accept_line(application.application_id) == winner[0]
    with world.bus.get(UnitOfWork) as uow:
        assert [line.line_id for line in uow.lines.for_user("user-1")] == [winner[0].line_id]


# --- abandoning an expired offer ------------------------------------------------------


def test_an_expired_offer_is_abandoned_once(world: Deployment) -> None:
    world.users.add("user-1")
    application = world.apply_line()
    with pytest.raises(InvalidTransition, match="live until"):
        world.expire_line_offer(application.application_id)
    world.clock.advance(DAY)
    assert world.expire_line_offer(application.application_id) is True
    assert world.expire_line_offer(application.application_id) is False
    (stored,) = applications(world)
    assert stored.status is ApplicationStatus.ABANDONED
    processes = world.audit_processes("application", stored.application_id)
    assert processes == ["OPEN", "EXPIRATION"]


def test_converted_and_rejected_applications_are_left_as_they_are(world: Deployment) -> None:
    line = world.open_line()
    world.clock.advance(DAY)
    assert world.expire_line_offer(line.application_id) is False
    assert applications(world)[0].line_id == line.line_id
    world.users.add("user-2")
    rejected = world.using(Underwriting, rejecting()).apply_line("user-2", key="k")
    world.clock.advance(DAY)
    assert world.expire_line_offer(rejected.application_id, "user-2") is False
    assert applications(world, "user-2")[0].status is ApplicationStatus.REJECTED


def test_an_offer_the_ttl_removed_is_written_back_abandoned(world: Deployment) -> None:
    gone = line_offer(
        LINES_OPENED, application_id="app-gone", apr=Decimal(25), minimum_payment_percent=Decimal(2)
    )
    gone.outbox.drain()
    world.clock.advance(DAY)
    with pytest.raises(NotFound):
        world.expire_line_offer("app-gone")
    assert world.expire_line_offer("app-gone", removed=gone) is True
    assert world.expire_line_offer("app-gone", removed=gone) is False
    (stored,) = applications(world)
    assert (stored.status, stored.credit_limit) == (ApplicationStatus.ABANDONED, 50_000)
    assert gone.status is ApplicationStatus.APPROVED  # the event's image is not changed


def test_a_removed_rejection_is_written_back_unchanged(world: Deployment) -> None:
    rejected = CreditLineApplication.rejected(
        application_id="app-no",
        user_id="user-1",
        created_at=LINES_OPENED,
        adverse_actions=(AdverseAction("INCOME", "Income could not be verified"),),
        product=CreditLineProduct(),
    )
    rejected.outbox.drain()
    world.clock.advance(DAY)
    assert world.expire_line_offer("app-no", removed=rejected) is False
    (stored,) = applications(world)
    assert stored.adverse_actions == rejected.adverse_actions
    assert world.expire_line_offer("app-no", removed=rejected) is False
    assert applications(world)[0].version == 1
