"""What a borrower owes on a line, by bucket."""

from __future__ import annotations

import attrs

__all__ = ["Balances"]


@attrs.frozen
class Balances:
    """Principal, interest and fees owed, in cents; each bucket has its own receivable."""

    principal: int = 0
    interest: int = 0
    fees: int = 0

    @property
    def total(self) -> int:
        """Everything owed: what a payment may not exceed."""
        return self.principal + self.interest + self.fees

    def plus(self, other: Balances) -> Balances:
        """Bucket by bucket sum (deltas may be negative)."""
        return Balances(
            self.principal + other.principal,
            self.interest + other.interest,
            self.fees + other.fees,
        )

    def negated(self) -> Balances:
        """The same amounts with the opposite sign: what undoes these deltas."""
        return Balances(-self.principal, -self.interest, -self.fees)
