"""The expiry reader of the table's stream (`table_stream`): offers the TTL removed.

Only a REMOVE made by DynamoDB's time to live (``userIdentity`` ``Service`` /
``dynamodb.amazonaws.com``) of a ``LOANAPP#`` or ``LOCAPP#`` item is acted on: it
becomes `AbandonExpiredApplication` or `AbandonExpiredLineApplication`, carrying the
old image, so an unaccepted offer is written back as ABANDONED. Deletes made by a user,
inserts, updates and other items are skipped. The template's event filter sends only
TTL removes; the reader checks again, since a filter is configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._batch import Outcome, unreadable_as_malformed

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["abandon_expired"]


def abandon_expired(bus: MessageBus, record: Mapping[str, Any]) -> Outcome:
    """Abandon the application one TTL removal expired; skip every other record.

    Raises:
        Malformed: the removed item's old image is not an application.
    """
    from loc_adapters.dynamodb import expired_application  # noqa: PLC0415 - cold starts stay cheap
    from loc_core.creditline import CreditLineApplication  # noqa: PLC0415 - same
    from loc_core.services.commands import (  # noqa: PLC0415 - same
        AbandonExpiredApplication,
        AbandonExpiredLineApplication,
    )

    with unreadable_as_malformed("an expired application's old image"):
        removed = expired_application(record)
    if removed is None:
        return Outcome.SKIPPED
    if isinstance(removed, CreditLineApplication):
        bus.handle(AbandonExpiredLineApplication(removed.user_id, removed.application_id, removed))
    else:
        bus.handle(AbandonExpiredApplication(removed.user_id, removed.application_id, removed))
    return Outcome.APPLIED
