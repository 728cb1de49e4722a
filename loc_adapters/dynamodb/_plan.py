"""One commit as one `TransactWriteItems`: its actions, its limits, and why it failed.

Each action remembers what it writes and what its condition means, so that the
`CancellationReasons` DynamoDB returns (one per action, in order) become a precise
`ConcurrencyConflict`: which aggregate changed since it was read, which key already
existed, which journal entry was already posted.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from boto3.dynamodb.types import Binary

from loc_adapters.dynamodb._codecs import VERSION, item_key
from loc_adapters.dynamodb._convert import Item
from loc_adapters.dynamodb._keys import lock_key
from loc_adapters.dynamodb._lock import lease_check
from loc_adapters.dynamodb._table import TRANSACTION_LIMIT, serialize
from loc_core.errors import (
    ConcurrencyConflict,
    ExternalServiceError,
    InvariantViolation,
    LeaseLost,
    LocError,
)
from loc_core.money import exact_context
from loc_core.ports import ITEM_SIZE_LIMIT, Lease

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["ITEM_SIZE_LIMIT", "TRANSACTION_SIZE_LIMIT", "Kind", "Plan", "item_size"]

TRANSACTION_SIZE_LIMIT = 4 * 1024 * 1024
"""Most bytes of items one `TransactWriteItems` may write."""

_SHOWN = 5
"""Reasons named in a conflict's message; a duplicate loan would otherwise list every item."""
_EXACT = exact_context(60)
"""A number's digits are counted in the library's own context, never the host's."""


_DEFECTS = frozenset({"ValidationError", "ItemCollectionSizeLimitExceeded"})
"""Cancellation reasons a retry of the same commit meets again: the commit is at fault.

``ThrottlingError`` and ``ProvisionedThroughputExceeded`` are outages (retry later),
``ConditionalCheckFailed`` and ``TransactionConflict`` races (re-read and retry).
"""


class Kind(enum.Enum):
    """What an action's condition protects, to explain its failure."""

    NEW = "new"
    """A new item: it must not exist yet."""
    SAVED_ROOT = "saved_root"
    """An aggregate's item: its version must still be the one read."""
    CHILD = "child"
    """A child item of a saved aggregate: the aggregate's condition covers it."""
    ENTRY = "entry"
    """A journal entry: posted once."""
    FENCE = "fence"
    """A check, writing nothing, that a lease is still the lock's current one."""


@attrs.frozen
class Action:
    """One write of the transaction and how to explain its refusal."""

    key: tuple[str, str]
    label: str
    kind: Kind
    request: TransactWriteItemTypeDef
    expected_version: int = 0
    lease_key: str = ""
    """The lock key a FENCE checks."""
    size: int = 0
    """The bytes of the item as it will be stored (as far as known), for the size limits."""

    def refusal(self, stored: Item | None) -> str:
        """Why the condition failed, given the item as it was stored."""
        if self.kind is Kind.ENTRY:
            return f"{self.label} was already posted"
        if self.kind is Kind.FENCE:
            return f"{self.label} is no longer current"
        if self.kind is Kind.SAVED_ROOT:
            if stored is None:
                return f"{self.label} no longer exists"
            return (
                f"{self.label} changed since it was read (read version "
                f"{self.expected_version}, stored {stored.get(VERSION, 0)})"
            )
        return f"{self.label} already exists"


