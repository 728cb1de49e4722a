"""Offers that lapse unaccepted are kept as ABANDONED."""

import copy
import datetime as dt

import pytest
from unit.services.loans.harness import World

from loc_adapters.memory import SimulatedUnderwriting
from loc_core.applications import ApplicationStatus
from loc_core.errors import InvalidTransition, NotFound
from loc_core.installment import LoanApplication
from loc_core.services.loans import (
    AbandonExpiredApplication,
    ExpirationOutcome,
    abandon_expired_application,
)


@pytest.fixture
def world() -> World:
    made = World.in_memory()
    made.users.add("user-1")
    return made


def expire(
    world: World, application_id: str, image: LoanApplication | None = None
) -> ExpirationOutcome:
    return abandon_expired_application(
        AbandonExpiredApplication("user-1", application_id),
        uow=world.new_uow(),
        clock=world.clock,
        image=image,
        metrics=world.metrics,
    )


def test_an_expired_offer_is_saved_as_abandoned_once(world: World) -> None:
    offer = world.apply()
    world.clock.advance(dt.timedelta(hours=24))
    assert expire(world, offer.application_id) is ExpirationOutcome.ABANDONED
    assert expire(world, offer.application_id) is ExpirationOutcome.ALREADY_ABANDONED
    stored = world.application(offer.application_id)
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
    world: World,
) -> None:
    offer = world.apply()
    image = copy.deepcopy(world.application(offer.application_id))
    assert world.database is not None
    world.database.remove(("loan_application", "user-1", offer.application_id))  # the TTL
    world.clock.advance(dt.timedelta(hours=25))
    assert expire(world, offer.application_id, image) is ExpirationOutcome.ABANDONED
    assert expire(world, offer.application_id, image) is ExpirationOutcome.ALREADY_ABANDONED
    assert world.application(offer.application_id).status is ApplicationStatus.ABANDONED
    assert image.status is ApplicationStatus.APPROVED  # the caller's image is untouched
    with pytest.raises(NotFound):
        expire(world, "app-gone")
    with pytest.raises(NotFound, match="image is of application"):
        expire(world, "app-gone", image)


def test_an_offer_that_became_a_loan_is_left_alone(world: World) -> None:
    offer = world.apply()
    world.accept(offer.application_id)
    world.clock.advance(dt.timedelta(hours=24))
    assert expire(world, offer.application_id) is ExpirationOutcome.CONVERTED
    assert world.application(offer.application_id).status is ApplicationStatus.APPROVED


def test_a_rejection_has_no_offer_to_abandon(world: World) -> None:
    world.underwriting = SimulatedUnderwriting(loan_approval_probability=0)
    rejected = world.apply()
    assert expire(world, rejected.application_id) is ExpirationOutcome.NOT_AN_OFFER


def test_a_live_offer_is_not_abandoned(world: World) -> None:
    offer = world.apply()
    with pytest.raises(InvalidTransition, match="is live until"):
        expire(world, offer.application_id)
    assert world.application(offer.application_id).status is ApplicationStatus.APPROVED
