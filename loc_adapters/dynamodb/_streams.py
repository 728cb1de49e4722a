"""Reading DynamoDB stream records: which application did its TTL remove?

The table's stream carries old and new images. When DynamoDB's time to live deletes an
application, the record's ``userIdentity`` names the DynamoDB service and its old image
holds the application as it was; the expiration handler saves it again as ABANDONED
when it was never converted. moto never expires items, so tests feed hand-built records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loc_adapters.dynamodb._codecs import decode_line_application, decode_loan_application
from loc_adapters.dynamodb._table import deserialize
from loc_core.creditline import CreditLineApplication
from loc_core.installment import LoanApplication

__all__ = ["expired_application"]

_TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def expired_application(
    record: Mapping[str, Any],
) -> LoanApplication | CreditLineApplication | None:
    """The application a TTL deletion removed, from one stream record.

    Returns None for every other record: inserts, updates, deletions made by a user
    (not by TTL), and items that are not applications.

    Raises:
        InvariantViolation: when the old image of an expired application is malformed.
    """
    if record.get("eventName") != "REMOVE":
        return None
    identity = record.get("userIdentity") or {}
    if identity.get("type") != "Service" or identity.get("principalId") != _TTL_PRINCIPAL:
        return None
    image = (record.get("dynamodb") or {}).get("OldImage")
    if not image:
        return None
    item = deserialize(image)
    sort_key = str(item.get("SK", ""))
    if sort_key.startswith("LOANAPP#"):
        return decode_loan_application(item)
    if sort_key.startswith("LOCAPP#"):
        return decode_line_application(item)
    return None
