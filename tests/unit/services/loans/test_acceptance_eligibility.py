"""Accepting an offer runs the rules of applying again, before any money moves.

An offer is made on the borrower's standing when they applied; the money goes out on
their standing when they accept. A disbursement whose outcome is unknown counts as a
loan being made: no other loan is offered or made until it is booked or abandoned.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import loan_offer, timing_out

from loc_core.applications import ApplicationStatus
from loc_core.errors import ExternalServiceError, LockNotAcquired, NotEligible
from loc_core.installment import LoanStatus
from loc_core.payments import Rail
from loc_core.ports import UnitOfWork
from loc_core.services.commands import AbandonExpiredApplication, CheckEligibility
from loc_core.services.loans.disbursement import application_lease_key


def loans_of(world: Deployment) -> list[LoanStatus]:
    with world.bus.get(UnitOfWork) as uow:
        return [loan.status for loan in uow.loans.for_user("user-1")]


def test_a_borrower_deactivated_after_the_approval_is_not_paid(world: Deployment) -> None:
    offer = world.apply_loan()
    world.users.add("user-1", active=False)  # closed, suspended or deceased since
    with pytest.raises(NotEligible, match="USER_INACTIVE") as refused:
        world.accept_loan(offer.application_id)
    assert refused.value.reasons == ("USER_INACTIVE",)
    assert world.sim.submitted == []
    assert loans_of(world) == []
    assert world.loan_application(offer.application_id).status is ApplicationStatus.APPROVED
    world.users.add("user-1")  # reactivated while the offer lives: it can be accepted
    assert world.accept_loan(offer.application_id).status is LoanStatus.OPEN


def test_no_second_loan_is_offered_while_a_disbursement_is_pending(world: Deployment) -> None:
    """A rail took the first offer's money but its answer was lost; the offer expired
    before the retry. Another offer now would make a second loan once the first books."""
    first = world.apply_loan()
    world.rails.handler = timing_out(world.sim, {Rail.PINLESS})
    with pytest.raises(ExternalServiceError):
        world.accept_loan(first.application_id)
    assert first.expires_at is not None
    world.clock.set(first.expires_at + dt.timedelta(minutes=1))
    world.bus.handle(AbandonExpiredApplication("user-1", first.application_id))

    assert world.bus.handle(CheckEligibility("user-1")).reasons == ("PENDING_DISBURSEMENT",)
    with pytest.raises(NotEligible, match="PENDING_DISBURSEMENT"):
        world.apply_loan(key="apply-2")

    loan = world.accept_loan(first.application_id)  # the retry books what the rail did
    assert loans_of(world) == [LoanStatus.OPEN]
    assert len(world.sim.submitted) == 1
    assert world.bus.handle(CheckEligibility("user-1")).reasons == ("OPEN_LOAN",)
    assert loan.application_id == first.application_id


def test_an_offer_is_not_disbursed_while_the_borrower_has_an_open_loan(
    world: Deployment,
) -> None:
    """Two live offers (one filed around the pre-check: a migrated offer, a race): the
    second acceptance finds the first loan and sends nothing."""
    loan = world.open_loan()
    with world.bus.get(UnitOfWork) as uow:
        uow.loan_applications.add(loan_offer(world.clock.now(), application_id="app-2"))
        uow.commit(actor="test", request_id="file-app-2")
    sent = len(world.sim.submitted)
    with pytest.raises(NotEligible, match="OPEN_LOAN"):
        world.accept_loan("app-2")
    assert len(world.sim.submitted) == sent
    assert loans_of(world) == [LoanStatus.OPEN]
    assert world.loan(loan.loan_id).status is LoanStatus.OPEN


def test_an_acceptance_waits_while_an_application_of_the_borrower_is_decided(
    world: Deployment,
) -> None:
    """Applying and accepting hold the same lease, so neither passes its checks on a
    read the other is about to make stale."""
    offer = world.apply_loan()
    world.lock.acquire(
        application_lease_key("user-1"), owner="apply-2", ttl=dt.timedelta(seconds=30)
    )
    with pytest.raises(LockNotAcquired):
        world.accept_loan(offer.application_id)
    assert world.sim.submitted == []
    world.clock.advance(dt.timedelta(seconds=31))
    assert world.accept_loan(offer.application_id).status is LoanStatus.OPEN
