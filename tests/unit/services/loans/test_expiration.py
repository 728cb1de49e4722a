"""Offers that lapse unaccepted are kept as ABANDONED."""

import copy
import datetime as dt

import pytest
from deployment import Deployment

from loc_core.applications import ApplicationStatus
from loc_core.errors import InvalidTransition, NotFound
from loc_core.installment import LoanApplication
from loc_core.services.commands import (
    AbandonExpiredApplication,
    ApplyForLoan,
    ExpirationOutcome,
)
from loc_core.services.messagebus import MessageBus


def expire(
    world: Deployment, application_id: str, removed: LoanApplication | None = None
) -> ExpirationOutcome:
    return world.bus.handle(AbandonExpiredApplication("user-1", application_id, removed=removed))


def test_an_expired_offer_is_saved_as_abandoned_once(world: Deployment) -> None:
    offer = world.apply_loan()
    world.clock.advance(dt.timedelta(hours=24))
    assert expire(world, offer.application_id) is ExpirationOutcome.ABANDONED
    assert expire(world, offer.application_id) is ExpirationOutcome.ALREADY_ABANDONED
    stored = world.loan_application(offer.application_id)
    assert (stored.status, stored.expires_at, stored.version) == (
        ApplicationStatus.ABANDONED,
        None,
        2,
    )
    assert world.audit_processes("application", offer.application_id) == [
        "UNDERWRITING",
        "EXPIRATION",
    ]


def test_an_offer_the_ttl_already_deleted_is_written_back_from_the_streams_image(
    world: Deployment,
) -> None:
    offer = world.apply_loan()
    image = copy.deepcopy(world.loan_application(offer.application_id))
    world.database.remove(("loan_application", "user-1", offer.application_id))  # the TTL
    world.clock.advance(dt.timedelta(hours=25))
    assert expire(world, offer.application_id, image) is ExpirationOutcome.ABANDONED
    assert expire(world, offer.application_id, image) is ExpirationOutcome.ALREADY_ABANDONED
    assert world.loan_application(offer.application_id).status is ApplicationStatus.ABANDONED
    assert image.status is ApplicationStatus.APPROVED  # the caller's image is untouched
    with pytest.raises(NotFound):
        expire(world, "app-gone")
    with pytest.raises(NotFound, match="image is of application"):
        expire(world, "app-gone", image)


def test_an_offer_that_became_a_loan_is_left_alone(world: Deployment) -> None:
    offer = world.apply_loan()
    world.accept_loan(offer.application_id)
    world.clock.advance(dt.timedelta(hours=24))
    assert expire(world, offer.application_id) is ExpirationOutcome.CONVERTED
    assert world.loan_application(offer.application_id).status is ApplicationStatus.APPROVED


def test_a_rejection_has_no_offer_to_abandon(world: Deployment, rejecting: MessageBus) -> None:
    rejected = rejecting.handle(ApplyForLoan("user-1", 30_000, "apply-1"))
    assert expire(world, rejected.application_id) is ExpirationOutcome.NOT_AN_OFFER


def test_a_live_offer_is_not_abandoned(world: Deployment) -> None:
    offer = world.apply_loan()
    with pytest.raises(InvalidTransition, match="is live until"):
        expire(world, offer.application_id)
    assert world.loan_application(offer.application_id).status is ApplicationStatus.APPROVED