@attrs.define
class Plan:
    """The actions of one commit, checked before DynamoDB sees them."""

    table: str
    actions: list[Action] = attrs.field(factory=list)

    def put_new(self, item: Item, *, label: str, kind: Kind = Kind.NEW) -> None:
        """Create an item that must not exist."""
        self.actions.append(
            Action(
                item_key(item),
                label,
                kind,
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": serialize(item),
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": "PK"},
                    }
                },
                size=item_size(item),
            )
        )

    def save_root(
        self,
        item: Item,
        owned: AbstractSet[str],
        *,
        label: str,
        expected: int,
        may_be_gone: bool,
        size: int | None = None,
    ) -> None:
        """Update an aggregate's item if its version is still `expected`.

        `may_be_gone`: the item may have been removed by its TTL (an application) and is
        then written again; otherwise a missing item is a conflict. `size`: the bytes of
        the whole item after the update, when known (by default, those of `item`).
        """
        names = {"#pk": "PK", "#ver": VERSION}
        values: dict[str, Any] = {}
        if expected == 0:  # never written by this library: the Go service's item
            current = "attribute_not_exists(#ver)"
        else:
            current = "#ver = :expected"
            values[":expected"] = expected
        condition = (
            f"attribute_not_exists(#pk) OR {current}"
            if may_be_gone
            else f"attribute_exists(#pk) AND {current}"
        )
        request = _update(self.table, item, owned, names, values)
        request["Update"]["ConditionExpression"] = condition
        request["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self.actions.append(
            Action(
                item_key(item),
                label,
                Kind.SAVED_ROOT,
                request,
                expected_version=expected,
                size=item_size(item) if size is None else size,
            )
        )

    def update_child(
        self, item: Item, owned: AbstractSet[str], *, label: str, size: int | None = None
    ) -> None:
        """Update (or create) a child item of a saved aggregate; `size` as in `save_root`."""
        request = _update(self.table, item, owned, {}, {})
        self.actions.append(
            Action(
                item_key(item),
                label,
                Kind.CHILD,
                request,
                size=item_size(item) if size is None else size,
            )
        )

    def put(self, item: Item, *, label: str) -> None:
        """Write an item whatever is stored under its key (a kept event: the same event)."""
        request: TransactWriteItemTypeDef = {
            "Put": {"TableName": self.table, "Item": serialize(item)}
        }
        self.actions.append(
            Action(item_key(item), label, Kind.CHILD, request, size=item_size(item))
        )

    def delete_child(self, key: tuple[str, str], *, label: str) -> None:
        """Remove a child item the aggregate no longer has."""
        request: TransactWriteItemTypeDef = {
            "Delete": {"TableName": self.table, "Key": serialize({"PK": key[0], "SK": key[1]})}
        }
        self.actions.append(Action(key, label, Kind.CHILD, request))

    def fence(self, lease: Lease, check: TransactWriteItemTypeDef | None = None) -> None:
        """Require that `lease` is still current when the transaction runs.

        `check` is the lock's own `ConditionCheck` (a lock table's); by default, the
        single table's ``LOCK#`` item.
        """
        label = f"{lease.key}: the lease of {lease.owner} (token {lease.fencing_token})"
        self.actions.append(
            Action(
                lock_key(lease.key),
                label,
                Kind.FENCE,
                lease_check(self.table, lease) if check is None else check,
                lease_key=lease.key,
            )
        )

    def check(self) -> None:
        """Refuse, before calling DynamoDB, what it would refuse or half-explain.

        Raises:
            ConcurrencyConflict: when the commit posts one journal entry twice.
            InvariantViolation: when it writes one item twice, more items than one
                transaction takes, an item larger than DynamoDB stores, or more bytes
                than one transaction takes.
        """
        seen: dict[tuple[str, str], Action] = {}
        for action in self.actions:
            earlier = seen.get(action.key)
            if earlier is not None:
                if action.kind is Kind.ENTRY:
                    raise ConcurrencyConflict(
                        f"{action.label} was already posted",
                        entity="journal_entry",
                        invariant="posted_once",
                    )
                raise InvariantViolation(
                    f"the commit writes {action.key[0]}/{action.key[1]} twice "
                    f"({earlier.label}, {action.label}); DynamoDB refuses that",
                    invariant="one_write_per_item",
                )
            seen[action.key] = action
        if len(self.actions) > TRANSACTION_LIMIT:
            raise InvariantViolation(
                f"the commit writes {len(self.actions)} items; one DynamoDB transaction "
                f"takes at most {TRANSACTION_LIMIT}: split the use case into smaller commits",
                invariant="transaction_limit",
            )
        for action in self.actions:
            if action.size > ITEM_SIZE_LIMIT:
                raise InvariantViolation(
                    f"the commit writes {action.label} ({action.key[0]}/{action.key[1]}) as "
                    f"an item of about {action.size:,} bytes; DynamoDB stores at most "
                    f"{ITEM_SIZE_LIMIT:,} bytes an item",
                    key=f"{action.key[0]}/{action.key[1]}",
                    invariant="item_size_limit",
                )
        total = sum(action.size for action in self.actions)
        if total > TRANSACTION_SIZE_LIMIT:
            raise InvariantViolation(
                f"the commit writes about {total:,} bytes in {len(self.actions)} items; one "
                f"DynamoDB transaction takes at most {TRANSACTION_SIZE_LIMIT:,} bytes: split "
                "the use case into smaller commits",
                invariant="transaction_size_limit",
            )

    def requests(self) -> list[TransactWriteItemTypeDef]:
        """The actions as `TransactItems`."""
        return [action.request for action in self.actions]

    def explain(self, reasons: list[tuple[str, Item | None]]) -> LocError:
        """The error for a cancelled transaction, from its `CancellationReasons`."""
        problems: list[str] = []
        conflict = False
        malformed = ""
        for action, (code, stored) in zip(self.actions, reasons, strict=False):
            if code in {"", "None"}:
                continue
            if action.kind is Kind.FENCE and code == "ConditionalCheckFailed":
                return LeaseLost(
                    f"{action.refusal(stored)}; nothing was committed",
                    entity="lease",
                    key=action.lease_key,
                )
            if code == "ConditionalCheckFailed":
                conflict = True
                problems.append(action.refusal(stored))
            elif code == "TransactionConflict":
                conflict = True
                problems.append(f"{action.label} is being written by another transaction")
            elif code in _DEFECTS:
                malformed = malformed or f"{action.label}: {code}"
                problems.append(f"{action.label}: {code}")
            else:
                problems.append(f"{action.label}: {code}")
        shown = problems[:_SHOWN]
        if len(problems) > _SHOWN:
            shown.append(f"and {len(problems) - _SHOWN} more")
        message = "; ".join(shown) or "DynamoDB cancelled the commit without a reason"
        if malformed:  # the same request fails the same way: a defect, not an outage
            return InvariantViolation(
                f"DynamoDB refused the commit as invalid: {message}; nothing was committed",
                invariant="valid_transaction",
            )
        if conflict:
            return ConcurrencyConflict(message)
        return ExternalServiceError(f"DynamoDB cancelled the commit: {message}")


