"""The committed state of an in-memory deployment: what the DynamoDB table holds in production.

Units of work read copies out of it and commit copies into it, so no caller ever shares
an object with the store, exactly as with a remote table: committed aggregates are kept
as pickled bytes (a read unpickles, a commit pickles), which is also the cheapest way to
copy them. One lock serialises commits; every commit checks all its conditions before it
writes anything. Every audit record is kept. A driver that needs more speed than a
remote table would give (the simulation) subclasses this in its own package and
overrides the hooks (`read`, `release`, `write`, `remove`, `thaw_row`, `freeze_row`,
`record_changes`); this class has no speed knobs, so the contract suites certify it whole.
"""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import pickle
import threading
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import attrs

from loc_core.bookkeeping import Product
from loc_core.creditline import CreditLine, LineStatus, Statement
from loc_core.events import AuditRecord, Change, DomainEvent
from loc_core.installment import InstallmentStatus, Loan
from loc_core.intents import INTENT_RETENTION, TransferIntent
from loc_core.ledger import JournalEntry, Ledger
from loc_core.ports import (
    Clock,
    InstallmentRef,
    IntentRef,
    KeptEvent,
    KeptEvents,
    Lease,
    LineRef,
    PaymentOwner,
    UnreadableEvent,
    read_kept_event,
)

__all__ = ["InMemoryDatabase", "Key", "clone", "statement_key"]

T = TypeVar("T")

Key = tuple[str, str, str]
"""(kind, user id, entity id): the item's identity, like a table's PK and SK."""


@attrs.define
class _KeptItem:
    """A kept event, as the object its commit made or as another release stored it.

    Another release's item is kept as its stored fields (`event_fields`) and read as the
    table's items are (`read_kept_event`).
    """

    event: DomainEvent | None
    fields: dict[str, str] | None
    committed_at: dt.datetime
    reported_at: dt.datetime | None = None
    """When operations were told this release cannot read it (`InMemoryDatabase.reported`)."""

    def read(self, event_id: str) -> KeptEvent | UnreadableEvent:
        """The event, or why this release cannot read the item."""
        if self.event is not None:  # made by this release: its fields read back as itself
            return KeptEvent(self.event, self.committed_at)
        return read_kept_event(
            event_id, self.fields or {}, self.committed_at, reported=self.reported_at is not None
        )


def _freeze(entity: object) -> bytes:
    return pickle.dumps(entity, pickle.HIGHEST_PROTOCOL)


def _thaw(frozen: bytes) -> Any:  # noqa: ANN401 - rows hold every aggregate type
    return pickle.loads(frozen)  # noqa: S301 - our own bytes, never external input


def clone(entity: T) -> T:
    """A deep copy sharing nothing with `entity` (a pickle round trip, run in C)."""
    copied: T = _thaw(_freeze(entity))
    return copied


