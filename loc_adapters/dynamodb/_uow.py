"""The DynamoDB unit of work: one commit is one `TransactWriteItems`.

Semantics are the in-memory unit of work's (`loc_adapters.memory.uow`): reads are
consistent and private; `add` and `save` only register intent; `commit` writes every
registered aggregate with its journal entries and audit records, or nothing, then bumps
versions, stamps `updated_at` and returns the events to publish.

What it writes: for each aggregate its root item, conditional on the version read (or
on not existing, when added); of its children (installments, payments, draws, a line's
disputes and late fee waivers) only the new ones (conditional on not existing) and those
whose stored attributes would change; each journal entry and audit record as a new item.
Saves are `Update`s that set and remove only what the commit changed: an item read here
is written back as it was read (`as_written`: the Go service's timestamps, number types,
NULLs and attributes nobody here knows stay exactly as stored) except the attributes
whose meaning the command changed, those the library derived and the item lacks, and
those a shape writes whole (`Shape.marked`: a line item's disputes and waivers, moved to
child items). The transaction is checked before DynamoDB sees it: at most 100 items,
none twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Self

import attrs

from loc_adapters._nesting import nested_block
from loc_adapters.dynamodb import _codecs as codecs
from loc_adapters.dynamodb._convert import ABSENT, Item, Shape, as_written
from loc_adapters.dynamodb._outbox import encode_kept_event
from loc_adapters.dynamodb._plan import Kind, Plan, item_size
from loc_adapters.dynamodb._repositories import (
    LINE_APPLICATIONS,
    LOAN_APPLICATIONS,
    Applications,
    AuditLogReader,
    Intents,
    JournalReader,
    Lines,
    Loans,
    Statements,
)
from loc_adapters.dynamodb._table import Cancelled, DynamoTable, deserialize, serialize
from loc_core.creditline import CreditLine, CreditLineApplication, Statement
from loc_core.errors import InvariantViolation
from loc_core.events import AuditRecord, DomainEvent, Outbox
from loc_core.installment import Loan, LoanApplication
from loc_core.intents import TransferIntent
from loc_core.ports import TRANSACTION_LIMIT, Clock, Lease

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["DynamoUnitOfWork"]

LeaseCheck = Callable[[Lease], "TransactWriteItemTypeDef"]
"""How a lock checks, inside a commit's transaction, that a lease is still current."""

Key = tuple[str, str]


@attrs.define
class _Pending:
    key: Key
    aggregate: Any
    new: bool


@attrs.frozen
class _Read:
    """An aggregate as read: its version, the items it came from and their re-encoding.

    `encoded` is how this library writes the aggregate as read (as DynamoDB gives values
    back): where a commit writes the same, the meaning did not change and `images` stays.
    """

    version: int
    images: dict[Key, Item]
    encoded: dict[Key, Item]
    gone: bool = False
    """The images are of items no longer stored (an application its TTL removed): a write
    sets every attribute kept, not only those that differ from the image."""

    def write(
        self, item: Item, *, whole: frozenset[str] = frozenset()
    ) -> tuple[Item, frozenset[str], int] | None:
        """What to set (with the key) and remove so the stored item holds `item`.

        Everything `as_written` keeps stays as stored, but the attributes in `whole`
        (`Shape.whole_attributes`), which hold exactly what `item` does, or go; None when
        nothing changes, or when `item` was not read here (a new child). The third value
        is the bytes of the whole item afterwards, what DynamoDB's item size limit counts.
        """
        key = codecs.item_key(item)
        stored = self.images.get(key)
        if stored is None:
            return None
        written = _as_stored(item)
        kept = as_written(stored, self.encoded.get(key, ABSENT), written)
        for name in whole:
            if name in written:
                kept[name] = written[name]
            else:
                kept.pop(name, None)
        if self.gone:
            return kept, frozenset(), item_size(kept)
        sets = {
            name: value
            for name, value in kept.items()
            if name not in stored or stored[name] != value
        }
        removals = frozenset(stored.keys() - kept.keys())
        if not sets and not removals:
            return None
        return {"PK": key[0], "SK": key[1], **sets}, removals, item_size(kept)