def _update(
    table: str,
    item: Item,
    owned: AbstractSet[str],
    names: dict[str, str],
    values: dict[str, Any],
) -> Any:  # noqa: ANN401 - a TransactWriteItemTypeDef, built in parts
    """SET every attribute of `item`, REMOVE the owned ones it lacks; others stay as stored."""
    names = dict(names)
    values = dict(values)
    assignments = []
    for number, (name, value) in enumerate(
        (name, value) for name, value in item.items() if name not in {"PK", "SK"}
    ):
        names[f"#s{number}"] = name
        values[f":s{number}"] = value
        assignments.append(f"#s{number} = :s{number}")
    removals = []
    for number, name in enumerate(sorted(owned - item.keys())):
        names[f"#r{number}"] = name
        removals.append(f"#r{number}")
    clauses = [f"SET {', '.join(assignments)}"] if assignments else []
    if removals:
        clauses.append("REMOVE " + ", ".join(removals))
    update: dict[str, Any] = {
        "TableName": table,
        "Key": serialize({"PK": item["PK"], "SK": item["SK"]}),
        "UpdateExpression": " ".join(clauses),
        "ExpressionAttributeNames": names,
    }
    if values:  # DynamoDB refuses an empty map of values
        update["ExpressionAttributeValues"] = serialize(values)
    return {"Update": update}


def item_size(item: Mapping[str, Any]) -> int:
    """The bytes DynamoDB counts for `item`: each attribute's name and value.

    Strings and binaries count their bytes, a number about one byte per two significant
    digits plus one, a boolean or null one, a list or map three plus one per element
    (and a map its keys), a set its elements.
    """
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: object) -> int:  # noqa: PLR0911 - one answer per DynamoDB type
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, Binary):  # how boto3 reads a B attribute back
        return len(bytes(getattr(value, "value", b"")))
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | Decimal):
        digits = Decimal(value).normalize(_EXACT).as_tuple().digits
        return (len(digits) + 1) // 2 + 1
    if isinstance(value, Mapping):
        return 3 + sum(len(str(k).encode()) + 1 + _value_size(v) for k, v in value.items())
    if isinstance(value, set | frozenset):
        return sum(_value_size(element) for element in value)
    if isinstance(value, list | tuple):
        return 3 + sum(1 + _value_size(element) for element in value)
    return len(str(value).encode())
