"""The committed state of an in-memory deployment: what the DynamoDB table holds in production.

Units of work read copies out of it and commit copies into it, so no caller ever shares
an object with the store, exactly as with a remote table: committed aggregates are kept
as pickled bytes (a read unpickles, a commit pickles), which is also the cheapest way to
copy them. One lock serialises commits; every commit checks all its conditions before it
writes anything.
"""

from __future__ import annotations

import collections
import datetime as dt
import pickle
import threading
import zlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

from loc_core.bookkeeping import Product
from loc_core.creditline import CreditLine, LineStatus, Statement
from loc_core.events import AuditRecord
from loc_core.installment import InstallmentStatus, Loan
from loc_core.ledger import JournalEntry, Ledger
from loc_core.ports import Clock, InstallmentRef, LineRef, PaymentOwner

__all__ = ["InMemoryDatabase", "Key", "clone", "statement_key"]

T = TypeVar("T")

Key = tuple[str, str, str]
"""(kind, user id, entity id): the item's identity, like a table's PK and SK."""


def _freeze(entity: object) -> bytes:
    return pickle.dumps(entity, pickle.HIGHEST_PROTOCOL)


def _thaw(frozen: bytes) -> Any:  # noqa: ANN401 - rows hold every aggregate type
    if frozen[:1] == _ZLIB:
        frozen = zlib.decompress(frozen)
    return pickle.loads(frozen)  # noqa: S301 - our own bytes, never external input


_ZLIB = b"x"
"""The first byte of a zlib stream; a pickle (protocol 2+) starts with 0x80."""


def clone(entity: T) -> T:
    """A deep copy sharing nothing with `entity` (a pickle round trip, run in C)."""
    copied: T = _thaw(_freeze(entity))
    return copied


