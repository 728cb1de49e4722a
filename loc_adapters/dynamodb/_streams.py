"""Reading DynamoDB stream records: what TTL removed, what audit committed, what balance moved.

The table's stream carries old and new images. When DynamoDB's time to live deletes an
application, the record's ``userIdentity`` names the DynamoDB service and its old image
holds the application as it was; the expiration handler saves it again as ABANDONED
when it was never converted. An INSERT of an ``AUDIT#`` item is a committed audit
record (`inserted_audit_record`); a MODIFY of a loan or line item whose balances differ
between the images asks for its reconciliation (`balance_reconciliation`). moto never
expires items and has no streams here, so tests feed hand-built records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loc_adapters.dynamodb._codecs import (
    decode_audit_record,
    decode_line_application,
    decode_loan_application,
)
from loc_adapters.dynamodb._codecs.shared import reading
from loc_adapters.dynamodb._convert import Item
from loc_adapters.dynamodb._table import deserialize
from loc_core.creditline import CreditLineApplication
from loc_core.errors import InvariantViolation
from loc_core.events import AuditRecord
from loc_core.installment import LoanApplication
from loc_core.ports import StoredItem
from loc_core.services.commands import ReconcileLine, ReconcileLoan

__all__ = [
    "ATTRIBUTE_VALUES",
    "LINE_BALANCES",
    "LOAN_BALANCES",
    "balance_reconciliation",
    "expired_application",
    "expired_item",
    "inserted_audit_record",
]

ATTRIBUTE_VALUES = "attribute_values"
"""The `InvariantViolation.invariant` of an image that is not DynamoDB attribute values at
all, which no release reads; any other failure to read an image is about its content
(a value this release does not know may be a newer release's)."""
_TTL_PRINCIPAL = "dynamodb.amazonaws.com"
_AUDIT_PREFIX = "AUDIT#"


def _map(value: object) -> Mapping[str, Any]:
    """`value` if it is a map (a record's ``dynamodb``, an image), else an empty one."""
    return value if isinstance(value, Mapping) else {}


def _images(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return _map(record.get("dynamodb"))


def _string(image: Mapping[str, Any], name: str) -> str:
    """The string attribute `name` of an image in attribute-value form; "" if it is none."""
    value = _map(image.get(name)).get("S")
    return value if isinstance(value, str) else ""


def _item(image: object, what: str) -> Item:
    """An image's attributes as Python values.

    Raises:
        InvariantViolation: the image is not a map of DynamoDB attribute values (an
            unknown type tag, a value that is not a tagged map, a number out of range).
    """
    if not isinstance(image, Mapping):
        raise InvariantViolation(
            f"{what}: a map of attribute values, not {type(image).__name__}",
            invariant=ATTRIBUTE_VALUES,
        )
    try:
        return deserialize(image)
    except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise InvariantViolation(
            f"{what}: not DynamoDB attribute values: {exc}", invariant=ATTRIBUTE_VALUES
        ) from exc


def expired_application(
    record: Mapping[str, Any],
) -> LoanApplication | CreditLineApplication | None:
    """The application a TTL deletion removed, from one stream record (see `expired_item`).

    Raises:
        InvariantViolation: when the old image of an expired application is malformed.
    """
    expired = expired_item(record)
    return None if expired is None else expired[0]


def expired_item(
    record: Mapping[str, Any],
) -> tuple[LoanApplication | CreditLineApplication, StoredItem] | None:
    """The application a TTL deletion removed, and its item as the table held it.

    The item goes with the command that writes the application back
    (`AbandonExpiredApplication.removed_item`), so what this release does not read (an
    attribute a newer release wrote) is written back with it. Returns None for every
    other record: inserts, updates, deletions made by a user (not by TTL), and items that
    are not applications.

    Raises:
        InvariantViolation: when the old image of an expired application is malformed:
            not attribute values at all (`ATTRIBUTE_VALUES`), or not an application this
            release reads (a missing attribute, a value it does not know).
    """
    if record.get("eventName") != "REMOVE":
        return None
    identity = _map(record.get("userIdentity"))
    if identity.get("type") != "Service" or identity.get("principalId") != _TTL_PRINCIPAL:
        return None
    image = _images(record).get("OldImage")
    if not image:
        return None
    item = _item(image, "a removed item's old image")
    sort_key = str(item.get("SK", ""))
    if sort_key.startswith("LOANAPP#"):
        return decode_loan_application(item), StoredItem(item)
    if sort_key.startswith("LOCAPP#"):
        return decode_line_application(item), StoredItem(item)
    return None


def inserted_audit_record(record: Mapping[str, Any]) -> tuple[AuditRecord, Item] | None:
    """The audit record an INSERT committed, with its item as stored; None for others.

    Raises:
        InvariantViolation: when the new image of an audit item is malformed.
    """
    if record.get("eventName") != "INSERT":
        return None
    image = _map(_images(record).get("NewImage"))
    if not _string(image, "PK").startswith(_AUDIT_PREFIX):
        return None
    item = _item(image, "an audit item's new image")
    return decode_audit_record(item), item


LOAN_BALANCES = ("loc_outstanding_balance", "loc_amount_disbursed")
"""The attributes of a loan item whose change asks for a reconciliation."""
LINE_BALANCES = (
    "loc_principal_balance",
    "loc_interest_balance",
    "loc_fee_balance",
    "loc_pending_draws_total",
)
"""The attributes of a line item whose change asks for a reconciliation."""


def balance_reconciliation(record: Mapping[str, Any]) -> ReconcileLoan | ReconcileLine | None:
    """The check of the loan or line a MODIFY changed a balance of; None for other records.

    Only the loan item (``LOAN#<id>``) and the line item (``LOC#<id>``) count: their
    installments, draws and payments change in the same commit as their balances.

    Raises:
        InvariantViolation: when the new image of a loan or line item has no owner or id.
    """
    if record.get("eventName") != "MODIFY":
        return None
    images = _images(record)
    old, new = _map(images.get("OldImage")), _map(images.get("NewImage"))
    sort_key = _string(new, "SK")
    kind, _, rest = sort_key.partition("#")
    if not rest or "#" in rest or kind not in {"LOAN", "LOC"}:
        return None
    balances = LOAN_BALANCES if kind == "LOAN" else LINE_BALANCES
    if all(old.get(name) == new.get(name) for name in balances):
        return None
    item = _item(new, "a loan or line item's new image")
    with reading(item, "not a loan or line", entity=kind.lower(), invariant="item_readable"):
        if kind == "LOAN":
            return ReconcileLoan(str(item["loc_user_id"]), str(item["loc_loan_id"]))
        return ReconcileLine(str(item["loc_user_id"]), str(item["loc_line_id"]))
