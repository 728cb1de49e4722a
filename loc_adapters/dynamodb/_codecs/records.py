"""Journal entries and audit records as items: what every commit of either product posts."""

from __future__ import annotations

import datetime as dt

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._codecs.shared import build, item_name, whole
from loc_adapters.dynamodb._convert import (
    Item,
    Shape,
    format_fixed_timestamp,
    format_timestamp,
)
from loc_core.events import AuditRecord
from loc_core.ledger import JournalEntry

__all__ = [
    "AUDIT_RECORD",
    "JOURNAL_ENTRY",
    "decode_audit_record",
    "decode_journal_entry",
    "encode_audit_record",
    "encode_journal_entry",
]

JOURNAL_ENTRY = Shape(JournalEntry)
AUDIT_RECORD = Shape(AuditRecord)


def encode_journal_entry(
    entry: JournalEntry, *, posted_at: dt.datetime, version: int, position: int
) -> Item:
    """A journal entry, keyed by its id under its loan or line.

    ``loc_aggregate_version`` and ``loc_position`` keep the posting order: commits of one
    loan or line are serialised by its version, entries of one commit by their place.
    """
    return {
        "PK": keys.journal_pk(entry.reference),
        "SK": keys.journal_sk(entry.entry_id),
        **JOURNAL_ENTRY.encode(entry),
        "loc_posted_at": format_timestamp(posted_at),
        "loc_aggregate_version": version,
        "loc_position": position,
    }


def decode_journal_entry(item: Item) -> tuple[tuple[int, int], JournalEntry]:
    """A journal entry with its posting order."""
    where = item_name(item)
    entry = build(JournalEntry, JOURNAL_ENTRY.decode(item, where=where), f"entry {where}")
    return (whole(item, "loc_aggregate_version"), whole(item, "loc_position")), entry


def encode_audit_record(
    record: AuditRecord, *, version: int, position: int, shards: int = 1
) -> Item:
    """An audit record, under its entity, in the order of the changes.

    GSI1 finds it by borrower and GSI2 by process (sharded by record id), both newest
    first by the time recorded; an id that cannot be a key part leaves that index out.
    """
    change = record.change
    item: Item = {
        "PK": keys.audit_pk(change.entity, change.entity_id),
        "SK": keys.audit_sk(version, position, record.record_id),
        **AUDIT_RECORD.encode(record),
    }
    when = keys.audit_time_sk(
        format_fixed_timestamp(record.recorded_at), version, position, record.record_id
    )
    if keys.storable(change.user_id):
        item["GSI1PK"] = keys.audit_user_pk(change.user_id)
        item["GSI1SK"] = when
    if keys.storable(change.process):
        item["GSI2PK"] = keys.sharded(
            keys.audit_process_pk(change.process), record.record_id, shards
        )
        item["GSI2SK"] = when
    return item


def decode_audit_record(item: Item) -> AuditRecord:
    """An audit record."""
    where = item_name(item)
    return build(AuditRecord, AUDIT_RECORD.decode(item, where=where), f"audit record {where}")