class _Stamps:
    """Versions and timestamps set for a commit, put back if the commit fails."""

    def __init__(self) -> None:
        self._before: list[tuple[object, str, object]] = []

    def set(self, target: object, name: str, value: object) -> None:
        self._before.append((target, name, getattr(target, name)))
        setattr(target, name, value)

    def undo(self) -> None:
        for target, name, value in reversed(self._before):
            setattr(target, name, value)


class DynamoUnitOfWork:
    """A `UnitOfWork` over one DynamoDB table.

    Build one per use case attempt, or enter the same one again once the last block was
    left: entering starts clean, so a block inside another on the same unit of work is
    refused (`nested_block`).
    """

    def __init__(
        self, table: DynamoTable, *, clock: Clock, lease_check: LeaseCheck | None = None
    ) -> None:
        self.table = table
        self.clock = clock
        self.lease_check = lease_check
        """A lock's `ConditionCheck` of a lease (`DynamolockLock.lease_check`); None: the
        single table's ``LOCK#`` item."""
        self.loan_applications = Applications(self, LOAN_APPLICATIONS)
        self.loans = Loans(self)
        self.line_applications = Applications(self, LINE_APPLICATIONS)
        self.lines = Lines(self)
        self.statements = Statements(self)
        self.intents = Intents(self)
        self.journal = JournalReader(table)
        self.audit = AuditLogReader(table)
        self._pending: dict[Key, _Pending] = {}
        self._reads: dict[Key, _Read] = {}
        self._loaded: list[Any] = []
        self._fences: dict[str, Lease] = {}
        self._open = False
        """Whether a ``with`` block is inside this unit of work."""

    @property
    def transaction_limit(self) -> int:
        """One commit is one `TransactWriteItems`: at most `TRANSACTION_LIMIT` items."""
        return TRANSACTION_LIMIT

    def __enter__(self) -> Self:
        if self._open:
            raise nested_block()
        self._open = True
        self.rollback()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()
        self._open = False

    def loaded(self, key: Key, aggregate: Any, items: Sequence[Item]) -> None:  # noqa: ANN401 - any aggregate
        """Remember an aggregate read here and its items, for the commit's diff and checks."""
        self._loaded.append(aggregate)
        encoded = {codecs.item_key(item): _as_stored(item) for item in self._encode(aggregate)[2]}
        self._reads[key] = _Read(
            int(aggregate.version), {codecs.item_key(item): item for item in items}, encoded
        )

    def restored(self, key: Key, aggregate: Any, item: Item) -> None:  # noqa: ANN401 - any aggregate
        """Remember `aggregate` as read from `item`, the image of an item no longer stored.

        Its save writes the item back whole as `as_written` keeps it: the image's
        attributes, those this library does not know included, with the command's changes.
        """
        self.loaded(key, aggregate, [item])
        self._reads[key] = attrs.evolve(self._reads[key], gone=True)

    def register(self, key: Key, aggregate: object, *, new: bool) -> None:
        """Note that `aggregate` is to be written at commit."""
        known = self._pending.get(key)
        if known is not None and known.aggregate is not aggregate:
            raise InvariantViolation(
                f"two different objects saved for {key[0]}/{key[1]}", invariant="one_object_per_key"
            )
        self._pending[key] = _Pending(key, aggregate, new=new or (known is not None and known.new))

    def fence(self, lease: Lease) -> None:
        """Commit only while `lease` is current: a `ConditionCheck` on its ``LOCK#`` item."""
        self._fences[lease.key] = lease

    def rollback(self) -> None:
        """Forget everything registered and read, and any fence."""
        self._pending = {}
        self._reads = {}
        self._loaded = []
        self._fences = {}

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        """Write everything registered in one transaction; see `loc_core.ports.UnitOfWork`.

        Raises:
            ConcurrencyConflict: when a saved aggregate changed since it was read, an
                added key exists, or a journal entry was already posted; nothing was
                written and the aggregates are as they were before the call.
            InvariantViolation: when an aggregate changed but was never saved, or the
                commit is more than one transaction can hold.
            LeaseLost: when a fenced lease is no longer the current one; nothing was written.
            ExternalServiceError: when DynamoDB failed or throttled the commit.
        """
        pending = list(self._pending.values())
        self._refuse_unsaved_changes(pending)
        now = self.clock.now()
        stamps = _Stamps()
        plan = Plan(self.table.name)
        try:
            for lease in self._fences.values():
                plan.fence(lease, None if self.lease_check is None else self.lease_check(lease))
            for item in pending:
                self._plan(plan, item, stamps, now=now, actor=actor, request_id=request_id)
            self._keep_events(plan, pending, now)
            plan.check()
            if plan.actions:
                self.table.transact(plan.requests(), token=uuid.uuid4().hex)
        except Cancelled as exc:
            stamps.undo()
            raise plan.explain(exc.reasons) from exc
        except BaseException:
            stamps.undo()
            raise
        events: list[DomainEvent] = []
        for item in pending:
            outbox: Outbox | None = getattr(item.aggregate, "outbox", None)
            if outbox is not None:
                events += outbox.drain().events
        self.rollback()
        return events

    def _keep_events(self, plan: Plan, pending: list[_Pending], now: dt.datetime) -> None:
        """Keep the commit's domain events in the outbox (`DynamoEventOutbox`), each once."""
        events: dict[str, DomainEvent] = {}
        for item in pending:
            outbox: Outbox | None = getattr(item.aggregate, "outbox", None)
            if outbox is not None:
                events.update((event.event_id, event) for event in outbox.events)
        for event_id, event in events.items():
            plan.put(
                encode_kept_event(event, committed_at=now, shards=self.table.shards),
                label=f"{event.type.value} event {event_id[:12]}",
            )

    def _refuse_unsaved_changes(self, pending: list[_Pending]) -> None:
        saved = {id(item.aggregate) for item in pending}
        for aggregate in self._loaded:
            if getattr(aggregate, "outbox", None) and id(aggregate) not in saved:
                raise InvariantViolation(
                    f"{type(aggregate).__name__} was changed but never saved: "
                    "its changes would be lost",
                    invariant="changes_saved",
                )

    def _plan(
        self,
        plan: Plan,
        pending: _Pending,
        stamps: _Stamps,
        *,
        now: dt.datetime,
        actor: str,
        request_id: str,
    ) -> None:
        aggregate = pending.aggregate
        if isinstance(aggregate, Statement):
            plan.put_new(
                codecs.encode_statement(aggregate),
                label=f"statement of {aggregate.statement_date} for line {aggregate.line_id}",
            )
            return
        expected = int(aggregate.version)
        _stamp(stamps, aggregate, now)
        label, shapes, items = self._encode(aggregate)
        root, children = items[0], items[1:]
        if pending.new:
            plan.put_new(root, label=label)
            for child in children:
                plan.put_new(child, label=_child_label(child))
        else:
            read = self._reads.get(pending.key)
            if read is not None and read.version != expected:
                read = None  # read in another state: its items say nothing about this one
            owned = codecs.owned_attributes(shapes[0])
            whole = shapes[0].whole_attributes()
            written = read.write(root, whole=whole) if read is not None else None
            size = None
            if written is not None:
                root, owned, size = written
            plan.save_root(
                root,
                owned,
                label=label,
                expected=expected,
                may_be_gone=isinstance(aggregate, LoanApplication | CreditLineApplication),
                size=size,
            )
            self._plan_children(plan, read, children, shapes[1:], root_key=pending.key)
        outbox: Outbox | None = getattr(aggregate, "outbox", None)  # an intent has none
        if outbox is not None:
            _plan_outbox(
                plan,
                outbox,
                int(aggregate.version),
                now=now,
                actor=actor,
                request_id=request_id,
                shards=self.table.shards,
            )

    def _plan_children(
        self,
        plan: Plan,
        read: _Read | None,
        children: list[Item],
        shapes: list[Shape],
        *,
        root_key: Key,
    ) -> None:
        written = {codecs.item_key(child) for child in children}
        for child, shape in zip(children, shapes, strict=True):
            if read is None:
                plan.update_child(child, codecs.owned_attributes(shape), label=_child_label(child))
                continue
            if codecs.item_key(child) not in read.images:
                plan.put_new(child, label=_child_label(child))
                continue
            update = read.write(child, whole=shape.whole_attributes())
            if update is not None:
                sets, removals, size = update
                plan.update_child(sets, removals, label=_child_label(child), size=size)
        if read is not None:
            for key in read.images.keys() - written - {root_key}:
                plan.delete_child(key, label=f"item {key[0]}/{key[1]}")

    def _encode(self, aggregate: object) -> tuple[str, list[Shape], list[Item]]:
        """A label, the shape of each item, and the items: root first."""
        if isinstance(aggregate, Loan):
            items = codecs.encode_loan(aggregate, shards=self.table.shards)
            shapes = [
                codecs.LOAN,
                *(codecs.INSTALLMENT for _ in aggregate.installments),
                *(codecs.LOAN_PAYMENT for _ in aggregate.payments),
            ]
            return f"loan {aggregate.loan_id}", shapes, items
        if isinstance(aggregate, CreditLine):
            items = codecs.encode_line(aggregate, shards=self.table.shards)
            shapes = [
                codecs.LINE,
                *(codecs.DRAW for _ in aggregate.draws),
                *(codecs.LINE_PAYMENT for _ in aggregate.payments),
                *(codecs.DISPUTE for _ in aggregate.disputes),
                *(codecs.FEE_WAIVER for _ in aggregate.late_fee_waivers),
            ]
            return f"credit line {aggregate.line_id}", shapes, items
        if isinstance(aggregate, LoanApplication):
            item = codecs.encode_loan_application(aggregate)
            return f"loan application {aggregate.application_id}", [codecs.LOAN_APPLICATION], [item]
        if isinstance(aggregate, CreditLineApplication):
            item = codecs.encode_line_application(aggregate)
            label = f"credit-line application {aggregate.application_id}"
            return label, [codecs.LINE_APPLICATION], [item]
        if isinstance(aggregate, TransferIntent):
            item = codecs.encode_intent(aggregate, shards=self.table.shards)
            return f"transfer intent {aggregate.intent_id}", [codecs.INTENT], [item]
        raise InvariantViolation(
            f"cannot store a {type(aggregate).__name__}", invariant="storable_aggregate"
        )


