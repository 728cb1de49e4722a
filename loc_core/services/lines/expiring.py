"""Expiring offers: an approved application nobody accepted in time becomes ABANDONED.

Replaces the seed's expiration handler for the ``LOCAPP#`` prefix. DynamoDB's TTL
removes the item and the stream delivers its last image; the handler passes that image
as `AbandonExpiredLineApplication.removed`, and the application is written back as
ABANDONED. Deliveries repeat: an application already ABANDONED, converted or rejected is
left as it is.
"""

from __future__ import annotations

import copy

import attrs

from loc_core.applications import ApplicationStatus
from loc_core.creditline import CreditLineApplication
from loc_core.errors import NotFound
from loc_core.ports import Clock, StoredItem, UnitOfWork
from loc_core.services.messagebus import Command, Publisher
from loc_core.validation import Id, validated

__all__ = ["AbandonExpiredLineApplication", "abandon_expired_line_application"]


@attrs.frozen(field_transformer=validated)
class AbandonExpiredLineApplication(Command[bool]):
    """An application's offer expired (its TTL fired)."""

    user_id: Id
    application_id: Id
    removed: CreditLineApplication | None = attrs.field(default=None, eq=False)
    """The item's last image when the TTL already deleted it (the stream's old image)."""
    removed_item: StoredItem | None = attrs.field(default=None, eq=False)
    """That image as the table held it: written back with `removed`'s changes, so the
    attributes this release does not read (a newer release's) are not lost with it."""


def abandon_expired_line_application(
    command: AbandonExpiredLineApplication,
    *,
    uow: UnitOfWork,
    clock: Clock,
    publish: Publisher,
) -> bool:
    """Mark an expired, unaccepted offer ABANDONED.

    Returns:
        True when this call abandoned it; False when there was nothing to abandon
        (already ABANDONED, converted into a line, or rejected).

    Raises:
        NotFound: no such application, and no removed image to write back.
        InvalidTransition: the offer has not expired yet; a later delivery will do it.
    """
    with uow:
        removed = False
        try:
            application = uow.line_applications.get(command.user_id, command.application_id)
        except NotFound:
            if command.removed is None:
                raise
            application, removed = copy.deepcopy(command.removed), True
            uow.line_applications.restore(application, command.removed_item)
        abandoning = (
            application.line_id is None and application.status is ApplicationStatus.APPROVED
        )
        if abandoning:
            application.abandon(now=clock.now())
        if not (abandoning or removed):
            return False
        uow.line_applications.save(application)
        events = uow.commit(actor="loc-expiration", request_id=f"expire:{command.application_id}")
    publish(events)
    return abandoning