@attrs.define
class InMemoryDatabase:
    """Aggregates by key, the journal, the audit log and the indexes the jobs query."""

    clock: Clock
    ledger: Ledger = attrs.field(factory=Ledger)
    """Every journal entry committed, in commit order."""
    commits: int = 0
    """How many units of work committed: a cheap measure of write traffic."""
    lock: threading.RLock = attrs.field(factory=threading.RLock)
    _rows: dict[Key, bytes] = attrs.field(factory=dict)
    """Committed aggregates, pickled."""
    _versions: dict[Key, int] = attrs.field(factory=dict)
    _owned: dict[tuple[str, str], set[Key]] = attrs.field(factory=dict)
    """(kind, user id) -> keys: what `scan` reads without walking every row."""
    _entries_by_reference: dict[str, list[JournalEntry]] = attrs.field(factory=dict)
    _audit: dict[tuple[str, str], list[AuditRecord]] = attrs.field(factory=dict)
    _audit_by_user: dict[str, list[AuditRecord]] = attrs.field(factory=dict)
    _audit_by_process: dict[str, list[AuditRecord]] = attrs.field(factory=dict)
    _audit_count: int = 0
    _outbox: dict[str, _KeptItem] = attrs.field(factory=dict)
    """Committed domain events not yet delivered, by event id, as stored (`EventOutbox`)."""
    _unkeyed: dict[int, tuple[DomainEvent, _KeptItem]] = attrs.field(factory=dict)
    """Events this release's commits kept, by the event object's identity, not yet filed
    under their ids in `_outbox` (`_key_kept_events`): an event's id is a SHA-256 of its
    JSON, and most events are delivered right after their commit, so nothing needs it."""
    _payments: dict[str, PaymentOwner] = attrs.field(factory=dict)
    _owners: dict[tuple[Product, str, str], PaymentOwner] = attrs.field(factory=dict)
    """The one `PaymentOwner` each loan or line's payments are indexed under."""
    _loan_by_application: dict[tuple[str, str], str] = attrs.field(factory=dict)
    _installments: dict[InstallmentStatus, dict[dt.date, dict[str, InstallmentRef]]] = attrs.field(
        factory=dict
    )
    _installment_days: dict[InstallmentStatus, list[dt.date]] = attrs.field(factory=dict)
    """Status -> the days `_installments` holds for it, in order: a query bisects this
    instead of sorting every day the index holds."""
    _installment_slots: dict[str, tuple[InstallmentStatus, dt.date]] = attrs.field(factory=dict)
    _lines_by_cycle_day: dict[int, dict[str, LineRef]] = attrs.field(factory=dict)
    _lines_by_due_date: dict[dt.date, dict[str, LineRef]] = attrs.field(factory=dict)
    _line_due_days: list[dt.date] = attrs.field(factory=list)
    """The days `_lines_by_due_date` holds, in order: a query bisects this (the due job
    asks for one day at a time) instead of walking every due date ever seen."""
    _line_slots: dict[str, tuple[int | None, dt.date | None, dt.date | None, bool]] = attrs.field(
        factory=dict
    )
    _lines_watched: dict[str, tuple[dt.date, LineRef]] = attrs.field(factory=dict)
    """Line id -> (first day the overdue job may act, ref): the overdue index."""
    _intent_expiry: collections.deque[tuple[dt.datetime, Key]] = attrs.field(
        factory=collections.deque
    )
    """Finished intents by expiry (`INTENT_RETENTION` after their last change), oldest first."""
    _intent_expires: dict[Key, dt.datetime] = attrs.field(factory=dict)
    """When each finished intent expires; an intent reopened or changed since is not due."""
    _open_intents: dict[str, IntentRef] = attrs.field(factory=dict)
    """Intent id -> ref of every open intent: the recovery job's index."""
    _intents_on: dict[str, dict[str, None]] = attrs.field(factory=dict)
    """Account id -> the ids of its open intents (`open_intents_on`)."""
    leases: dict[str, Lease] = attrs.field(factory=dict)
    """The current lease of each lock key, as the table's ``LOCK#`` items hold them: an
    `InMemoryLock` given this dict keeps its leases here, so a fenced commit sees them."""

    # --- reads (callers hold no lock: each read is atomic on its own) -----------------

    def read(self, key: Key) -> Any:  # noqa: ANN401 - rows hold every aggregate type
        """A private copy of the stored aggregate, or None."""
        with self.lock:
            row = self._rows.get(key)
            return None if row is None else self.thaw_row(row)

    def release(self, reads: Iterable[tuple[Key | None, object]]) -> None:
        """A unit of work ended without committing these aggregates, read under these keys.

        Every read here is a private copy, so there is nothing to forget; a store that
        hands out shared objects overrides this to drop what was changed. A scan's reads
        come with no key (None): they are copies in every store.
        """

    def stored_version(self, key: Key) -> int | None:
        """The version stored under `key`, or None when there is no such item.

        Immutable items (statements) have no version and count as version 0.
        """
        return self._versions.get(key)

    def scan(self, kind: str, user_id: str) -> list[Any]:
        """Copies of every aggregate of `kind` belonging to `user_id`, in key order."""
        with self.lock:
            keys = sorted(self._owned.get((kind, user_id), ()))
            return [self.thaw_row(self._rows[key]) for key in keys]

    def keys_after(
        self, kind: str, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str]]:
        """Up to `limit` (user id, entity id) of `kind` after `after`, in key order."""
        with self.lock:
            found = sorted(key[1:] for key in self._rows if key[0] == kind)
        return [key for key in found if after is None or key > after][:limit]

    def thaw_row(self, row: bytes) -> Any:  # noqa: ANN401 - rows hold every aggregate type
        """The aggregate a stored row holds, as a fresh object."""
        return _thaw(row)

    def freeze_row(self, aggregate: object) -> bytes:
        """The row that stores `aggregate`."""
        return _freeze(aggregate)

    def installments(
        self, status: InstallmentStatus, due_through: dt.date | None
    ) -> list[InstallmentRef]:
        """Index query: installments in `status` due on or before `due_through` (all: None)."""
        with self.lock:
            by_date = self._installments.get(status, {})
            days = self._installment_days.get(status, [])
            if due_through is not None:
                days = days[: bisect.bisect_right(days, due_through)]
            return [ref for day in days for _, ref in sorted(by_date[day].items())]

    def lines_by_cycle_day(self, cycle_day: int) -> list[LineRef]:
        """Index query: open lines closing their cycle on `cycle_day`."""
        with self.lock:
            return sorted(self._lines_by_cycle_day.get(cycle_day, {}).values(), key=_line_order)

    def lines_to_watch(self, on: dt.date) -> list[LineRef]:
        """Index query: lines whose overdue watch began on or before `on`."""
        with self.lock:
            return [
                ref
                for since, ref in sorted(
                    self._lines_watched.values(), key=lambda pair: (pair[0], *_line_order(pair[1]))
                )
                if since <= on
            ]

    def lines_due_between(self, first: dt.date, last: dt.date) -> list[LineRef]:
        """Index query: lines whose next due date lies in ``[first, last]``."""
        with self.lock:
            days = self._line_due_days
            return [
                ref
                for day in days[bisect.bisect_left(days, first) : bisect.bisect_right(days, last)]
                for ref in sorted(self._lines_by_due_date[day].values(), key=_line_order)
            ]

    def payment_owner(self, payment_id: str) -> PaymentOwner | None:
        """Which loan or line a payment belongs to."""
        return self._payments.get(payment_id)

    def open_intents(self, before: dt.datetime) -> list[IntentRef]:
        """Index query: open intents made before `before`, oldest first."""
        with self.lock:
            refs = [ref for ref in self._open_intents.values() if ref.created_at < before]
        return sorted(refs, key=lambda ref: (ref.created_at, ref.intent_id))

    def open_intents_on(self, account_id: str) -> list[str]:
        """Index query: the ids of the open intents on a loan, line or application."""
        with self.lock:
            return list(self._intents_on.get(account_id, ()))

    def loan_for_application(self, user_id: str, application_id: str) -> str | None:
        """The id of the loan made from an application."""
        return self._loan_by_application.get((user_id, application_id))

    def entries_for(self, reference: str) -> list[JournalEntry]:
        """The journal entries of one loan or line, in posting order."""
        with self.lock:
            return list(self._entries_by_reference.get(reference, ()))

    def audit_records(self, entity: str, entity_id: str) -> list[AuditRecord]:
        """The audit trail of one entity."""
        with self.lock:
            return list(self._audit.get((entity, entity_id), []))

    def user_audit_records(self, user_id: str) -> list[AuditRecord]:
        """The audit records of one borrower's entities, in commit order."""
        with self.lock:
            return list(self._audit_by_user.get(user_id, []))

    def process_audit_records(self, process: str) -> list[AuditRecord]:
        """The audit records of the changes one process made, in commit order."""
        with self.lock:
            return list(self._audit_by_process.get(process, []))

    # --- writes (only `InMemoryUnitOfWork.commit` calls these, holding the lock) -------

    def write(self, key: Key, aggregate: object) -> None:
        """Store a copy of `aggregate` and bring the indexes up to date."""
        rows = self._rows
        fresh = key not in rows  # `_owned` lists exactly the keys `_rows` holds
        rows[key] = self.freeze_row(aggregate)
        self._versions[key] = int(getattr(aggregate, "version", 0))
        if fresh:
            self._owned.setdefault((key[0], key[1]), set()).add(key)
        if isinstance(aggregate, Loan):
            self._index_loan(aggregate)
        elif isinstance(aggregate, CreditLine):
            self._index_line(aggregate)
        elif isinstance(aggregate, TransferIntent):
            self._index_intent(key, aggregate)

    def remove(self, key: Key) -> None:
        """Delete an item outside any unit of work, as DynamoDB's TTL does."""
        with self.lock:
            self._rows.pop(key, None)
            self._versions.pop(key, None)
            self._owned.get((key[0], key[1]), set()).discard(key)

    def keep_events(self, events: Sequence[DomainEvent], *, at: dt.datetime) -> None:
        """Keep a commit's domain events in the outbox until they are delivered.

        Kept as the objects the commit made: every commit serializing each event and the
        recovery job reading it back would cost the simulation for nothing, since this
        release reads its own events (the codec tests prove the round trip). Kept by the
        object until something asks for them by id (`_key_kept_events`): computing each
        id at once (canonical JSON and SHA-256), for events delivered right after their
        commit, took about 3% of a simulation's instructions. An item another release
        stored is put in as its fields (`keep_stored_event`).
        """
        unkeyed = self._unkeyed
        for event in events:
            unkeyed[id(event)] = event, _KeptItem(event, None, at)  # filed by id when asked

    def keep_stored_event(self, event_id: str, fields: dict[str, str], *, at: dt.datetime) -> None:
        """Keep an event as another release stored it (`event_fields` it may not read).

        What a newer release's commit leaves in a shared table during a rolling deploy;
        tests use it to put such an item here.
        """
        with self.lock:
            self._key_kept_events()
            self._outbox[event_id] = _KeptItem(None, dict(fields), at)

    def undelivered(self, *, committed_before: dt.datetime, limit: int) -> KeptEvents:
        """The outbox's items kept since before `committed_before`, oldest first, read apart."""
        with self.lock:
            self._key_kept_events()
            old = sorted(
                (
                    (item.committed_at, event_id, item)
                    for event_id, item in self._outbox.items()
                    if item.committed_at < committed_before
                ),
                key=lambda found: found[:2],
            )[:limit]
            return KeptEvents.of(item.read(event_id) for _, event_id, item in old)

    def delivered(self, events: Sequence[DomainEvent]) -> None:
        """Stop keeping `events` in the outbox (and anything kept under their ids)."""
        kept, unkeyed = self._outbox, self._unkeyed
        if kept or unkeyed:
            with self.lock:
                for event in events:
                    if kept:
                        kept.pop(event.event_id, None)
                    if unkeyed:
                        _drop_unkeyed(unkeyed, event)

    def reported(self, unreadable: Sequence[UnreadableEvent], *, at: dt.datetime) -> None:
        """Note that operations were told of these unreadable items; they stay kept."""
        with self.lock:
            self._key_kept_events()
            for item in unreadable:
                found = self._outbox.get(item.event_id)
                if found is not None:
                    found.reported_at = at

    def _key_kept_events(self) -> None:
        """File the events kept by identity under their ids, in the order they were kept.

        The outbox is then as if `keep_events` had filed each by its id at once: a later
        event with an earlier one's id replaces it.
        """
        if self._unkeyed:
            for event, item in self._unkeyed.values():
                self._outbox[event.event_id] = item
            self._unkeyed.clear()

    def post(self, entries: Iterable[JournalEntry]) -> None:
        """Post journal entries to the ledger and index them by loan or line."""
        by_reference = self._entries_by_reference
        for entry in entries:
            self.ledger.post(entry)
            posted = by_reference.get(entry.reference)
            if posted is None:
                by_reference[entry.reference] = [entry]
            else:
                posted.append(entry)

    def record_changes(
        self, changes: Sequence[Change], *, actor: str, request_id: str, at: dt.datetime
    ) -> None:
        """Keep an audit record of each change a commit made, numbered in commit order."""
        for change in changes:
            self.append_audit(AuditRecord(self.next_audit_id(), change, actor, request_id, at))

    def append_audit(self, record: AuditRecord) -> None:
        """Keep an audit record; records are never changed or removed."""
        key = (record.change.entity, record.change.entity_id)
        self._audit.setdefault(key, []).append(record)
        self._audit_by_user.setdefault(record.change.user_id, []).append(record)
        self._audit_by_process.setdefault(record.change.process, []).append(record)
        self._audit_count += 1

    @property
    def audit_count(self) -> int:
        """How many audit records commits have made."""
        return self._audit_count

    def next_audit_id(self) -> str:
        """The id the next audit record gets."""
        return f"audit-{self._audit_count + 1:010d}"

    def _index_loan(self, loan: Loan) -> None:
        self._loan_by_application[loan.user_id, loan.application_id] = loan.loan_id
        self._own_payments(loan.payments, Product.INSTALLMENT, loan.user_id, loan.loan_id)
        for installment in loan.installments:
            slot = (installment.status, installment.due_date)
            old = self._installment_slots.get(installment.installment_id)
            if old == slot:
                continue
            if old is not None:
                by_date = self._installments[old[0]]
                day = by_date[old[1]]
                del day[installment.installment_id]
                if not day:  # no empty days for the index query to walk
                    del by_date[old[1]]
                    _drop_day(self._installment_days[old[0]], old[1])
            in_status = self._installments.setdefault(slot[0], {})
            on_day = in_status.get(slot[1])
            if on_day is None:
                on_day = in_status[slot[1]] = {}
                bisect.insort(self._installment_days.setdefault(slot[0], []), slot[1])
            on_day[installment.installment_id] = InstallmentRef(
                installment.user_id, installment.loan_id, installment.installment_id, slot[1]
            )
            self._installment_slots[installment.installment_id] = slot

    def _own_payments(
        self, payments: Iterable[str], product: Product, user_id: str, owner_id: str
    ) -> None:
        """Index each payment id under its loan or line: one owner object for them all."""
        if payments:
            key = (product, user_id, owner_id)
            owner = self._owners.get(key)
            if owner is None:
                owner = self._owners[key] = PaymentOwner(product, user_id, owner_id)
            self._payments.update(dict.fromkeys(payments, owner))

    def _index_intent(self, key: Key, intent: TransferIntent) -> None:
        """Index an open intent for recovery and by its account.

        Finished ones expire, as DynamoDB's TTL does.
        """
        on = self._intents_on
        if intent.is_open:
            on.setdefault(intent.account_id, {})[intent.intent_id] = None
            self._open_intents[intent.intent_id] = IntentRef(
                intent.user_id, intent.intent_id, intent.created_at
            )
            self._intent_expires.pop(key, None)
        else:
            if intent.account_id in on:
                ids = on[intent.account_id]
                ids.pop(intent.intent_id, None)
                if not ids:
                    del on[intent.account_id]
            self._open_intents.pop(intent.intent_id, None)
            expires = intent.updated_at + INTENT_RETENTION
            self._intent_expires[key] = expires
            self._intent_expiry.append((expires, key))
        now = self.clock.now()
        queue = self._intent_expiry
        while queue and queue[0][0] <= now:
            expires, due = queue.popleft()
            if self._intent_expires.get(due) == expires:
                del self._intent_expires[due]
                self.remove(due)

    def _index_line(self, line: CreditLine) -> None:
        ref = LineRef.of(line)
        watch = line.overdue_watch_from()
        if watch is None:
            self._lines_watched.pop(line.line_id, None)
        else:
            self._lines_watched[line.line_id] = (watch, ref)
        self._own_payments(line.payments, Product.CREDITLINE, line.user_id, line.line_id)
        cycle_day = None if line.status is LineStatus.CLOSED else line.cycle_day
        slot = (cycle_day, line.next_due_date, ref.next_close, ref.reminder_pending)
        old = self._line_slots.get(line.line_id)
        if old == slot:
            return
        if old is not None:
            if old[0] is not None:
                del self._lines_by_cycle_day[old[0]][line.line_id]
            if old[1] is not None:
                del self._lines_by_due_date[old[1]][line.line_id]
        if cycle_day is not None:
            self._lines_by_cycle_day.setdefault(cycle_day, {})[line.line_id] = ref
        if line.next_due_date is not None:
            due = self._lines_by_due_date.get(line.next_due_date)
            if due is None:
                due = self._lines_by_due_date[line.next_due_date] = {}
                bisect.insort(self._line_due_days, line.next_due_date)
            due[line.line_id] = ref
        self._line_slots[line.line_id] = slot


def _drop_unkeyed(unkeyed: dict[int, tuple[DomainEvent, _KeptItem]], event: DomainEvent) -> None:
    """Forget `event` and every event kept by identity under the same id.

    Only an event of the same type, user, subject and day can have the same id (the id
    digests those four and the data), so only such an event has its id computed.
    """
    unkeyed.pop(id(event), None)
    if not unkeyed:
        return
    same = (event.type, event.user_id, event.subject_id, event.occurred_on)
    for key, (other, _) in list(unkeyed.items()):
        if (other.type, other.user_id, other.subject_id, other.occurred_on) == same and (
            other.event_id == event.event_id
        ):
            del unkeyed[key]


def _drop_day(days: list[dt.date], day: dt.date) -> None:
    """Remove `day` from the ordered `days`, which hold it."""
    del days[bisect.bisect_left(days, day)]


def _line_order(ref: LineRef) -> tuple[str, str]:
    return (ref.user_id, ref.line_id)


def statement_key(statement: Statement) -> Key:
    """Statements are keyed by line and statement date."""
    return ("statement", statement.user_id, f"{statement.line_id}#{statement.statement_date}")