@attrs.define
class InMemoryDatabase:
    """Aggregates by key, the journal, the audit log and the indexes the jobs query."""

    clock: Clock
    shared_reads: bool = False
    """Hand out the committed object itself instead of a copy, for single-threaded drivers.

    A unit of work that reads an aggregate gets the live committed object (no copy) when
    no other unit of work holds it; anything it changed (its outbox is not empty) but did
    not commit is dropped from the live set when it ends, so the next read unpickles the
    committed bytes and an abandoned change can never leak. Callers must not change an
    aggregate outside a unit of work (the simulation never does). Off by default: every
    read is then a copy, as with a remote table.
    """
    keep_live: Callable[[object], bool] | None = None
    """With `shared_reads`: which aggregates may stay live (None: all). A driver keeps
    the ones still in service live and lets the rest (applications, closed loans) live as
    bytes only, so they never push out what is read every day."""
    live_capacity: int | None = None
    """With `shared_reads`: how many committed objects to keep live (least recently used
    are dropped and unpickled again when next read); None keeps every one."""
    compress_rows: bool = False
    """Keep committed rows zlib-compressed (about a third of the size, a few microseconds
    per write): for books large enough that memory, not time, is the limit."""
    keep_audit: bool = True
    """Keep audit records for `audit_records`. A driver that only needs the figures (the
    simulation) turns this off: records are still made at every commit, and counted in
    `audit_count`, but not kept."""
    ledger: Ledger = attrs.field(factory=Ledger)
    """Every journal entry committed, in commit order."""
    commits: int = 0
    """How many units of work committed: a cheap measure of write traffic."""
    lock: threading.RLock = attrs.field(factory=threading.RLock)
    _rows: dict[Key, bytes] = attrs.field(factory=dict)
    """Committed aggregates, pickled."""
    _versions: dict[Key, int] = attrs.field(factory=dict)
    _live: collections.OrderedDict[Key, Any] = attrs.field(factory=collections.OrderedDict)
    """With `shared_reads`: the committed objects themselves."""
    _out: set[Key] = attrs.field(factory=set)
    """With `shared_reads`: live objects a unit of work is holding."""
    _owned: dict[tuple[str, str], set[Key]] = attrs.field(factory=dict)
    """(kind, user id) -> keys: what `scan` reads without walking every row."""
    _entries_by_reference: dict[str, list[JournalEntry]] = attrs.field(factory=dict)
    _touched: set[Key] = attrs.field(factory=set)
    _audit: dict[tuple[str, str], list[AuditRecord]] = attrs.field(factory=dict)
    _audit_count: int = 0
    _payments: dict[str, PaymentOwner] = attrs.field(factory=dict)
    _loan_by_application: dict[tuple[str, str], str] = attrs.field(factory=dict)
    _installments: dict[InstallmentStatus, dict[dt.date, dict[str, InstallmentRef]]] = attrs.field(
        factory=dict
    )
    _installment_slots: dict[str, tuple[InstallmentStatus, dt.date]] = attrs.field(factory=dict)
    _lines_by_cycle_day: dict[int, dict[str, LineRef]] = attrs.field(factory=dict)
    _lines_by_due_date: dict[dt.date, dict[str, LineRef]] = attrs.field(factory=dict)
    _line_slots: dict[str, tuple[int | None, dt.date | None]] = attrs.field(factory=dict)
    _lines_watched: dict[str, tuple[dt.date, LineRef]] = attrs.field(factory=dict)
    """Line id -> (first day the overdue job may act, ref): the overdue index."""

    # --- reads (callers hold no lock: each read is atomic on its own) -----------------

    def read(self, key: Key) -> Any:  # noqa: ANN401 - rows hold every aggregate type
        """A private copy of the stored aggregate, or None."""
        with self.lock:
            row = self._rows.get(key)
            if row is None:
                return None
            if not self.shared_reads:
                return _thaw(row)
            if key in self._out:  # another unit of work holds the live one: a copy
                return _thaw(row)
            live = self._live.get(key)
            if live is None:
                live = _thaw(row)
                if self.keep_live is not None and not self.keep_live(live):
                    return live  # a private copy, never shared
                self._live[key] = live
                self._trim_live()
            else:
                self._live.move_to_end(key)
            self._out.add(key)
            return live

    def _trim_live(self) -> None:
        capacity = self.live_capacity
        if capacity is None:
            return
        while len(self._live) > capacity:
            oldest = next(iter(self._live))
            if oldest in self._out:  # held by a unit of work: keep it, stop trimming
                break
            del self._live[oldest]

    def release(self, key: Key, aggregate: object) -> None:
        """A unit of work ended without committing `aggregate`.

        Only meaningful with `shared_reads`. An aggregate with an empty outbox was not
        changed (every command that changes one records the change there, which is also
        how a use case decides there is nothing to commit), so it stays live; one that
        was changed is forgotten, and the next read unpickles the committed bytes.
        """
        with self.lock:
            if self._live.get(key) is not aggregate:
                return
            self._out.discard(key)
            if getattr(aggregate, "outbox", None):
                del self._live[key]

    def stored_version(self, key: Key) -> int | None:
        """The version stored under `key`, or None when there is no such item.

        Immutable items (statements) have no version and count as version 0.
        """
        return self._versions.get(key)

    def scan(self, kind: str, user_id: str) -> list[Any]:
        """Copies of every aggregate of `kind` belonging to `user_id`, in key order."""
        with self.lock:
            keys = sorted(self._owned.get((kind, user_id), ()))
            return [_thaw(self._rows[key]) for key in keys]

    def peek(self, key: Key) -> Any:  # noqa: ANN401 - rows hold every aggregate type
        """The live aggregate (with `shared_reads`) or a fresh copy, or None: read-only use.

        Mutating what this returns would change committed state behind every unit of
        work's back; use `read` for anything that may change.
        """
        live = self._live.get(key)
        if live is not None:
            return live
        row = self._rows.get(key)
        return None if row is None else _thaw(row)

    def take_touched(self) -> list[Key]:
        """The keys written since the last call, in key order; the set starts empty again."""
        with self.lock:
            touched, self._touched = sorted(self._touched), set()
            return touched

    def installments(
        self, status: InstallmentStatus, due_on: dt.date | None, due_before: dt.date | None
    ) -> list[InstallmentRef]:
        """Index query: installments in `status` due on or before a day."""
        with self.lock:
            by_date = self._installments.get(status, {})
            if due_on is not None:
                dates: Iterable[dt.date] = [due_on] if due_on in by_date else []
            else:
                dates = sorted(d for d in by_date if due_before is None or d < due_before)
            return [ref for day in dates for _, ref in sorted(by_date.get(day, {}).items())]

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
            return [
                ref
                for day in sorted(d for d in self._lines_by_due_date if first <= d <= last)
                for ref in sorted(self._lines_by_due_date[day].values(), key=_line_order)
            ]

    def payment_owner(self, payment_id: str) -> PaymentOwner | None:
        """Which loan or line a payment belongs to."""
        return self._payments.get(payment_id)

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

    # --- writes (only `InMemoryUnitOfWork.commit` calls these, holding the lock) -------

    def write(self, key: Key, aggregate: object) -> None:
        """Store a copy of `aggregate` and bring the indexes up to date."""
        frozen = _freeze(aggregate)
        self._rows[key] = zlib.compress(frozen, 1) if self.compress_rows else frozen
        self._versions[key] = int(getattr(aggregate, "version", 0))
        if self.shared_reads:
            self._out.discard(key)
            if self.keep_live is not None and not self.keep_live(aggregate):
                self._live.pop(key, None)
            else:
                self._live[key] = aggregate
                self._live.move_to_end(key)
                self._trim_live()
        self._owned.setdefault((key[0], key[1]), set()).add(key)
        self._touched.add(key)
        if isinstance(aggregate, Loan):
            self._index_loan(aggregate)
        elif isinstance(aggregate, CreditLine):
            self._index_line(aggregate)

    def remove(self, key: Key) -> None:
        """Delete an item outside any unit of work, as DynamoDB's TTL does."""
        with self.lock:
            self._rows.pop(key, None)
            self._versions.pop(key, None)
            self._live.pop(key, None)
            self._out.discard(key)
            self._owned.get((key[0], key[1]), set()).discard(key)

    def post(self, entries: Iterable[JournalEntry]) -> None:
        """Post journal entries to the ledger and index them by loan or line."""
        for entry in entries:
            self.ledger.post(entry)
            self._entries_by_reference.setdefault(entry.reference, []).append(entry)

    def append_audit(self, record: AuditRecord) -> None:
        """Keep an audit record (with `keep_audit`); records are never changed or removed."""
        if self.keep_audit:
            key = (record.change.entity, record.change.entity_id)
            self._audit.setdefault(key, []).append(record)
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
        for payment_id in loan.payments:
            self._payments[payment_id] = PaymentOwner(
                Product.INSTALLMENT, loan.user_id, loan.loan_id
            )
        for installment in loan.installments:
            slot = (installment.status, installment.due_date)
            old = self._installment_slots.get(installment.installment_id)
            if old == slot:
                continue
            if old is not None:
                del self._installments[old[0]][old[1]][installment.installment_id]
            self._installments.setdefault(slot[0], {}).setdefault(slot[1], {})[
                installment.installment_id
            ] = InstallmentRef(
                installment.user_id, installment.loan_id, installment.installment_id, slot[1]
            )
            self._installment_slots[installment.installment_id] = slot

    def _index_line(self, line: CreditLine) -> None:
        ref = LineRef(line.user_id, line.line_id)
        watch = line.overdue_watch_from()
        if watch is None:
            self._lines_watched.pop(line.line_id, None)
        else:
            self._lines_watched[line.line_id] = (watch, ref)
        for payment_id in line.payments:
            self._payments[payment_id] = PaymentOwner(
                Product.CREDITLINE, line.user_id, line.line_id
            )
        cycle_day = None if line.status is LineStatus.CLOSED else line.cycle_day
        slot = (cycle_day, line.next_due_date)
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
            self._lines_by_due_date.setdefault(line.next_due_date, {})[line.line_id] = ref
        self._line_slots[line.line_id] = slot


def _line_order(ref: LineRef) -> tuple[str, str]:
    return (ref.user_id, ref.line_id)


def statement_key(statement: Statement) -> Key:
    """Statements are keyed by line and statement date."""
    return ("statement", statement.user_id, f"{statement.line_id}#{statement.statement_date}")
