"""A draw: money a borrower takes from a line, and the rails that declined or accepted it."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from loc_core import audit
from loc_core.events import AuditValue
from loc_core.payments import Rail

__all__ = ["Draw", "DrawStatus"]


class DrawStatus(enum.Enum):
    """Where a draw stands."""

    PENDING = "PENDING"
    DISBURSED = "DISBURSED"
    FAILED = "FAILED"
    RETURNED = "RETURNED"
    """A rail sent it and the money came back (an ACH credit returned: the account was
    closed or unknown): reversed as of the day it was sent, so it is owed nothing."""


@attrs.define(kw_only=True)
class Draw:
    """One draw on a line and the rails that declined or accepted it."""

    draw_id: str
    line_id: str
    user_id: str
    amount: int
    requested_on: dt.date
    status: DrawStatus = DrawStatus.PENDING
    rail: Rail | None = None
    """The rail that accepted the draw."""
    declined_rails: tuple[Rail, ...] = ()
    settled_on: dt.date | None = None
    """When a rail accepted it, or when it failed."""
    failure_reason: str = ""
    returned_on: dt.date | None = None
    """The day the line learned the rail brought the money back (RETURNED only)."""
    sequence: int = 0
    """Its place among the line's draws and payments when it was disbursed
    (`LineState.money_events`): a replay disburses it in that order on its day."""

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("draw", self.draw_id)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered."""
        return audit.snapshot(self)

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values, as `audit_snapshot` renders them."""
        return audit.fields(self)
