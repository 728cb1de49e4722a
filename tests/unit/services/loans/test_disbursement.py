"""Accepting an offer: the money goes out exactly once and the loan is booked with it."""

import datetime as dt

import attrs
import pytest
from unit.services.loans.harness import CommitDuring, CrashingUnitOfWork, RailsDuring, World

from loc_adapters.memory import RailBehaviour, SimulatedUnderwriting
from loc_core.applications import ApplicationStatus
from loc_core.errors import (
    ApplicationExpired,
    ApplicationNotApproved,
    DomainError,
    ExternalServiceError,
    NotFound,
    RailDeclined,
)
from loc_core.installment import LoanApplication, LoanStatus
from loc_core.payments import Direction, Rail
from loc_core.ports import PaymentRails, Severity, TransferRequest, TransferResult
from loc_core.services.loans import SettlementHandling, disbursement_key


@pytest.fixture
def world() -> World:
    made = World.in_memory()
    made.users.add("user-1")
    return made


@pytest.fixture
def offer(world: World) -> LoanApplication:
    return world.apply()


def nothing_booked(world: World, offer: LoanApplication) -> None:
    with world.new_uow() as uow:
        assert uow.loans.for_user("user-1") == []
        application = uow.loan_applications.get("user-1", offer.application_id)
    assert (application.status, application.loan_id) == (ApplicationStatus.APPROVED, None)
    assert world.sent() == []


def test_accepting_disburses_by_pinless_and_books_the_loan(
    world: World, offer: LoanApplication
) -> None:
    loan = world.accept(offer.application_id)
    assert (loan.status, loan.outstanding_balance, loan.amount_disbursed) == (
        LoanStatus.OPEN,
        31_500,
        30_000,
    )
    assert (loan.disbursement_method, loan.disbursement_date) == (Rail.PINLESS, world.today)
    assert (loan.confirmation_id, loan.account_last_four, loan.loan_number) == (
        "pinless-00000001",
        "6789",
        "FM-000001",
    )
    [transfer] = world.rails.submitted
    assert (transfer.direction, transfer.amount, transfer.idempotency_key) == (
        Direction.CREDIT,
        30_000,
        disbursement_key("user-1", offer.application_id, Rail.PINLESS),
    )
    assert world.application(offer.application_id).loan_id == loan.loan_id
    assert [e.entry_id for e in world.ledger(loan.loan_id)] == [f"{loan.loan_id}:disburse"]
    assert world.sent() == ["loan_disbursed"]
    assert world.audit_processes("loan", loan.loan_id) == ["CREATION"]
    assert world.audit_processes("application", offer.application_id) == [
        "UNDERWRITING",
        "CREATION",
    ]


def test_accepting_twice_disburses_once_and_returns_the_same_loan(
    world: World, offer: LoanApplication
) -> None:
    first = world.accept(offer.application_id)
    again = world.accept(offer.application_id)
    assert again.loan_id == first.loan_id
    assert len(world.rails.submitted) == 1
    assert world.sent() == ["loan_disbursed"]


def test_ach_disburses_when_pinless_is_down(world: World, offer: LoanApplication) -> None:
    world.rails.down = {Rail.PINLESS}
    loan = world.accept(offer.application_id)
    assert loan.disbursement_method is Rail.ACH
    assert [t.rail for t in world.rails.submitted] == [Rail.ACH]
    assert world.alerts() == []  # one rail down is what the fallback is for


def test_when_every_rail_declines_nothing_is_booked(world: World, offer: LoanApplication) -> None:
    world.rails.behaviour = RailBehaviour(decline_probability=1)
    with pytest.raises(RailDeclined, match="every rail declined"):
        world.accept(offer.application_id)
    nothing_booked(world, offer)
    assert world.alerts() == []


def test_when_every_rail_is_down_operations_hear_and_the_borrower_can_retry(
    world: World, offer: LoanApplication
) -> None:
    world.rails.down = {Rail.PINLESS, Rail.ACH}
    with pytest.raises(ExternalServiceError, match="no rail accepted"):
        world.accept(offer.application_id)
    nothing_booked(world, offer)
    [alert] = world.alerter.posted
    assert alert.severity is Severity.CRITICAL
    assert (
        alert.title
        == f"every payment rail is down: disbursement of application {offer.application_id}"
    )
    world.rails.down = set()
    assert world.accept(offer.application_id).status is LoanStatus.OPEN
    assert len(world.rails.submitted) == 1


