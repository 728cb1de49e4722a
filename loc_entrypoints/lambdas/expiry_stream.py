"""The expiry reader of the table's stream (`table_stream`): offers the TTL removed.

Only a REMOVE made by DynamoDB's time to live (``userIdentity`` ``Service`` /
``dynamodb.amazonaws.com``) of a ``LOANAPP#`` or ``LOCAPP#`` item is acted on: it
becomes `AbandonExpiredApplication` or `AbandonExpiredLineApplication`, carrying the
old image (decoded, and as the table held it), so an unaccepted offer is written back as
ABANDONED with every attribute it had, those this release does not read included.
Deletes made by a user, inserts, updates and other items are skipped, and so is an old
image that is not attribute values at all; one that is but is no application this
release reads fails (see `abandon_expired`). The template's event filter sends only TTL
removes; the reader checks again, since a filter is configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._batch import Malformed, Outcome

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["abandon_expired"]


def abandon_expired(bus: MessageBus, record: Mapping[str, Any]) -> Outcome:
    """Abandon the application one TTL removal expired; skip every other record.

    Raises:
        Malformed: the removed item's old image is not attribute values (skipped).
        InvariantViolation: the image is not an application this release reads (a value
            it does not know, an attribute missing). It fails, unlike a record no release
            reads: the TTL took the item, so the image is the offer's last copy, and a
            retry (by a newer release during a deploy) or the dead-letter queue's replay
            keeps it, where a skip would lose it.
    """
    from loc_adapters.dynamodb import ATTRIBUTE_VALUES, expired_item  # noqa: PLC0415 - cold starts stay cheap
    from loc_core.creditline import CreditLineApplication  # noqa: PLC0415 - same
    from loc_core.errors import InvariantViolation  # noqa: PLC0415 - same
    from loc_core.services.commands import (  # noqa: PLC0415 - same
        AbandonExpiredApplication,
        AbandonExpiredLineApplication,
    )

    try:
        expired = expired_item(record)
    except InvariantViolation as exc:
        if exc.invariant != ATTRIBUTE_VALUES:
            raise  # an offer this release cannot read (a newer one's?): retried, then the DLQ
        raise Malformed(f"an expired application's old image: {exc}") from exc
    if expired is None:
        return Outcome.SKIPPED
    removed, item = expired  # the item goes too: what this release does not read stays
    if isinstance(removed, CreditLineApplication):
        bus.handle(
            AbandonExpiredLineApplication(removed.user_id, removed.application_id, removed, item)
        )
    else:
        bus.handle(
            AbandonExpiredApplication(removed.user_id, removed.application_id, removed, item)
        )
    return Outcome.APPLIED
