"""The repositories of the DynamoDB unit of work: reads, and writes registered for commit.

Every read of an aggregate is consistent (a base-table query or get) and remembered by
the unit of work, with the items it came from, so that the commit writes only the child
items that changed and refuses an aggregate that changed but was never saved. Index
queries (installments by status and due date, lines by cycle day or due date, payments
by id) are eventually consistent: they return references, and whoever acts on one loads
the aggregate with `get` first.

Reads belong to their owner: a borrower's records are read with ``PK = USER#<user id>``
(an equality, never a prefix) and sort-key ranges bounded at a ``#`` or ``$``, so
``alice`` never reads ``alice2``'s items nor ``loan-1`` those of ``loan-10``. An id that
cannot be part of a key (empty, or holding ``#`` as in ``alice#`` or ``USER#alice``) names
nothing stored: a read with one finds nothing (`NotFound`, empty, None) instead of
raising `InvariantViolation`, which means a stored record of that owner is broken.
"""

from __future__ import annotations

import abc
import datetime as dt
import heapq
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import attrs

from loc_adapters._paging import checked_limit, decode_cursor, encode_cursor
from loc_adapters.dynamodb import _codecs as codecs
from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._convert import Item, format_fixed_timestamp, parse_date
from loc_adapters.dynamodb._table import DynamoTable
from loc_core.bookkeeping import Product
from loc_core.creditline import CreditLine, Statement
from loc_core.errors import InvalidRequest, InvariantViolation, NotFound, Ref
from loc_core.events import AuditRecord
from loc_core.installment import InstallmentStatus, Loan, LoanStatus
from loc_core.intents import TransferIntent
from loc_core.ledger import JournalEntry
from loc_core.ports import (
    Application,
    AuditRecordPage,
    InstallmentRef,
    IntentRef,
    LineRef,
    LoanRef,
    PaymentOwner,
    RefPage,
    StoredItem,
)

__all__ = [
    "LINE_APPLICATIONS",
    "LOAN_APPLICATIONS",
    "ApplicationItems",
    "Applications",
    "AuditLogReader",
    "Intents",
    "JournalReader",
    "Lines",
    "Loans",
    "Statements",
    "Tracker",
]

Key = tuple[str, str]

_INSTALLMENT_REF = ("loc_user_id", "loc_loan_id", "loc_installment_id", "loc_due_date")
_LINE_REF = ("loc_user_id", "loc_line_id", "loc_next_due_date", *codecs.LINE_HINTS)
_LINE_REF_WATCHED = ("loc_user_id", "loc_line_id", "GSI3SK")


class Tracker(Protocol):
    """What repositories need from their unit of work."""

    table: DynamoTable

    def loaded(self, key: Key, aggregate: Any, items: Sequence[Item]) -> None:  # noqa: ANN401 - any aggregate
        """Remember an aggregate read, and the items it was read from."""
        ...

    def register(self, key: Key, aggregate: object, *, new: bool) -> None:
        """Write `aggregate` at commit: as a new item, or conditional on its version."""
        ...

    def restored(self, key: Key, aggregate: Any, item: Item) -> None:  # noqa: ANN401 - any aggregate
        """Remember an aggregate as read from `item`, an image of an item no longer stored."""
        ...


def _group(items: Iterable[Item]) -> dict[str, list[Item]]:
    """Items of several aggregates by the id in their sort key (``LOAN#<id>#...``)."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(str(item["SK"]).split("#")[1], []).append(item)
    return groups


def _stored(*ids: object) -> bool:
    """Whether something can be stored under every one of `ids` (see `keys.storable`)."""
    return all(keys.storable(each) for each in ids)


def _scan_start(cursor: str) -> dict[str, str]:
    """The scan's start key a cursor holds. Raises `InvalidRequest` for one not ours."""
    try:
        start = json.loads(cursor)
    except ValueError:
        start = None
    if not isinstance(start, dict) or set(start) != {"PK", "SK"}:
        raise InvalidRequest(f"not a listing cursor: {cursor!r}", key="cursor")
    return {"PK": str(start["PK"]), "SK": str(start["SK"])}


