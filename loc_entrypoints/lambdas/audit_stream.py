"""The audit reader of the table's stream (`table_stream`): audit records, kept 7 years.

An INSERT of an ``AUDIT#`` item is a committed audit record; it is written to the
`AuditArchive` (the S3 bucket ``LOC_AUDIT_ARCHIVE_BUCKET``, server-side encrypted) as one
JSON line, the item as stored, under ``audit/date=<recorded day>/<record id>.jsonl``.
The key is the record's id, so a record delivered twice is the same object written
again with the same bytes. The bucket's lifecycle keeps objects
`AUDIT_ARCHIVE_RETENTION_DAYS` (2,555) days. Every other record is skipped.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._batch import Outcome, unreadable_as_malformed

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["archive_audit_record", "json_line"]


def json_line(item: Mapping[str, Any]) -> bytes:
    """An item as one JSON line: keys sorted, numbers as written (whole ones as ints)."""

    def number(value: object) -> object:
        if isinstance(value, decimal.Decimal):
            return int(value) if value == value.to_integral_value() else str(value)
        if isinstance(value, set | frozenset):
            return sorted(value, key=str)
        raise TypeError(f"not JSON: {value!r}")

    return json.dumps(item, sort_keys=True, separators=(",", ":"), default=number).encode() + b"\n"


def archive_audit_record(bus: MessageBus, record: Mapping[str, Any]) -> Outcome:
    """Archive the audit record one INSERT committed; skip every other record.

    Raises:
        Malformed: an audit item that is not an audit record.
    """
    from loc_adapters.dynamodb import inserted_audit_record  # noqa: PLC0415 - cold starts stay cheap
    from loc_core.ports import JSON_LINES, AuditArchive, audit_archive_key  # noqa: PLC0415 - same

    with unreadable_as_malformed("an audit item"):
        inserted = inserted_audit_record(record)
    if inserted is None:
        return Outcome.SKIPPED
    audit, item = inserted
    key = audit_archive_key(audit.recorded_at.date(), audit.record_id)
    bus.get(AuditArchive).put(key, json_line(item), content_type=JSON_LINES)
    return Outcome.APPLIED