def test_an_expired_or_rejected_offer_sends_nothing(world: World, offer: LoanApplication) -> None:
    world.clock.advance(dt.timedelta(hours=24))
    with pytest.raises(ApplicationExpired):
        world.accept(offer.application_id)
    world.users.add("user-2")
    world.underwriting = SimulatedUnderwriting(loan_approval_probability=0)
    rejected = world.apply("user-2", key="k-2")
    with pytest.raises(ApplicationNotApproved):
        world.accept(rejected.application_id, "user-2")
    with pytest.raises(NotFound):
        world.accept("app-unknown")
    assert world.rails.submitted == []


def test_what_origination_would_refuse_is_refused_before_any_money_moves(
    world: World, offer: LoanApplication
) -> None:
    world.users.add("user-1", account_last_four="12")
    with pytest.raises(DomainError, match="account_last_four"):
        world.accept(offer.application_id)
    assert world.rails.submitted == []


def test_a_crash_between_the_rail_and_the_commit_is_finished_by_the_retry(
    world: World, offer: LoanApplication
) -> None:
    assert world.database is not None
    with pytest.raises(RuntimeError, match="died"):
        world.accept(offer.application_id, uow=CrashingUnitOfWork(world.database))
    assert world.alerts() == ["money moved but not booked: loan disbursement"]
    nothing_booked(world, offer)
    loan = world.accept(offer.application_id)
    assert loan.confirmation_id == "pinless-00000001"  # the first transfer, booked
    assert len(world.rails.submitted) == 1
    assert world.sent() == ["loan_disbursed"]


def test_a_disbursement_the_retry_cannot_book_is_caught_at_settlement(
    world: World, offer: LoanApplication
) -> None:
    assert world.database is not None
    with pytest.raises(RuntimeError):
        world.accept(offer.application_id, uow=CrashingUnitOfWork(world.database))
    world.clock.advance(dt.timedelta(hours=24))  # the offer lapses before anyone retries
    with pytest.raises(ApplicationExpired):
        world.accept(offer.application_id)
    [event] = world.rails.due_events()
    with pytest.raises(NotFound):
        world.settle(event)
    assert world.alerts()[-1] == "disbursement without a loan"


def test_a_concurrent_acceptance_that_booked_first_is_returned(
    world: World, offer: LoanApplication
) -> None:
    others: list[str] = []
    racing = RailsDuring(
        world.rails, during=lambda _: others.append(world.accept(offer.application_id).loan_id)
    )
    loan = world.accept(offer.application_id, rails=racing)
    assert others == [loan.loan_id]
    assert len(world.rails.submitted) == 1
    assert world.sent() == ["loan_disbursed"]


def test_losing_the_commit_race_returns_the_winners_loan(
    world: World, offer: LoanApplication
) -> None:
    assert world.database is not None
    winner: list[str] = []
    uow = CommitDuring(
        world.database, during=lambda: winner.append(world.accept(offer.application_id).loan_id)
    )
    loan = world.accept(offer.application_id, uow=uow)
    assert [loan.loan_id] == winner
    assert len(world.rails.submitted) == 1
    with world.new_uow() as check:
        assert len(check.loans.for_user("user-1")) == 1
    assert world.sent() == ["loan_disbursed"]


def test_the_disbursements_settlement_event_books_nothing(
    world: World, offer: LoanApplication
) -> None:
    loan = world.accept(offer.application_id)
    world.clock.advance(dt.timedelta(days=1))
    [event] = world.rails.due_events()
    assert world.settle(event) is SettlementHandling.DISBURSEMENT
    assert world.settle(event) is SettlementHandling.DISBURSEMENT
    assert world.loan(loan.loan_id).version == 1
    assert world.alerts() == []


@attrs.define
class TimingOutRails:
    """Rails where `rail` takes the first transfer, then fails as if the answer was lost."""

    rails: PaymentRails
    rail: Rail
    calls: list[Rail] = attrs.field(factory=list)
    fired: bool = False

    def submit(self, request: TransferRequest) -> TransferResult:
        self.calls.append(request.rail)
        result = self.rails.submit(request)
        if request.rail is self.rail and not self.fired:
            self.fired = True
            raise ExternalServiceError(f"{request.rail.value} timed out after sending")
        return result


def test_an_unknown_rail_outcome_stops_and_the_retry_disburses_once(
    world: World, offer: LoanApplication
) -> None:
    timing_out = TimingOutRails(world.rails, Rail.PINLESS)
    with pytest.raises(ExternalServiceError, match="timed out after sending"):
        world.accept(offer.application_id, rails=timing_out)
    assert timing_out.calls == [Rail.PINLESS]  # ACH was never offered the money
    nothing_booked(world, offer)
    loan = world.accept(offer.application_id, rails=timing_out)
    assert loan.disbursement_method is Rail.PINLESS
    assert len(world.rails.submitted) == 1
