"""Offers that lapsed unaccepted are kept as ABANDONED (seed ``expiration/``, ``LOANAPP#``).

DynamoDB's TTL deletes an APPROVED application when its offer expires, and the table's
stream hands the deleted image to the expiration handler. An offer that became a loan is
left alone; one that did not is written back as ABANDONED, without a TTL, so the
borrower's history keeps it.
"""

from __future__ import annotations

import copy
import enum

import attrs

from loc_core.applications import ApplicationStatus
from loc_core.errors import NotFound, Ref
from loc_core.installment import LoanApplication
from loc_core.ports import Clock, Metrics, StoredItem, UnitOfWork
from loc_core.services.kit import moment, retry_on_conflict
from loc_core.services.messagebus import Command
from loc_core.validation import Id, validated

__all__ = ["AbandonExpiredApplication", "ExpirationOutcome", "abandon_expired_application"]


class ExpirationOutcome(enum.Enum):
    """What the expiration handler did with an application."""

    ABANDONED = "abandoned"
    """The offer lapsed unaccepted and is now saved as ABANDONED."""
    ALREADY_ABANDONED = "already_abandoned"
    """A repeated delivery: it was abandoned before."""
    CONVERTED = "converted"
    """The offer became a loan; nothing to do."""
    NOT_AN_OFFER = "not_an_offer"
    """A REJECTED application has no offer to abandon."""


@attrs.frozen(field_transformer=validated)
class AbandonExpiredApplication(Command["ExpirationOutcome"]):
    """The TTL removed (or is about to remove) an application's item."""

    user_id: Id
    application_id: Id
    removed: LoanApplication | None = attrs.field(default=None, eq=False)
    """The item's last image when the TTL already deleted it (the stream's old image)."""
    removed_item: StoredItem | None = attrs.field(default=None, eq=False)
    """That image as the table held it: written back with `removed`'s changes, so the
    attributes this release does not read (a newer release's) are not lost with it."""


def abandon_expired_application(
    command: AbandonExpiredApplication,
    *,
    uow: UnitOfWork,
    clock: Clock,
    metrics: Metrics,
) -> ExpirationOutcome:
    """Save an expired, unaccepted offer as ABANDONED; idempotent.

    The stored application is used when it is still there; otherwise `command.removed` (the
    stream's old image, which the TTL deleted) is written back.

    Raises:
        NotFound: when the application is neither stored nor given as `removed`, or the
            image is of another application.
        InvalidTransition: when the offer has not expired yet.
    """

    def attempt() -> ExpirationOutcome:
        now, _ = moment(clock)
        with uow:
            application = _stored_or_image(uow, command, command.removed)
            if application.loan_id is not None or (
                uow.loans.by_application(command.user_id, command.application_id) is not None
            ):
                return ExpirationOutcome.CONVERTED
            if application.status is ApplicationStatus.ABANDONED:
                return ExpirationOutcome.ALREADY_ABANDONED
            if application.status is not ApplicationStatus.APPROVED:
                return ExpirationOutcome.NOT_AN_OFFER
            application.abandon(now=now)
            uow.loan_applications.save(application)
            uow.commit(actor="expiration-handler", request_id=f"ttl:{command.application_id}")
        return ExpirationOutcome.ABANDONED

    outcome = retry_on_conflict(attempt)
    metrics.increment("loc.loans.applications.expired", tags=(f"outcome:{outcome.value}",))
    return outcome


def _stored_or_image(
    uow: UnitOfWork, command: AbandonExpiredApplication, image: LoanApplication | None
) -> LoanApplication:
    try:
        return uow.loan_applications.get(command.user_id, command.application_id)
    except NotFound:
        if image is None:
            raise
        if (image.user_id, image.application_id) != (command.user_id, command.application_id):
            raise NotFound(
                f"the expired image is of application {image.application_id}, "
                f"not {command.application_id}",
                about=Ref("loan_application", command.application_id, command.user_id),
            ) from None
        # Never mutate the caller's object: a retry starts from the image as delivered.
        application = copy.deepcopy(image)
        uow.loan_applications.restore(application, command.removed_item)
        return application
