"""The in-memory unit of work and its repositories.

Semantics match the DynamoDB adapter: reads are consistent copies; `add` and `save`
only register intent; `commit` checks every condition (new keys absent, saved versions
unchanged, journal entries not yet posted) before it writes anything, then writes the
aggregates, posts their journal entries, stores their audit changes and bumps versions.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
import operator
import re
import threading
from collections.abc import Sequence
from typing import Any, Generic, Protocol, Self, TypeVar

import attrs

from loc_adapters._nesting import nested_block
from loc_adapters._paging import checked_limit, decode_cursor, encode_cursor
from loc_adapters.memory.database import InMemoryDatabase, Key, statement_key
from loc_core.bookkeeping import Product
from loc_core.creditline import CreditLine, CreditLineApplication, Statement
from loc_core.creditline import capacity as line_capacity
from loc_core.creditline.capacity import root_bytes_at_most, statement_bytes_at_most
from loc_core.errors import (
    ConcurrencyConflict,
    InvalidConfiguration,
    InvalidRequest,
    InvariantViolation,
    LeaseLost,
    NotFound,
    Ref,
)
from loc_core.events import AuditRecord, Change, DomainEvent
from loc_core.installment import InstallmentStatus, Loan, LoanApplication, LoanStatus
from loc_core.installment import capacity as loan_capacity
from loc_core.installment.capacity import installment_bytes_at_most
from loc_core.intents import TransferIntent
from loc_core.ledger import JournalEntry
from loc_core.ports import (
    ITEM_SIZE_LIMIT,
    TRANSACTION_LIMIT,
    Application,
    AuditRecordPage,
    Clock,
    InstallmentRef,
    IntentRef,
    Lease,
    LineRef,
    LoanRef,
    PaymentOwner,
    RefPage,
    StoredItem,
    items_written,
)

__all__ = ["InMemoryUnitOfWork"]

T = TypeVar("T")


class _Owned(Protocol):
    @property
    def user_id(self) -> str: ...


A = TypeVar("A", bound=_Owned)
App = TypeVar("App", bound=Application)


@attrs.define
class _Pending:
    key: Key
    aggregate: Any
    new: bool


def _child_records(aggregate: object) -> dict[tuple[str, str], object]:
    """The child records of a loan or line, by kind and id (DynamoDB's child items).

    A loan's installments and payments; a line's draws, payments, disputes and waivers.
    """
    if isinstance(aggregate, Loan):
        return {
            **{("installment", i.installment_id): i for i in aggregate.installments},
            **{("payment", k): p for k, p in aggregate.payments.items()},
        }
    if isinstance(aggregate, CreditLine):
        return {
            **{("draw", k): d for k, d in aggregate.draws.items()},
            **{("payment", k): p for k, p in aggregate.payments.items()},
            **{("dispute", k): d for k, d in aggregate.disputes.items()},
            **{("fee_waiver", k): w for k, w in aggregate.late_fee_waivers.items()},
        }
    return {}


def _children(item: _Pending) -> int:
    """How many children a saved aggregate could rewrite (an added one's are counted)."""
    aggregate = item.aggregate
    if item.new:
        return 0
    if isinstance(aggregate, Loan):
        return len(aggregate.installments) + len(aggregate.payments)
    if isinstance(aggregate, CreditLine):
        records = len(aggregate.disputes) + len(aggregate.late_fee_waivers)
        return len(aggregate.draws) + len(aggregate.payments) + records
    return 0


_APPLICATIONS = operator.attrgetter("applications")


def _largest_item(aggregate: object) -> tuple[int, str]:
    """The size of `aggregate`'s largest growing item (DynamoDB's, or above), and which.

    Only these items grow with a borrower's activity: a line's root and a statement
    (`loc_core.creditline.capacity`), an installment (`loc_core.installment.capacity`);
    (0, "") for any other aggregate, and for one whose entries, each counted at the
    model's largest (`ENTRY_BYTES`, `APPLICATION_BYTES`), could not pass the limit: every
    commit is weighed, so the references are only measured when that bound does not hold.
    """
    if isinstance(aggregate, CreditLine):
        last = aggregate.last_statement
        entries = len(aggregate.cycle_activity)
        entries += 0 if last is None else len(last.activity) + len(last.credit_activity)
        bound = line_capacity.FIXED_BYTES + entries * line_capacity.ENTRY_BYTES
        return (0, "") if bound <= ITEM_SIZE_LIMIT else (root_bytes_at_most(aggregate), "")
    if isinstance(aggregate, Statement):
        entries = len(aggregate.activity) + len(aggregate.credit_activity)
        bound = line_capacity.FIXED_BYTES + entries * line_capacity.ENTRY_BYTES
        return (0, "") if bound <= ITEM_SIZE_LIMIT else (statement_bytes_at_most(aggregate), "")
    if isinstance(aggregate, Loan) and aggregate.installments:
        applied = max(map(len, map(_APPLICATIONS, aggregate.installments)))  # in C: every commit
        bound = loan_capacity.FIXED_BYTES + applied * loan_capacity.APPLICATION_BYTES
        if bound <= ITEM_SIZE_LIMIT:
            return 0, ""
        size, largest = max(
            (installment_bytes_at_most(i), i.installment_id) for i in aggregate.installments
        )
        return size, f" (installment {largest})"
    return 0, ""


class _Base:
    kind: str

    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow
        self._db = uow.database


class _Aggregates(_Base, abc.ABC, Generic[A]):
    """A repository of one aggregate kind, stored under ``(kind, user id, its id)``."""

    label: str
    """How a message names the aggregate (``loan application``)."""

    @abc.abstractmethod
    def _id(self, aggregate: A) -> str:
        """The aggregate's own id."""

    def _get(self, user_id: str, entity_id: str) -> A:
        key = (self.kind, user_id, entity_id)
        found: A | None = self._db.read(key)
        if found is None:
            raise NotFound(
                f"no {self.label} {entity_id} for user {user_id}",
                entity=self.kind,
                entity_id=entity_id,
                user_id=user_id,
            )
        self._uow.loaded(key, found)
        return found

    def add(self, aggregate: A) -> None:
        self._uow.register(self._key(aggregate), aggregate, new=True)

    def save(self, aggregate: A) -> None:
        self._uow.register(self._key(aggregate), aggregate, new=False)

    def _scan(self, user_id: str) -> list[A]:
        found: list[A] = self._db.scan(self.kind, user_id)
        for aggregate in found:
            self._uow.loaded(None, aggregate)
        return found

    def _key(self, aggregate: A) -> Key:
        return (self.kind, aggregate.user_id, self._id(aggregate))


class _Applications(_Aggregates[App]):
    """One product's applications: the same repository, under the product's kind."""

    def __init__(self, uow: InMemoryUnitOfWork, *, kind: str, label: str) -> None:
        super().__init__(uow)
        self.kind = kind
        self.label = label

    def get(self, user_id: str, application_id: str) -> App:
        return self._get(user_id, application_id)

    def for_user(self, user_id: str) -> list[App]:
        return sorted(self._scan(user_id), key=lambda a: (a.created_at, a.application_id))

    def restore(self, application: App, stored: StoredItem | None) -> None:
        """Nothing to do: this store keeps objects, so `save` writes all there is."""
        del application, stored

    def _id(self, aggregate: App) -> str:
        return aggregate.application_id


P = TypeVar("P", bound=Loan | CreditLine)


class _Products(_Aggregates[P]):
    """The loan or line repository: one product's aggregates, which payments are applied to."""

    product: Product

    def _page(self, cursor: str | None, limit: int) -> tuple[list[tuple[str, str]], str | None]:
        """One page of (user id, id) in key order; the cursor is the last key, as JSON."""
        after = None if cursor is None else _cursor_key(cursor)
        keys = self._db.keys_after(self.kind, after, limit + 1)
        more = len(keys) > limit
        keys = keys[:limit]
        return keys, json.dumps(keys[-1]) if more and keys else None

    def find_payment(self, payment_id: str) -> PaymentOwner | None:
        owner = self._db.payment_owner(payment_id)
        return owner if owner is not None and owner.product == self.product else None


class _Loans(_Products[Loan]):
    kind = "loan"
    label = "loan"
    product = Product.INSTALLMENT

    def get(self, user_id: str, loan_id: str) -> Loan:
        return self._get(user_id, loan_id)

    def for_user(self, user_id: str, *, status: LoanStatus | None = None) -> list[Loan]:
        loans = [loan for loan in self._scan(user_id) if status is None or loan.status is status]
        return sorted(loans, key=lambda loan: (loan.created_at, loan.loan_id))

    def by_application(self, user_id: str, application_id: str) -> Loan | None:
        loan_id = self._db.loan_for_application(user_id, application_id)
        return None if loan_id is None else self.get(user_id, loan_id)

    def installments(
        self, status: InstallmentStatus, *, due_through: dt.date | None = None
    ) -> list[InstallmentRef]:
        return self._db.installments(status, due_through)

    def page(self, cursor: str | None, limit: int) -> RefPage[LoanRef]:
        keys, following = self._page(cursor, limit)
        return RefPage(tuple(LoanRef(user, loan) for user, loan in keys), following)

    def _id(self, aggregate: Loan) -> str:
        return aggregate.loan_id


class _Lines(_Products[CreditLine]):
    kind = "line"
    label = "credit line"
    product = Product.CREDITLINE

    def get(self, user_id: str, line_id: str) -> CreditLine:
        return self._get(user_id, line_id)

    def for_user(self, user_id: str) -> list[CreditLine]:
        return sorted(self._scan(user_id), key=lambda line: (line.opened_on, line.line_id))

    def by_cycle_day(self, cycle_day: int) -> list[LineRef]:
        return self._db.lines_by_cycle_day(cycle_day)

    def due_between(self, first: dt.date, last: dt.date) -> list[LineRef]:
        return self._db.lines_due_between(first, last)

    def overdue_candidates(self, on: dt.date) -> list[LineRef]:
        return self._db.lines_to_watch(on)

    def page(self, cursor: str | None, limit: int) -> RefPage[LineRef]:
        keys, following = self._page(cursor, limit)
        return RefPage(tuple(LineRef(user, line) for user, line in keys), following)

    def _id(self, aggregate: CreditLine) -> str:
        return aggregate.line_id


def _cursor_key(cursor: str) -> tuple[str, str]:
    """The key a memory cursor holds. Raises `InvalidRequest` for a cursor not ours."""
    try:
        user_id, entity_id = json.loads(cursor)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"not a listing cursor: {cursor!r}", key="cursor") from exc
    return str(user_id), str(entity_id)


_BY_ID_ALONE = ""
"""The owner part of an intent's key: intents are keyed by id alone, as in the table."""


class _Intents(_Aggregates[TransferIntent]):
    """Intents keyed by id alone, so an id is taken once whoever owns it; reads check the owner."""

    kind = "intent"
    label = "transfer intent"

    def get(self, user_id: str, intent_id: str) -> TransferIntent:
        intent = self.find(intent_id)
        if intent is None or intent.user_id != user_id:
            raise NotFound(
                f"no transfer intent {intent_id} for user {user_id}",
                about=Ref(self.kind, intent_id, user_id),
            )
        return intent

    def find(self, intent_id: str) -> TransferIntent | None:
        key = (self.kind, _BY_ID_ALONE, intent_id)
        found: TransferIntent | None = self._db.read(key)
        if found is not None:
            self._uow.loaded(key, found)
        return found

    def _key(self, aggregate: TransferIntent) -> Key:
        return (self.kind, _BY_ID_ALONE, aggregate.intent_id)

    def open_before(self, before: dt.datetime) -> list[IntentRef]:
        return self._db.open_intents(before)

    def open_for(self, user_id: str, account_id: str) -> list[TransferIntent]:
        found = (self.find(intent_id) for intent_id in self._db.open_intents_on(account_id))
        left = [
            intent
            for intent in found
            if intent is not None and intent.user_id == user_id and intent.is_open
        ]
        return sorted(left, key=lambda intent: (intent.created_at, intent.intent_id))

    def _id(self, aggregate: TransferIntent) -> str:
        return aggregate.intent_id


class _Statements(_Base):
    kind = "statement"

    def add(self, statement: Statement) -> None:
        self._uow.register(statement_key(statement), statement, new=True)

    def get(self, user_id: str, line_id: str, statement_date: dt.date) -> Statement:
        found: Statement | None = self._db.read((self.kind, user_id, f"{line_id}#{statement_date}"))
        if found is None:
            raise NotFound(
                f"no statement of {statement_date} for line {line_id}",
                about=Ref("statement", f"{line_id}#{statement_date}", user_id),
            )
        return found

    def for_line(self, user_id: str, line_id: str) -> list[Statement]:
        statements: list[Statement] = self._db.scan(self.kind, user_id)
        return sorted(
            (s for s in statements if s.line_id == line_id), key=lambda s: s.statement_date
        )


class _Journal:
    def __init__(self, database: InMemoryDatabase) -> None:
        self._db = database

    def entries_for(self, reference: str) -> list[JournalEntry]:
        return self._db.entries_for(reference)


class _Audit:
    def __init__(self, database: InMemoryDatabase) -> None:
        self._db = database

    def records_for(self, entity: str, entity_id: str) -> list[AuditRecord]:
        return self._db.audit_records(entity, entity_id)

    def entity_page(
        self, entity: str, entity_id: str, *, cursor: str | None, limit: int
    ) -> AuditRecordPage:
        records = self._db.audit_records(entity, entity_id)
        start = 0 if cursor is None else _position(cursor)
        end = start + checked_limit(limit)
        following = encode_cursor(str(end)) if end < len(records) else None
        return AuditRecordPage(tuple(records[start:end]), following)

    def user_page(self, user_id: str, *, cursor: str | None, limit: int) -> AuditRecordPage:
        return _newest_first(self._db.user_audit_records(user_id), cursor, limit)

    def process_page(self, process: str, *, cursor: str | None, limit: int) -> AuditRecordPage:
        return _newest_first(self._db.process_audit_records(process), cursor, limit)


_POSITION = re.compile(r"[0-9]{1,10}")
"""A memory cursor: an index into a trail, which only ever grows at its end."""


def _position(cursor: str) -> int:
    return int(decode_cursor(cursor, pattern=_POSITION))


def _newest_first(records: list[AuditRecord], cursor: str | None, limit: int) -> AuditRecordPage:
    """The page of `records` (commit order) before `cursor`'s index, newest first."""
    end = len(records) if cursor is None else min(_position(cursor), len(records))
    start = max(0, end - checked_limit(limit))
    following = encode_cursor(str(start)) if start > 0 else None
    return AuditRecordPage(tuple(reversed(records[start:end])), following)


class InMemoryUnitOfWork:
    """A `UnitOfWork` over an `InMemoryDatabase`.

    `transaction_limit` is DynamoDB's by default, so a commit too big for the real store
    fails in tests too: the memory store counts what a commit surely writes
    (`items_written`) and, when that and every child of a saved loan or line could pass
    the limit, the children whose stored record changes, which DynamoDB rewrites too.
    """

    def __init__(
        self,
        database: InMemoryDatabase,
        *,
        clock: Clock | None = None,
        transaction_limit: int = TRANSACTION_LIMIT,
    ) -> None:
        self.database = database
        self.clock = clock or database.clock
        self.transaction_limit = transaction_limit
        self.loan_applications = _Applications[LoanApplication](
            self, kind="loan_application", label="loan application"
        )
        self.loans = _Loans(self)
        self.line_applications = _Applications[CreditLineApplication](
            self, kind="line_application", label="credit-line application"
        )
        self.lines = _Lines(self)
        self.statements = _Statements(self)
        self.intents = _Intents(self)
        self.journal = _Journal(database)
        self.audit = _Audit(database)
        self._pending: dict[Key, _Pending] = {}
        self._loaded: list[tuple[Key | None, Any]] = []
        self._fences: dict[str, Lease] = {}
        self._user: int | None = None
        """The thread inside ``with uow:`` (its pending writes are kept on this object)."""
        self._open = threading.Lock()
        """Held from ``with uow:`` to its end: taken without waiting, so a second block
        (nested, or another thread's) is refused at once. One C call each way: every
        command enters a unit of work, most several times."""

    def __enter__(self) -> Self:
        if not self._open.acquire(blocking=False):
            # Held: by this thread (a nested block) or another. Read after the failed
            # acquire, `_user` is this thread's id only if this thread holds the lock.
            if self._user == threading.get_ident():
                raise nested_block()
            raise InvalidConfiguration(
                "this in-memory unit of work is in use by another thread, and its pending "
                "writes would mix with this one's: hand every thread's commands to one bus "
                "(it runs one command at a time) or give each bus its own unit of work",
                entity="unit_of_work",
                invariant="one_thread_per_unit_of_work",
            )
        self._user = threading.get_ident()
        if self._loaded or self._pending or self._fences:  # a rollback only when there is work
            self.rollback()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._loaded or self._pending or self._fences:
                self.rollback()
        finally:
            self._user = None
            self._open.release()

    def loaded(self, key: Key | None, aggregate: object) -> None:
        """Remember an aggregate read here, to catch changes that are never saved."""
        self._loaded.append((key, aggregate))

    def register(self, key: Key, aggregate: object, *, new: bool) -> None:
        """Note that `aggregate` is to be written at commit."""
        known = self._pending.get(key)
        if known is not None and known.aggregate is not aggregate:
            raise InvariantViolation(
                f"two different objects saved for {key}",
                entity=key[0],
                entity_id=key[2],
                user_id=key[1],
                invariant="one_object_per_key",
            )
        self._pending[key] = _Pending(key, aggregate, new=new or (known is not None and known.new))

    def fence(self, lease: Lease) -> None:
        """Commit only while `lease` is the current one in `database.leases`."""
        self._fences[lease.key] = lease

    def rollback(self) -> None:
        """Forget everything registered and read; the database forgets what was not written."""
        if self._loaded:
            self.database.release(self._loaded)
            self._loaded = []
        if self._pending:
            self._pending = {}
        if self._fences:
            self._fences = {}

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        """Check every condition, then write everything; see `loc_core.ports.UnitOfWork`."""
        db = self.database
        with db.lock:
            pending = list(self._pending.values())
            saved = {id(item.aggregate) for item in pending}
            self._check_size(pending)
            if self._fences:
                self._check_fences()
            self._check(pending, saved)
            now = self.clock.now()
            events: list[DomainEvent] = []
            for item in pending:
                aggregate = item.aggregate
                outbox = getattr(aggregate, "outbox", None)
                taken = outbox.drain() if outbox is not None else None
                if not isinstance(aggregate, Statement):
                    aggregate.version += 1
                    _stamp(aggregate, now, taken.changes if taken is not None else ())
                db.write(item.key, aggregate)
                if taken is not None:
                    db.post(taken.entries)
                    db.record_changes(taken.changes, actor=actor, request_id=request_id, at=now)
                    if taken.events:
                        db.keep_events(taken.events, at=now)
                        events += taken.events
            db.commits += 1
            if self._loaded:  # what was written stays: only the rest is released
                self._loaded = [(k, a) for k, a in self._loaded if id(a) not in saved]
        self.rollback()
        return events

    def _check_size(self, pending: list[_Pending]) -> None:
        # One pass over what is pending (every commit runs it); the transaction limit's
        # error still comes before an item's size.
        written = children = 0
        too_big: tuple[_Pending, int, str] | None = None
        for item in pending:
            written += items_written(item.aggregate, new=item.new)
            children += _children(item)
            if too_big is None:
                size, which = _largest_item(item.aggregate)
                if size > ITEM_SIZE_LIMIT:
                    too_big = item, size, which
        if written + children > self.transaction_limit:
            # Only a commit that could be too big compares children with the stored row.
            written += sum(self._changed_children(item) for item in pending)
        if written > self.transaction_limit:
            raise InvariantViolation(
                f"the commit writes {written} items; one transaction takes at most "
                f"{self.transaction_limit}: split the use case into smaller commits",
                invariant="transaction_limit",
            )
        if too_big is not None:
            item, size, which = too_big
            raise InvariantViolation(
                f"the commit writes {item.key}{which} as an item of about {size:,} bytes; "
                f"a stored item holds at most {ITEM_SIZE_LIMIT:,} bytes",
                key="/".join(item.key),
                invariant="item_size_limit",
            )

    def _changed_children(self, item: _Pending) -> int:
        """The children of a saved loan or line that the commit rewrites, as DynamoDB does.

        The DynamoDB unit of work writes a saved aggregate's child item (installment,
        payment, draw) when its stored attributes would change, and a new one; so does
        this count, comparing each child with the stored row's.
        """
        if item.new or not _children(item):
            return 0
        stored = self.database.read(item.key)
        return sum(
            1
            for key, child in _child_records(item.aggregate).items()
            if stored is None or _child_records(stored).get(key) != child
        )

    def _check_fences(self) -> None:
        for lease in self._fences.values():
            held = self.database.leases.get(lease.key)
            if held is None or (held.owner, held.fencing_token) != (
                lease.owner,
                lease.fencing_token,
            ):
                raise LeaseLost(
                    f"{lease.key}: the lease of {lease.owner} (token {lease.fencing_token}) "
                    "is no longer current; nothing was committed",
                    entity="lease",
                    key=lease.key,
                )

    def _check(self, pending: list[_Pending], saved: set[int]) -> None:
        """Versions current, no change left unsaved, journal entries posted once.

        `saved` holds the ids of `pending`'s aggregates.
        """
        db = self.database
        for item in pending:
            stored = db.stored_version(item.key)
            if item.new and stored is not None:
                raise ConcurrencyConflict(
                    f"{item.key[0]} {item.key[2]} already exists",
                    entity=item.key[0],
                    entity_id=item.key[2],
                    user_id=item.key[1],
                    invariant="created_once",
                )
            if not item.new and stored is not None and stored != item.aggregate.version:
                raise ConcurrencyConflict(
                    f"{item.key[0]} {item.key[2]} changed since it was read "
                    f"(read version {item.aggregate.version}, stored {stored})",
                    entity=item.key[0],
                    entity_id=item.key[2],
                    user_id=item.key[1],
                    invariant="version_current",
                )
            if (
                not item.new
                and stored is None
                and not isinstance(item.aggregate, LoanApplication | CreditLineApplication)
            ):
                raise ConcurrencyConflict(
                    f"{item.key[0]} {item.key[2]} no longer exists",
                    entity=item.key[0],
                    entity_id=item.key[2],
                    user_id=item.key[1],
                    invariant="still_exists",
                )
        for _, aggregate in self._loaded:
            if id(aggregate) not in saved and getattr(aggregate, "outbox", None):
                raise InvariantViolation(
                    f"{type(aggregate).__name__} was changed but never saved: "
                    "its changes would be lost",
                    invariant="changes_saved",
                )
        seen: set[str] = set()
        for item in pending:
            outbox = getattr(item.aggregate, "outbox", None)
            for entry in outbox.entries if outbox is not None else ():
                if entry.entry_id in db.ledger or entry.entry_id in seen:
                    raise ConcurrencyConflict(
                        f"journal entry {entry.entry_id} was already posted",
                        entity="journal_entry",
                        entity_id=entry.entry_id,
                        invariant="posted_once",
                    )
                seen.add(entry.entry_id)


def _stamp(aggregate: object, now: dt.datetime, changes: Sequence[Change]) -> None:
    """Set `updated_at` on the aggregate and on the installments its changes name."""
    if hasattr(aggregate, "updated_at"):
        aggregate.updated_at = now
    if isinstance(aggregate, Loan):
        touched = {c.entity_id for c in changes if c.entity == "installment"}
        if not touched:
            return
        for installment in aggregate.installments:
            if installment.installment_id in touched:
                installment.updated_at = now