def _split(items: list[Item], root_sk: str) -> tuple[Item | None, list[Item]]:
    mine = [item for item in items if keys.belongs_to(str(item["SK"]), root_sk)]
    roots = [item for item in mine if item["SK"] == root_sk]
    return (roots[0] if roots else None), [item for item in mine if item["SK"] != root_sk]


A = TypeVar("A", bound=Application)


@attrs.frozen
class ApplicationItems(Generic[A]):
    """How one product stores its applications: one item each, under the borrower."""

    what: str
    """How a message names one (``loan application``)."""
    entity: str
    """The `LocError.entity` of a missing one."""
    prefix: str
    """The sort-key prefix of the product's applications."""
    sort_key: Callable[[str], str]
    """An application's sort key, from its id."""
    decode: Callable[[Item], A]
    """The application an item holds."""


LOAN_APPLICATIONS = ApplicationItems(
    "loan application",
    "loan_application",
    "LOANAPP#",
    keys.loan_application_sk,
    codecs.decode_loan_application,
)
"""``LOANAPP#`` items: the `LoanApplicationRepository`'s."""

LINE_APPLICATIONS = ApplicationItems(
    "credit-line application",
    "line_application",
    "LOCAPP#",
    keys.line_application_sk,
    codecs.decode_line_application,
)
"""``LOCAPP#`` items: the `CreditLineApplicationRepository`'s."""


class Applications(Generic[A]):
    """A product's application repository over its `ApplicationItems`."""

    def __init__(self, tracker: Tracker, items: ApplicationItems[A]) -> None:
        self._tracker = tracker
        self._table = tracker.table
        self._items = items

    def _key(self, user_id: str, application_id: str) -> Key:
        return (keys.user_pk(user_id), self._items.sort_key(application_id))

    def get(self, user_id: str, application_id: str) -> A:
        """The application, read consistently. Raises `NotFound`."""
        key = self._key(user_id, application_id) if _stored(user_id, application_id) else None
        item = None if key is None else self._table.get(key)
        if item is None:
            raise NotFound(
                f"no {self._items.what} {application_id} for user {user_id}",
                entity=self._items.entity,
                entity_id=application_id,
                user_id=user_id,
            )
        application = self._items.decode(item)
        self._tracker.loaded(codecs.item_key(item), application, [item])
        return application

    def add(self, application: A) -> None:
        """Write a new application at commit."""
        key = self._key(application.user_id, application.application_id)
        self._tracker.register(key, application, new=True)

    def save(self, application: A) -> None:
        """Write a changed application at commit, if its stored version is unchanged."""
        key = self._key(application.user_id, application.application_id)
        self._tracker.register(key, application, new=False)

    def restore(self, application: A, stored: StoredItem | None) -> None:
        """Take `application`, the last image of an item its TTL removed, as read here.

        A later `save` writes the item back from `stored` (`as_written`): attributes this
        release does not read stay in it. Without `stored`, only what `application` holds.

        Raises:
            InvariantViolation: when `stored` is not `application`'s item.
        """
        if stored is None:
            return
        key = self._key(application.user_id, application.application_id)
        item: Item = dict(stored.attributes)
        if codecs.item_key(item) != key:
            raise InvariantViolation(
                f"the stored image {item.get('PK')}/{item.get('SK')} is not that of "
                f"{self._items.what} {application.application_id}",
                entity=self._items.entity,
                entity_id=application.application_id,
                user_id=application.user_id,
                invariant="image_of_application",
            )
        self._tracker.restored(key, application, item)

    def for_user(self, user_id: str) -> list[A]:
        """Every application of a user for this product, oldest first."""
        if not _stored(user_id):
            return []
        found = []
        for item in _prefixed(self._table, user_id, self._items.prefix):
            application = self._items.decode(item)
            self._tracker.loaded(codecs.item_key(item), application, [item])
            found.append(application)
        return sorted(found, key=lambda a: (a.created_at, a.application_id))


def _prefixed(table: DynamoTable, user_id: str, prefix: str) -> Iterable[Item]:
    return table.query(
        "#PK = :pk AND begins_with(#SK, :prefix)",
        {":pk": keys.user_pk(user_id), ":prefix": prefix},
    )


