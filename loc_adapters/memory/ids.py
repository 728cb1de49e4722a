"""Deterministic identifiers, so tests and simulations are repeatable."""

from __future__ import annotations

import attrs


@attrs.define
class SequentialIds:
    """An `IdGenerator` counting up: ``<prefix>-000001``, and loan numbers ``FM-000001``."""

    prefix: str = "id"
    loan_number_prefix: str = "FM"
    _next_id: int = attrs.field(default=1, init=False)
    _next_loan_number: int = attrs.field(default=1, init=False)

    def new_id(self) -> str:
        """The next id in sequence."""
        value = f"{self.prefix}-{self._next_id:06d}"
        self._next_id += 1
        return value

    def next_loan_number(self) -> str:
        """The next loan number; never reused."""
        value = f"{self.loan_number_prefix}-{self._next_loan_number:06d}"
        self._next_loan_number += 1
        return value
