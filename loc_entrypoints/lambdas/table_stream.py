"""The table's one stream reader (DynamoDB Streams): every change the library acts on.

DynamoDB Streams serves about two readers per shard before it throttles ``GetRecords``,
and a cutover adds the Go service's own readers, so one function reads the table's
stream and hands each record to the reader it is for:

- a REMOVE made by the time to live of an application: `expiry_stream.abandon_expired`;
- an INSERT of an ``AUDIT#`` item: `audit_stream.archive_audit_record`;
- a MODIFY of a loan or line item: `balance_stream.reconcile_changed`.

Each reader checks its own record again (the template's filter is configuration) and
skips every other; a record no reader acts on is skipped. The three kinds never overlap,
so a record is applied by one reader at most. Records of one item are applied in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._batch import STREAMS, Outcome, RecordHandler, run_batch
from loc_entrypoints.lambdas._runtime import Runtime
from loc_entrypoints.lambdas.audit_stream import archive_audit_record
from loc_entrypoints.lambdas.balance_stream import reconcile_changed
from loc_entrypoints.lambdas.expiry_stream import abandon_expired

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["READERS", "RUNTIME", "apply_change", "handler"]

RUNTIME = Runtime("table_stream")
"""This function's container state."""

READERS: tuple[RecordHandler, ...] = (abandon_expired, archive_audit_record, reconcile_changed)
"""Every reader of the table's stream, in the order they are asked."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ANN401 - Lambda's context class
    """Handle a Streams batch; the partial batch response names the records to retry."""
    return run_batch(RUNTIME, event, context, source=STREAMS, handle=apply_change)


def apply_change(bus: MessageBus, record: Mapping[str, Any]) -> Outcome:
    """Apply one record with the reader it is for; skip a record no reader acts on.

    Raises:
        Malformed: the record is of a reader's kind but cannot be read as one.
    """
    for read in READERS:
        if read(bus, record) is Outcome.APPLIED:
            return Outcome.APPLIED
    return Outcome.SKIPPED