def _aggregate(table: DynamoTable, user_id: str, root_sk: str, bound: str) -> list[Item]:
    """One query for a root and its children: ``SK BETWEEN <root> AND <bound>``."""
    return list(
        table.query(
            "#PK = :pk AND #SK BETWEEN :root AND :bound",
            {":pk": keys.user_pk(user_id), ":root": root_sk, ":bound": bound},
        )
    )


G = TypeVar("G", bound=Loan | CreditLine)


class _Aggregates(abc.ABC, Generic[G]):
    """What the loan and line repositories share.

    Loading a root with its children, registering writes, and finding a payment's owner
    among this product's aggregates.
    """

    product: Product
    prefix: str
    """The sort-key prefix of this product's roots (``LOAN#``, ``LOC#``)."""
    kind: str
    """The kind an error names (``loan``, ``line``)."""
    label: str
    """How a message names one (``credit line``)."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._table = tracker.table

    def _decode(self, items: list[Item], root_sk: str) -> G | None:
        """The aggregate whose root is `root_sk` among `items`, remembered for the commit."""
        root, found = _split(items, root_sk)
        if root is None:
            return None
        children = [item for item in found if self._part_of(item)]
        aggregate = self._build(root, children)
        self._tracker.loaded(codecs.item_key(root), aggregate, [root, *children])
        return aggregate

    def _load(self, user_id: str, entity_id: str) -> G:
        """The aggregate: one query from its root to `_bound`. Raises `NotFound`."""
        aggregate = None
        if _stored(user_id, entity_id):
            root_sk = self._root_sk(entity_id)
            items = _aggregate(self._table, user_id, root_sk, self._bound(entity_id))
            aggregate = self._decode(items, root_sk)
        if aggregate is None:
            raise NotFound(
                f"no {self.label} {entity_id} for user {user_id}",
                about=Ref(self.kind, entity_id, user_id),
            )
        return aggregate

    def _every(self, user_id: str) -> list[G]:
        """Every aggregate of `user_id` from one consistent query over the prefix."""
        if not _stored(user_id):
            return []
        found = []
        for entity_id, items in _group(_prefixed(self._table, user_id, self.prefix)).items():
            aggregate = self._decode(items, self._root_sk(entity_id))
            if aggregate is not None:
                found.append(aggregate)
        return found

    def _page(self, cursor: str | None, limit: int) -> tuple[list[tuple[str, str]], str | None]:
        """One `Scan` page of this product's roots as (user id, id); the cursor is JSON.

        The table has no index of every loan or line, so a listing scans it (a daily
        job's cost: docs/jobs.md). A root's SK is the prefix and an id, which holds no
        ``#``; its children's SKs go on after another ``#``.
        """
        start = None if cursor is None else _scan_start(cursor)
        found, following = self._table.scan_keys(self.prefix, start=start, limit=limit)
        roots = [
            (pk.removeprefix("USER#"), sk.removeprefix(self.prefix))
            for pk, sk in found
            if pk.startswith("USER#") and "#" not in sk.removeprefix(self.prefix)
        ]
        return roots, None if following is None else json.dumps(following, sort_keys=True)

    def add(self, aggregate: G) -> None:
        """Write a new aggregate at commit, with its children."""
        self._tracker.register(self._key(aggregate), aggregate, new=True)

    def save(self, aggregate: G) -> None:
        """Write a changed aggregate at commit, if its stored version is unchanged."""
        self._tracker.register(self._key(aggregate), aggregate, new=False)

    def find_payment(self, payment_id: str) -> PaymentOwner | None:
        """Which of this product's aggregates a payment was applied to, from GSI3."""
        if not _stored(payment_id):
            return None
        found = self._table.query(
            "#GSI3PK = :pk", {":pk": keys.payment_pk(payment_id)}, index="GSI3"
        )
        for item in found:
            owner = codecs.payment_owner(item)
            if owner.product == self.product:
                return owner
        return None

    @abc.abstractmethod
    def _root_sk(self, entity_id: str) -> str:
        """The sort key of the aggregate's root item."""

    @abc.abstractmethod
    def _bound(self, entity_id: str) -> str:
        """The upper bound of the one query that reads the root and its children."""

    def _part_of(self, item: Item) -> bool:
        """Whether a child item under the root is the aggregate's: all are, but a line's statements.

        Only the aggregate's are remembered as read: a save deletes those it no longer holds.
        """
        del item
        return True

    @abc.abstractmethod
    def _build(self, root: Item, children: list[Item]) -> G:
        """The aggregate from its root item and its children's items."""

    @abc.abstractmethod
    def _key(self, aggregate: G) -> Key:
        """The aggregate's root key."""


class Loans(_Aggregates[Loan]):
    """`LoanRepository`: a loan, its installments and payments, from one query."""

    product = Product.INSTALLMENT
    prefix = "LOAN#"
    kind = "loan"
    label = "loan"

    def get(self, user_id: str, loan_id: str) -> Loan:
        """The loan, read consistently with one query and verified. Raises `NotFound`."""
        return self._load(user_id, loan_id)

    def _root_sk(self, entity_id: str) -> str:
        return keys.loan_sk(entity_id)

    def _bound(self, entity_id: str) -> str:
        return keys.after_children(keys.loan_sk(entity_id))

    def _build(self, root: Item, children: list[Item]) -> Loan:
        return codecs.decode_loan(root, children)

    def _key(self, aggregate: Loan) -> Key:
        return (keys.user_pk(aggregate.user_id), keys.loan_sk(aggregate.loan_id))

    def for_user(self, user_id: str, *, status: LoanStatus | None = None) -> list[Loan]:
        """A user's loans, oldest first: one consistent query over ``LOAN#``."""
        loans = [loan for loan in self._every(user_id) if status is None or loan.status is status]
        return sorted(loans, key=lambda loan: (loan.created_at, loan.loan_id))

    def page(self, cursor: str | None, limit: int) -> RefPage[LoanRef]:
        """One page of every loan (`LoanRepository.page`): a consistent `Scan` page."""
        roots, following = self._page(cursor, limit)
        return RefPage(tuple(LoanRef(user, loan) for user, loan in roots), following)

    def by_application(self, user_id: str, application_id: str) -> Loan | None:
        """The loan made from an application: GSI3, then a consistent read of the loan."""
        if not _stored(user_id, application_id):
            return None
        found = self._table.query(
            "#GSI3PK = :pk AND #GSI3SK = :sk",
            {":pk": keys.user_pk(user_id), ":sk": keys.loan_by_application_sk(application_id)},
            index="GSI3",
            projection=("loc_loan_id",),
        )
        for item in found:
            loan = self.get(user_id, str(item["loc_loan_id"]))
            if loan.application_id == application_id:
                return loan
        return None

    def installments(
        self, status: InstallmentStatus, *, due_through: dt.date | None = None
    ) -> list[InstallmentRef]:
        """Installments in `status` due on or before `due_through`, by due date, from GSI1.

        One query a partition: ``GSI1SK < DUEDATE#<the day after>`` (``begins_with
        DUEDATE#`` for all). A sharded table is read shard by shard and the answers merged
        in due-date order.
        """
        if due_through is None:
            condition = "#GSI1PK = :pk AND begins_with(#GSI1SK, :sk)"
            sort_key = "DUEDATE#"
        else:
            condition = "#GSI1PK = :pk AND #GSI1SK < :sk"
            sort_key = f"DUEDATE#{(due_through + dt.timedelta(days=1)).isoformat()}"
        shards = [
            sorted(
                (
                    codecs.installment_ref(item)
                    for item in self._table.query(
                        condition,
                        {":pk": partition, ":sk": sort_key},
                        index="GSI1",
                        projection=_INSTALLMENT_REF,
                    )
                ),
                key=_due_order,
            )
            for partition in self._table.partitions(keys.installment_status_pk(status.value))
        ]
        return list(heapq.merge(*shards, key=_due_order))


def _due_order(ref: InstallmentRef) -> tuple[dt.date, str]:
    return (ref.due_date, ref.installment_id)


class Lines(_Aggregates[CreditLine]):
    """`CreditLineRepository`: a line, its draws, payments, disputes and waivers, from one query."""

    product = Product.CREDITLINE
    prefix = "LOC#"
    kind = "line"
    label = "credit line"

    def get(self, user_id: str, line_id: str) -> CreditLine:
        """The line, read consistently with one query. Raises `NotFound`.

        The query stops before ``LOC#<line>#STATEMENT``: statements are not part of the
        aggregate, and a line collects one a month.
        """
        return self._load(user_id, line_id)

    def _root_sk(self, entity_id: str) -> str:
        return keys.line_sk(entity_id)

    def _bound(self, entity_id: str) -> str:
        return keys.statements_prefix(entity_id).removesuffix("#")

    def _part_of(self, item: Item) -> bool:
        return not _is_statement(item)  # read by `for_user`'s query, never the line's

    def _build(self, root: Item, children: list[Item]) -> CreditLine:
        return codecs.decode_line(root, children)

    def _key(self, aggregate: CreditLine) -> Key:
        return (keys.user_pk(aggregate.user_id), keys.line_sk(aggregate.line_id))

    def for_user(self, user_id: str) -> list[CreditLine]:
        """A user's lines, oldest first: one consistent query over ``LOC#``.

        The query reads the lines' statements too and leaves them out: a borrower has
        one or two lines, and a query per line would cost more than the statements.
        """
        lines = self._every(user_id)
        return sorted(lines, key=lambda line: (line.opened_on, line.line_id))

    def page(self, cursor: str | None, limit: int) -> RefPage[LineRef]:
        """One page of every line (`CreditLineRepository.page`): a consistent `Scan` page."""
        roots, following = self._page(cursor, limit)
        return RefPage(tuple(LineRef(user, line) for user, line in roots), following)

    def by_cycle_day(self, cycle_day: int) -> list[LineRef]:
        """Lines that are not CLOSED closing their cycle on `cycle_day`, from GSI1."""
        found = self._table.query(
            "#GSI1PK = :pk",
            {":pk": keys.cycle_day_pk(cycle_day)},
            index="GSI1",
            projection=_LINE_REF,
        )
        return sorted((codecs.line_ref(item) for item in found), key=_line_order)

    def due_between(self, first: dt.date, last: dt.date) -> list[LineRef]:
        """Lines due within ``[first, last]``, by due date, from GSI2: one query a shard.

        Any range costs the same number of queries, so ``due_between(date.min,
        date.max)`` (every line with a due date) is as cheap as a single day.
        """
        if first > last:
            return []
        found: list[tuple[dt.date, LineRef]] = [
            (parse_date(item["loc_next_due_date"]), codecs.line_ref(item))
            for partition in self._table.partitions(keys.LINE_DUE_DATES)
            for item in self._table.query(
                "#GSI2PK = :pk AND #GSI2SK BETWEEN :first AND :last",
                {
                    ":pk": partition,
                    ":first": f"DUEDATE#{first.isoformat()}",
                    ":last": f"DUEDATE#{last.isoformat()}$",
                },
                index="GSI2",
                projection=_LINE_REF,
            )
        ]
        found.sort(key=lambda pair: (pair[0], *_line_order(pair[1])))
        return [ref for _, ref in found]

    def overdue_candidates(self, on: dt.date) -> list[LineRef]:
        """Lines whose overdue watch began by `on`, from the sparse GSI3: one query a shard."""
        found: list[tuple[str, LineRef]] = [
            (str(item["GSI3SK"]), codecs.line_ref(item))
            for partition in self._table.partitions(keys.LINES_TO_WATCH)
            for item in self._table.query(
                "#GSI3PK = :pk AND #GSI3SK <= :last",
                {":pk": partition, ":last": f"WATCH#{on.isoformat()}$"},
                index="GSI3",
                projection=_LINE_REF_WATCHED,
            )
        ]
        found.sort(key=lambda pair: pair[0])
        return [ref for _, ref in found]


def _is_statement(item: Item) -> bool:
    return str(item["SK"]).split("#")[2:3] == ["STATEMENT"]


def _line_order(ref: LineRef) -> tuple[str, str]:
    return (ref.user_id, ref.line_id)


def statement_key(statement: Statement) -> Key:
    """The key of a statement's item."""
    return (
        keys.user_pk(statement.user_id),
        keys.statement_sk(statement.line_id, statement.statement_date),
    )


class Statements:
    """`StatementRepository` over ``LOC#<line>#STATEMENT#<date>`` items."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._table = tracker.table

    def add(self, statement: Statement) -> None:
        """Write a new statement at commit; a statement is never overwritten."""
        self._tracker.register(statement_key(statement), statement, new=True)

    def get(self, user_id: str, line_id: str, statement_date: dt.date) -> Statement:
        """One statement, read consistently. Raises `NotFound`."""
        item = None
        if _stored(user_id, line_id):
            key = (keys.user_pk(user_id), keys.statement_sk(line_id, statement_date))
            item = self._table.get(key)
        if item is None:
            raise NotFound(
                f"no statement of {statement_date} for line {line_id}",
                about=Ref("statement", f"{line_id}#{statement_date}", user_id),
            )
        return codecs.decode_statement(item)

    def for_line(self, user_id: str, line_id: str) -> list[Statement]:
        """A line's statements, oldest first."""
        if not _stored(user_id, line_id):
            return []
        found = _prefixed(self._table, user_id, keys.statements_prefix(line_id))
        return [codecs.decode_statement(item) for item in found]


class Intents:
    """`IntentRepository` over ``INTENT#<intent>`` items, keyed by the intent id alone."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._table = tracker.table

    def get(self, user_id: str, intent_id: str) -> TransferIntent:
        """The intent, read consistently; `NotFound` when none is stored for `user_id`."""
        intent = self._read(intent_id, owner=user_id) if _stored(user_id) else None
        if intent is None:
            raise NotFound(
                f"no transfer intent {intent_id} for user {user_id}",
                about=Ref("intent", intent_id, user_id),
            )
        return intent

    def find(self, intent_id: str) -> TransferIntent | None:
        """The intent with this id, whoever owns it: one consistent `GetItem`."""
        return self._read(intent_id, owner=None)

    def _read(self, intent_id: str, *, owner: str | None) -> TransferIntent | None:
        """The stored intent, if there is one (and it is `owner`'s, unless None)."""
        if not _stored(intent_id):
            return None
        item = self._table.get(keys.intent_key(intent_id))
        if item is None:
            return None
        intent = codecs.decode_intent(item)
        if owner is not None and intent.user_id != owner:
            return None
        self._tracker.loaded(codecs.item_key(item), intent, [item])
        return intent

    def add(self, intent: TransferIntent) -> None:
        """Write a new intent at commit; the commit fails if the id is taken."""
        self._tracker.register(keys.intent_key(intent.intent_id), intent, new=True)

    def save(self, intent: TransferIntent) -> None:
        """Write a changed intent at commit, if its stored version is unchanged."""
        self._tracker.register(keys.intent_key(intent.intent_id), intent, new=False)

    def open_before(self, before: dt.datetime) -> list[IntentRef]:
        """Open intents made before `before`, oldest first, from the sparse GSI2.

        One query a shard, ``GSI2SK < <before>``: the sort key starts with the creation
        time at a fixed width, so string order is time order.
        """
        found = [
            codecs.intent_ref(item)
            for partition in self._table.partitions(keys.INTENTS_OPEN)
            for item in self._table.query(
                "#GSI2PK = :pk AND #GSI2SK < :before",
                {":pk": partition, ":before": format_fixed_timestamp(before)},
                index="GSI2",
                projection=codecs.INTENT_REF,
            )
        ]
        return sorted(found, key=lambda ref: (ref.created_at, ref.intent_id))

    def open_for(self, user_id: str, account_id: str) -> list[TransferIntent]:
        """The user's open intents on the account, oldest first.

        One query of the sparse GSI3 partition ``INTENT#PENDING#<account>``, then a
        consistent read of each.
        """
        if not _stored(user_id, account_id):
            return []
        refs = self._table.query(
            "#GSI3PK = :pk",
            {":pk": keys.intent_account_pk(account_id)},
            index="GSI3",
            projection=codecs.INTENT_REF,
        )
        found = (self._read(codecs.intent_ref(ref).intent_id, owner=user_id) for ref in refs)
        left = [intent for intent in found if intent is not None and intent.is_open]
        return sorted(left, key=lambda intent: (intent.created_at, intent.intent_id))


class JournalReader:
    """`JournalRepository`: the entries of a loan or line, from its own partition."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def entries_for(self, reference: str) -> list[JournalEntry]:
        """Every entry posted for a loan or line, in posting order."""
        if not _stored(reference):
            return []
        found = self._table.query("#PK = :pk", {":pk": keys.journal_pk(reference)})
        return [entry for _, entry in sorted(map(codecs.decode_journal_entry, found), key=_first)]


def _first(pair: tuple[tuple[int, int], JournalEntry]) -> tuple[int, int]:
    return pair[0]


class AuditLogReader:
    """`AuditLog`: the records of one entity, from its own partition, oldest first."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def records_for(self, entity: str, entity_id: str) -> list[AuditRecord]:
        """Every record of one entity, oldest first (the sort key keeps commit order)."""
        found = self._table.query("#PK = :pk", {":pk": keys.audit_pk(entity, entity_id)})
        return [codecs.decode_audit_record(item) for item in found]

    def entity_page(
        self, entity: str, entity_id: str, *, cursor: str | None, limit: int
    ) -> AuditRecordPage:
        """A page of one entity's records, oldest first: ``SK > <cursor's SK>`` in its partition."""
        condition, values = "#PK = :pk", {":pk": keys.audit_pk(entity, entity_id)}
        if cursor is not None:
            condition += " AND #SK > :after"
            values[":after"] = decode_cursor(cursor, pattern=_RECORD_SK)
        found = list(self._table.query(condition, values, limit=checked_limit(limit) + 1))
        return _audit_page(found, limit, "SK")

    def user_page(self, user_id: str, *, cursor: str | None, limit: int) -> AuditRecordPage:
        """A page of a borrower's records, newest first, from GSI1 ``AUDIT#USER#<user>``."""
        if not _stored(user_id):
            checked_limit(limit)
            return AuditRecordPage((), None)
        return self._newest_first("GSI1", [keys.audit_user_pk(user_id)], cursor, limit)

    def process_page(self, process: str, *, cursor: str | None, limit: int) -> AuditRecordPage:
        """A page of a process's records, newest first, from GSI2: one query a shard, merged."""
        if not _stored(process):
            checked_limit(limit)
            return AuditRecordPage((), None)
        base = keys.audit_process_pk(process)
        return self._newest_first("GSI2", self._table.partitions(base), cursor, limit)

    def _newest_first(
        self, index: str, partitions: list[str], cursor: str | None, limit: int
    ) -> AuditRecordPage:
        """The `limit` newest records below the cursor's sort key across `partitions`.

        Each partition gives at most `limit` + 1 items in descending order; the merge
        keeps the newest `limit`, and one more left over means a next page.
        """
        condition = f"#{index}PK = :pk"
        values: dict[str, str] = {}
        if cursor is not None:
            condition += f" AND #{index}SK < :before"
            values[":before"] = decode_cursor(cursor, pattern=_TIME_SK)
        found = [
            item
            for partition in partitions
            for item in self._table.query(
                condition,
                {**values, ":pk": partition},
                index=index,
                limit=checked_limit(limit) + 1,
                forward=False,
            )
        ]
        found.sort(key=lambda item: str(item[f"{index}SK"]), reverse=True)
        return _audit_page(found, limit, f"{index}SK")


_RECORD_SK = re.compile(r"RECORD#[0-9]{10}#[0-9]{4}#[^#]+")
"""A base-table cursor: the `audit_sk` of the last record of a page."""
_TIME_SK = re.compile(r"[0-9T:.-]{26}Z#" + _RECORD_SK.pattern)
"""An index cursor: the `audit_time_sk` of the last record of a page."""


def _audit_page(found: list[Item], limit: int, sort_key: str) -> AuditRecordPage:
    """The first `limit` of `found` (read in page order), with a cursor when more were found."""
    page = found[:limit]
    following = encode_cursor(str(page[-1][sort_key])) if len(found) > limit else None
    return AuditRecordPage(tuple(codecs.decode_audit_record(item) for item in page), following)