def _stamp(stamps: _Stamps, aggregate: Any, now: dt.datetime) -> None:  # noqa: ANN401 - any aggregate
    """Bump the version; set `updated_at` on the aggregate and the installments it changed."""
    stamps.set(aggregate, "version", int(aggregate.version) + 1)
    if hasattr(aggregate, "updated_at"):
        stamps.set(aggregate, "updated_at", now)
    if isinstance(aggregate, Loan):
        touched = {c.entity_id for c in aggregate.outbox.changes if c.entity == "installment"}
        for installment in aggregate.installments:
            if installment.installment_id in touched:
                stamps.set(installment, "updated_at", now)


def _plan_outbox(
    plan: Plan,
    outbox: Outbox,
    version: int,
    *,
    now: dt.datetime,
    actor: str,
    request_id: str,
    shards: int,
) -> None:
    """The journal entries (posted once) and audit records of one aggregate's commit."""
    for position, entry in enumerate(outbox.entries):
        plan.put_new(
            codecs.encode_journal_entry(entry, posted_at=now, version=version, position=position),
            label=f"journal entry {entry.entry_id}",
            kind=Kind.ENTRY,
        )
    for position, change in enumerate(outbox.changes):
        record = AuditRecord(uuid.uuid4().hex, change, actor, request_id, now)
        plan.put_new(
            codecs.encode_audit_record(record, version=version, position=position, shards=shards),
            label=f"audit record of {change.entity} {change.entity_id}",
        )


def _as_stored(item: Item) -> Item:
    """`item` as DynamoDB gives it back (numbers as `Decimal`, tuples as lists)."""
    return deserialize(serialize(item))


def _child_label(item: Item) -> str:
    parts = str(item["SK"]).split("#")
    return f"{parts[-2].lower()} {parts[-1]} of {parts[0].lower()} {parts[1]}"
