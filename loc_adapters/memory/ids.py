"""Deterministic identifiers, so tests and simulations are repeatable."""

from __future__ import annotations

import re
import threading

import attrs


@attrs.define
class SequentialIds:
    """An `IdGenerator` counting up: ``<prefix>-000001``, and loan numbers ``FM-000001``."""

    prefix: str = "id"
    loan_number_prefix: str = "FM"
    _next_id: int = attrs.field(default=1, init=False)
    _next_loan_number: int = attrs.field(default=1, init=False)
    _guard: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False, eq=False)
    """Makes each call atomic (as the service it stands for does), so threads may share it."""

    def new_id(self) -> str:
        """The next id in sequence."""
        with self._guard:
            value = f"{self.prefix}-{self._next_id:06d}"
            self._next_id += 1
            return value

    def next_loan_number(self) -> str:
        """The next loan number; never reused."""
        with self._guard:
            value = f"{self.loan_number_prefix}-{self._next_loan_number:06d}"
            self._next_loan_number += 1
            return value


_OWNER_NUMBER = re.compile(r"([0-9]+)$")
_LOAN_NUMBER_DIGITS = 7
"""Owner numbers are written with (at least) this many digits in a loan number."""


@attrs.define
class OwnerIds:
    """An `IdGenerator` whose ids derive from the owner they are made for, not from a sequence.

    The caller says whose work is running (`owner`, a user id ending in a number such as
    ``user-0000042``); each owner has its own counters, so an owner's ids are the same
    whatever other owners did before, in this process or another: ``<prefix>-<owner>-0001``,
    and loan numbers ``FM-0000042001`` (the owner's number, then the owner's own count).
    Work for nobody in particular (a job's lease owner) gets ``<prefix>-job-000001``.
    """

    prefix: str = "id"
    loan_number_prefix: str = "FM"
    owner: str = ""
    """Whose work is running; empty: nobody's (a job's own ids)."""
    _ids: dict[str, int] = attrs.field(factory=dict, init=False)
    _loan_numbers: dict[str, int] = attrs.field(factory=dict, init=False)

    def new_id(self) -> str:
        """The owner's next id."""
        owner = self.owner
        count = self._ids[owner] = self._ids.get(owner, 0) + 1
        if not owner:
            return f"{self.prefix}-job-{count:06d}"
        return f"{self.prefix}-{owner}-{count:04d}"

    def next_loan_number(self) -> str:
        """The owner's next loan number: unique across owners, never reused.

        Raises:
            ValueError: the owner's id does not end in a number (or there is no owner).
        """
        owner = self.owner
        found = _OWNER_NUMBER.search(owner)
        if found is None:
            raise ValueError(f"loan numbers need an owner ending in a number, got {owner!r}")
        count = self._loan_numbers[owner] = self._loan_numbers.get(owner, 0) + 1
        return f"{self.loan_number_prefix}-{int(found[1]):0{_LOAN_NUMBER_DIGITS}d}{count:03d}"
