"""The stored words of the line-of-credit product: the statuses of a line."""

from __future__ import annotations

import enum

__all__ = ["LineStatus"]


class LineStatus(enum.Enum):
    """Where a line stands; values are the stored status strings."""

    ACTIVE = "ACTIVE"
    """In good standing: draws allowed."""
    SUSPENDED = "SUSPENDED"
    """Past due: draws blocked until the past-due amount is paid (cured)."""
    DEFAULTED = "DEFAULTED"
    """Past due too long: charged off; payments still accepted as recoveries."""
    CLOSED = "CLOSED"
    """Closed with nothing owed."""
