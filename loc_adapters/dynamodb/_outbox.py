"""The event outbox on the table: committed domain events kept until they are published.

A commit puts one item per domain event in its `TransactWriteItems`, so the events are
kept exactly when the records that made them are written:

- PK ``EVENT#<event_id>``, SK ``OUTBOX``: keyed by the event's own identity, so a repeat
  of the same event (same type, borrower, subject, day and data) is the same item, and
  publishing deletes it with one key;
- GSI2PK ``EVENT#KEPT`` (sharded by event id like the other GSI2 partitions), GSI2SK
  ``<committed_at, fixed-width RFC3339>#<event_id>``: the recovery job reads what is
  older than its cut-off, oldest first (a sparse index: a published event leaves it).

An item this release cannot read (a newer release's event type or data, during a rolling
deploy and after a rollback; a damaged item) is listed apart (`UnreadableEvent`) and left
as it is, but for ``loc_unreadable_reported_at`` once operations were told of it.

The Go service never writes these items, and the stream consumers skip them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._convert import Item, format_fixed_timestamp
from loc_adapters.dynamodb._table import ConditionFailed, DynamoTable
from loc_core.events import DomainEvent, event_fields
from loc_core.ports import KeptEvent, KeptEvents, UnreadableEvent, read_kept_event

__all__ = ["DynamoEventOutbox", "encode_kept_event", "kept_event_key"]

KEPT_EVENTS = "EVENT#KEPT"
"""GSI2PK of a kept event, before sharding."""
_SK = "OUTBOX"
_ATTRIBUTES = {
    "type": "loc_event_type",
    "user_id": "loc_user_id",
    "subject_id": "loc_subject_id",
    "occurred_on": "loc_occurred_on",
    "data": "loc_data",
}
"""Where an item keeps each of `event_fields`."""
_REPORTED = "loc_unreadable_reported_at"
"""When operations were told this release cannot read the item (`DynamoEventOutbox.reported`)."""


def kept_event_key(event_id: str) -> tuple[str, str]:
    """PK and SK of a kept event: ``EVENT#<event_id>``, ``OUTBOX``."""
    return (f"EVENT#{keys.part(event_id, what='event id')}", _SK)


def encode_kept_event(event: DomainEvent, *, committed_at: dt.datetime, shards: int) -> Item:
    """The outbox item of an event a commit made."""
    event_id = event.event_id
    pk, sk = kept_event_key(event_id)
    return {
        "PK": pk,
        "SK": sk,
        "GSI2PK": keys.sharded(KEPT_EVENTS, event_id, shards),
        "GSI2SK": f"{format_fixed_timestamp(committed_at)}#{event_id}",
        **{_ATTRIBUTES[name]: value for name, value in event_fields(event).items()},
        "loc_committed_at": format_fixed_timestamp(committed_at),
    }


def decode_kept_event(item: Item) -> KeptEvent | UnreadableEvent:
    """A kept event, checked against the identity its key carries, or why it cannot be read.

    Never raises on the item's content: an item this release cannot read (a type it does
    not know, a missing or malformed attribute, another event than its key names) is an
    `UnreadableEvent`, so it holds back no other.
    """
    event_id = str(item["PK"]).removeprefix("EVENT#")
    fields = {name: item.get(stored) for name, stored in _ATTRIBUTES.items()}
    reported = _REPORTED in item
    try:
        committed_at = dt.datetime.fromisoformat(str(item["loc_committed_at"]))
    except (KeyError, ValueError) as exc:
        problem = f"no commit time: {exc}"
        return UnreadableEvent.of(event_id, fields, problem, reported=reported)
    return read_kept_event(event_id, fields, committed_at, reported=reported)


class DynamoEventOutbox:
    """`EventOutbox` on the service's table (the items a `DynamoUnitOfWork` commit keeps)."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def undelivered(self, *, committed_before: dt.datetime, limit: int) -> KeptEvents:
        """Up to `limit` items kept since before `committed_before`, oldest first, read apart.

        Read from every shard of the sparse index (eventually consistent: an event
        published a moment ago may still be listed; publishing it again is harmless), in
        the order of its sort key (commit time, then event id), which every item has.
        """
        before = format_fixed_timestamp(committed_before)
        found = [
            item
            for partition in self._table.partitions(KEPT_EVENTS)
            for item in self._table.query(
                "#GSI2PK = :pk AND #GSI2SK < :before",
                {":pk": partition, ":before": before},
                index="GSI2",
                limit=limit,
            )
        ]
        found.sort(key=lambda item: str(item["GSI2SK"]))
        return KeptEvents.of(decode_kept_event(item) for item in found[:limit])

    def delivered(self, events: Sequence[DomainEvent]) -> None:
        """Delete the events' items, one `DeleteItem` each (an item already gone is no error).

        Not `BatchWriteItem`: no function of the stack is granted it (least privilege), and
        a command publishes a handful of events at most.
        """
        for key in dict.fromkeys(kept_event_key(event.event_id) for event in events):
            try:
                self._table.delete(key, condition="#PK = :pk", values={":pk": key[0]})
            except ConditionFailed:
                continue

    def reported(self, unreadable: Sequence[UnreadableEvent], *, at: dt.datetime) -> None:
        """Note `at` on each item (``loc_unreadable_reported_at``), one `UpdateItem` each.

        Only that attribute is set: the rest stays as the release that wrote it stored it.
        An item gone meanwhile (delivered by a release that reads it) is not written again.
        """
        for item in unreadable:
            key = kept_event_key(item.event_id)
            try:
                self._table.update(
                    key,
                    update=f"SET #{_REPORTED} = :at",
                    values={":at": format_fixed_timestamp(at), ":pk": key[0]},
                    condition="#PK = :pk",
                )
            except ConditionFailed:
                continue
