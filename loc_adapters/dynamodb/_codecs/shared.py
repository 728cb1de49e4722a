"""What the codecs of every item type share: the version marker, keys, TTL and reading."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._convert import Item, Shape, converter, format_timestamp
from loc_core.bookkeeping import Product
from loc_core.errors import InvariantViolation, LocError
from loc_core.ports import PaymentOwner

__all__ = [
    "EXPIRES_AT",
    "SEED_TIMESTAMPS",
    "STATUS",
    "VERSION",
    "build",
    "expiry_from_ttl",
    "is_legacy",
    "item_key",
    "item_name",
    "owned_attributes",
    "payment_owner",
    "reading",
    "ttl_seconds",
    "unreadable",
    "whole",
]

T = TypeVar("T")

VERSION = "loc_version"
"""Every item this library writes has it; an item without it was written by the Go service."""
EXPIRES_AT = "loc_expires_at"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SECOND = dt.timedelta(seconds=1)

SEED_TIMESTAMPS = {"created_at": "loc_created_date", "updated_at": "loc_last_updated"}
STATUS = frozenset({"status"})
"""A stored status is never guessed from a default."""

_STORAGE_ATTRIBUTES = frozenset({*keys.GSI_ATTRIBUTES, "ttl", EXPIRES_AT})


def owned_attributes(shape: Shape) -> frozenset[str]:
    """The attributes this library writes on an item of `shape`.

    An update sets those present and removes those absent; attributes nobody here
    knows (written by another service) are left alone.
    """
    return shape.attributes() | _STORAGE_ATTRIBUTES


def item_key(item: Mapping[str, Any]) -> tuple[str, str]:
    """An item's primary key."""
    return (str(item["PK"]), str(item["SK"]))


def item_name(item: Mapping[str, Any]) -> str:
    """How errors name an item: by its key."""
    return f"item {item.get('PK')}/{item.get('SK')}"


def unreadable(
    item: Mapping[str, Any], problem: str, *, entity: str, invariant: str
) -> InvariantViolation:
    """The error for an item a codec cannot read: it names the item and what is wrong."""
    return InvariantViolation(f"{item_name(item)}: {problem}", entity=entity, invariant=invariant)


@contextmanager
def reading(
    item: Mapping[str, Any], problem: str, *, entity: str, invariant: str
) -> Iterator[None]:
    """Reading `item` inside: a missing or malformed attribute raises `unreadable` instead."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:
        raise unreadable(item, f"{problem}: {exc}", entity=entity, invariant=invariant) from exc


def is_legacy(item: Mapping[str, Any]) -> bool:
    """Whether the Go service wrote `item` (it has no version)."""
    return VERSION not in item


def whole(item: Mapping[str, Any], name: str) -> int:
    """The attribute `name` as a whole number; `InvariantViolation` naming the item if not."""
    value = item.get(name)
    try:
        return converter.structure(value, int)
    except (TypeError, ValueError) as exc:
        raise InvariantViolation(
            f"{item_name(item)}: {name} is not a whole number: {value!r}",
            key=name,
            invariant="whole_number",
        ) from exc


def ttl_seconds(expires_at: dt.datetime) -> int:
    """Epoch seconds, rounded up: DynamoDB never removes an offer before it lapses."""
    seconds, rest = divmod(expires_at - _EPOCH, _SECOND)
    return seconds + (1 if rest else 0)


def expiry_from_ttl(item: Item) -> Item:
    """An item the Go service wrote has only ``ttl``; the exact expiry is derived from it."""
    if EXPIRES_AT not in item and item.get("ttl") is not None:
        return {**item, EXPIRES_AT: format_timestamp(_EPOCH + whole(item, "ttl") * _SECOND)}
    return item


def build(cls: type[T], values: dict[str, Any], where: str) -> T:
    """An aggregate from decoded values; a value it refuses is an `InvariantViolation`."""
    try:
        return cls(**values)
    except LocError as exc:
        raise InvariantViolation(
            f"stored {where} contradicts itself: {exc}",
            entity=exc.entity,
            entity_id=exc.entity_id,
            user_id=exc.user_id,
            key=exc.key,
            invariant=exc.invariant or "stored_state_consistent",
        ) from exc


def payment_owner(item: Mapping[str, Any]) -> PaymentOwner:
    """Which loan or line a payment's index entry belongs to."""
    owner = str(item.get("GSI3SK", ""))
    if owner.startswith("LOAN#"):
        return PaymentOwner(Product.INSTALLMENT, str(item["loc_user_id"]), str(item["loc_loan_id"]))
    if owner.startswith("LOC#"):
        return PaymentOwner(Product.CREDITLINE, str(item["loc_user_id"]), str(item["loc_line_id"]))
    raise unreadable(
        item,
        "a payment index entry of neither a loan nor a line",
        entity="payment",
        invariant="payment_owner_known",
    )
