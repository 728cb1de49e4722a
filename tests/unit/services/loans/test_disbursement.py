"""Accepting an offer: the money goes out exactly once and the loan is booked with it."""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import Crash, CrashingUnitOfWork, InterferingUnitOfWork, meanwhile, timing_out

from loc_adapters.memory import RailBehaviour
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
from loc_core.ports import Severity, UnitOfWork
from loc_core.services.commands import (
    AbandonExpiredApplication,
    AcceptOffer,
    ApplyForLoan,
    ExpirationOutcome,
    SettlementHandling,
)
from loc_core.services.loans import disbursement_key
from loc_core.services.messagebus import MessageBus


@pytest.fixture
def offer(world: Deployment) -> LoanApplication:
    return world.apply_loan()


def nothing_booked(world: Deployment, offer: LoanApplication) -> None:
    with world.bus.get(UnitOfWork) as uow:
        assert uow.loans.for_user("user-1") == []
    application = world.loan_application(offer.application_id)
    assert (application.status, application.loan_id) == (ApplicationStatus.APPROVED, None)
    assert world.sent() == []


def crash_accepting(world: Deployment, offer: LoanApplication) -> None:
    """Accept the offer in a process that dies after the rail, before its commit."""
    with pytest.raises(Crash, match="died"):
        world.crashing_uow(lambda db: CrashingUnitOfWork(db, on_commit=2)).handle(
            AcceptOffer("user-1", offer.application_id)
        )


def test_accepting_disburses_by_pinless_and_books_the_loan(
    world: Deployment, offer: LoanApplication
) -> None:
    loan = world.accept_loan(offer.application_id)
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
    [transfer] = world.sim.submitted
    assert (transfer.direction, transfer.amount, transfer.idempotency_key) == (
        Direction.CREDIT,
        30_000,
        disbursement_key("user-1", offer.application_id, Rail.PINLESS),
    )
    assert world.loan_application(offer.application_id).loan_id == loan.loan_id
    assert [e.entry_id for e in world.ledger(loan.loan_id)] == [f"{loan.loan_id}:disburse"]
    assert world.sent() == ["loan_disbursed"]
    assert world.audit_processes("loan", loan.loan_id) == ["CREATION"]
    assert world.audit_processes("application", offer.application_id) == [
        "UNDERWRITING",
        "CREATION",
    ]


def test_accepting_twice_disburses_once_and_returns_the_same_loan(
    world: Deployment, offer: LoanApplication
) -> None:
    first = world.accept_loan(offer.application_id)
    again = world.accept_loan(offer.application_id)
    assert again.loan_id == first.loan_id
    assert len(world.sim.submitted) == 1
    assert world.sent() == ["loan_disbursed"]


def test_ach_disburses_when_pinless_is_down(world: Deployment, offer: LoanApplication) -> None:
    world.sim.down = {Rail.PINLESS}
    loan = world.accept_loan(offer.application_id)
    assert loan.disbursement_method is Rail.ACH
    assert [t.rail for t in world.sim.submitted] == [Rail.ACH]
    assert world.alerts() == []  # one rail down is what the fallback is for


def test_when_every_rail_declines_nothing_is_booked(
    world: Deployment, offer: LoanApplication
) -> None:
    world.sim.behaviour = RailBehaviour(decline_probability=1)
    with pytest.raises(RailDeclined, match="every rail declined"):
        world.accept_loan(offer.application_id)
    nothing_booked(world, offer)
    assert world.alerts() == []


def test_when_every_rail_is_down_operations_hear_and_the_borrower_can_retry(
    world: Deployment, offer: LoanApplication
) -> None:
    world.sim.down = {Rail.PINLESS, Rail.ACH}
    with pytest.raises(ExternalServiceError, match="no rail accepted"):
        world.accept_loan(offer.application_id)
    nothing_booked(world, offer)
    [alert] = world.alerts()
    assert alert.severity is Severity.CRITICAL
    assert (
        alert.title
        == f"every payment rail is down: disbursement of application {offer.application_id}"
    )
    world.sim.down = set()
    assert world.accept_loan(offer.application_id).status is LoanStatus.OPEN
    assert len(world.sim.submitted) == 1


def test_an_expired_or_rejected_offer_sends_nothing(
    world: Deployment, offer: LoanApplication, rejecting: MessageBus
) -> None:
    world.clock.advance(dt.timedelta(hours=24))
    with pytest.raises(ApplicationExpired):
        world.accept_loan(offer.application_id)
    world.users.add("user-2")
    rejected = rejecting.handle(ApplyForLoan("user-2", 30_000, "k-2"))
    with pytest.raises(ApplicationNotApproved):
        world.accept_loan(rejected.application_id, "user-2")
    with pytest.raises(NotFound):
        world.accept_loan("app-unknown")
    assert world.sim.submitted == []


