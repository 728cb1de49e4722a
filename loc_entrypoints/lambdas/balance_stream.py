"""The balance reader of the table's stream (`table_stream`): changed loans and lines checked.

A MODIFY of a loan item (``LOAN#<id>``) or a line item (``LOC#<id>``) whose balance
attributes differ between the old and new images becomes `ReconcileLoan` or
`ReconcileLine` through the bus; those commands alert operations on every mismatch.
Every other record is skipped. Records of one item are applied in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loc_entrypoints.lambdas._batch import Outcome, unreadable_as_malformed

if TYPE_CHECKING:
    from loc_core.services.messagebus import MessageBus

__all__ = ["reconcile_changed"]


def reconcile_changed(bus: MessageBus, record: Mapping[str, Any]) -> Outcome:
    """Reconcile the loan or line whose balances one record changed; skip the rest.

    Raises:
        Malformed: a loan or line item without its owner or id.
    """
    from loc_adapters.dynamodb import balance_reconciliation  # noqa: PLC0415 - cold starts stay cheap

    with unreadable_as_malformed("a loan or line image"):
        command = balance_reconciliation(record)
    if command is None:
        return Outcome.SKIPPED
    bus.handle(command)
    return Outcome.APPLIED
