"""Identifiers: UUIDs, and loan numbers from an atomic counter on the table."""

from __future__ import annotations

import uuid

from loc_adapters.dynamodb._keys import counter_key
from loc_adapters.dynamodb._table import DynamoTable
from loc_core.errors import InvariantViolation

__all__ = ["DynamoIds"]

LOAN_NUMBERS = "LOAN_NUMBER"
"""The counter loan numbers come from (``COUNTER#LOAN_NUMBER``)."""


class DynamoIds:
    """An `IdGenerator`: uuid4 ids and ``FM-000001`` loan numbers, never reused.

    The counter is one item incremented with ``UpdateItem ADD``, which DynamoDB applies
    atomically: two callers never get the same number, and a number is never handed out
    again even when the loan it was meant for is never made.
    """

    def __init__(self, table: DynamoTable, *, loan_number_prefix: str = "FM") -> None:
        self._table = table
        self._prefix = loan_number_prefix

    def new_id(self) -> str:
        """A new random UUID (version 4), as text."""
        return str(uuid.uuid4())

    def next_loan_number(self) -> str:
        """The next loan number: ``FM-`` and the counter, at least six digits."""
        stored = self._table.update(
            counter_key(LOAN_NUMBERS),
            update="ADD #loc_value :one",
            values={":one": 1},
        )
        value = stored.get("loc_value")
        if value is None:
            raise InvariantViolation(
                "the loan-number counter returned no value", invariant="counter_value"
            )
        return f"{self._prefix}-{int(value):06d}"