def test_what_origination_would_refuse_is_refused_before_any_money_moves(
    world: Deployment, offer: LoanApplication
) -> None:
    world.users.add("user-1", account_last_four="12")
    with pytest.raises(DomainError, match="account_last_four"):
        world.accept_loan(offer.application_id)
    assert world.sim.submitted == []


def test_a_crash_between_the_rail_and_the_commit_is_finished_by_the_retry(
    world: Deployment, offer: LoanApplication
) -> None:
    crash_accepting(world, offer)
    assert world.alert_titles() == ["money moved but not booked: loan disbursement"]
    nothing_booked(world, offer)
    loan = world.accept_loan(offer.application_id)
    assert loan.confirmation_id == "pinless-00000001"  # the first transfer, booked
    assert len(world.sim.submitted) == 1
    assert world.sent() == ["loan_disbursed"]


def test_a_disbursement_whose_offer_lapsed_before_the_retry_is_booked_anyway(
    world: Deployment, offer: LoanApplication
) -> None:
    crash_accepting(world, offer)
    world.clock.advance(dt.timedelta(hours=24))  # the offer lapses before anyone retries
    [event] = world.sim.due_events()
    assert world.settle(event) is SettlementHandling.HELD  # kept, not dropped
    loan = world.accept_loan(offer.application_id)  # the borrower has the money: booked
    assert (loan.amount_disbursed, loan.confirmation_id) == (30_000, "pinless-00000001")
    assert len(world.sim.submitted) == 1
    assert world.sent() == ["loan_disbursed"]
    assert "disbursement without a loan" not in world.alert_titles()


def test_a_concurrent_acceptance_that_booked_first_is_returned(
    world: Deployment, offer: LoanApplication
) -> None:
    others: list[str] = []
    accept = AcceptOffer("user-1", offer.application_id)
    world.rails.handler = meanwhile(
        world.sim, lambda _: others.append(world.another_process().handle(accept).loan_id)
    )
    loan = world.accept_loan(offer.application_id)
    assert others == [loan.loan_id]
    assert len(world.sim.submitted) == 1
    assert world.sent() == ["loan_disbursed"]


def test_losing_the_commit_race_returns_the_winners_loan(
    world: Deployment, offer: LoanApplication
) -> None:
    winner: list[str] = []
    racing = InterferingUnitOfWork(
        world.database, lambda: winner.append(world.accept_loan(offer.application_id).loan_id)
    )
    loan = world.replacing(UnitOfWork, racing).handle(AcceptOffer("user-1", offer.application_id))
    assert [loan.loan_id] == winner
    assert len(world.sim.submitted) == 1
    with world.bus.get(UnitOfWork) as check:
        assert len(check.loans.for_user("user-1")) == 1
    assert world.sent() == ["loan_disbursed"]


def test_the_disbursements_settlement_event_books_nothing(
    world: Deployment, offer: LoanApplication
) -> None:
    loan = world.accept_loan(offer.application_id)
    world.clock.advance(dt.timedelta(days=1))
    [event] = world.sim.due_events()
    assert world.settle(event) is SettlementHandling.DISBURSEMENT
    assert world.settle(event) is SettlementHandling.DISBURSEMENT
    assert world.loan(loan.loan_id).version == 1
    assert world.alerts() == []


def test_an_unknown_rail_outcome_stops_and_the_retry_disburses_once(
    world: Deployment, offer: LoanApplication
) -> None:
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError, match="timed out after the request was sent"):
        world.accept_loan(offer.application_id)
    assert world.rails.rails_asked == [Rail.PINLESS]  # ACH was never offered the money
    nothing_booked(world, offer)
    loan = world.accept_loan(offer.application_id)
    assert loan.disbursement_method is Rail.PINLESS
    assert len(world.sim.submitted) == 1


def test_an_offer_that_expires_while_its_money_moves_is_converted_anyway(
    world: Deployment, offer: LoanApplication
) -> None:
    """Money that moved wins: the TTL handler abandons the offer between the rail's
    answer and the booking, and the acceptance still books the loan the borrower was paid."""
    expired = AbandonExpiredApplication("user-1", offer.application_id)

    def offer_expires(_request: object) -> None:
        assert offer.expires_at is not None
        world.clock.set(offer.expires_at + dt.timedelta(minutes=1))
        assert world.another_process().handle(expired) is ExpirationOutcome.ABANDONED

    world.rails.handler = meanwhile(world.sim, offer_expires)
    loan = world.bus.handle(AcceptOffer("user-1", offer.application_id))
    assert world.loan(loan.loan_id).status is LoanStatus.OPEN
    application = world.loan_application(offer.application_id)
    assert (application.status, application.loan_id) == (ApplicationStatus.APPROVED, loan.loan_id)
    assert world.audit("application", offer.application_id)[-1].change.reason == (
        f"converted to loan {loan.loan_id} after its offer expired: "
        "the disbursement had already been paid"
    )
    assert len(world.sim.submitted) == 1
    assert world.alerts(Severity.CRITICAL) == []
    assert world.bus.handle(expired) is ExpirationOutcome.CONVERTED  # a late TTL delete
