"""An operator's waiver of a line's late fee: a recorded fact, effective on the fee's day.

The entity only. A line's late fee is one per missed cycle, named by that cycle
(`late_fee_cycle`, the date of the statement whose minimum was missed) and posted as
``<line>:<cycle>:late_fee``. A waiver records that the fee of that cycle is not owed:
the overdue rules read it (`collections.decide_overdue`, beside the billing errors a
dispute found) in every replay, so the corrected line never charges it, and later
corrections keep it waived. The rule that records one and corrects the line is
`correcting.waive_late_fee` (docs/credit-lines.md, *A late fee waived*).
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core import audit
from loc_core.events import AuditValue

__all__ = ["LineLateFeeWaiver"]


@attrs.frozen(kw_only=True)
class LineLateFeeWaiver:
    """An operator's waiver of the late fee a line charged for one missed cycle."""

    line_id: str
    user_id: str
    late_fee_cycle: dt.date
    """The statement date of the cycle whose minimum was missed (the line's `late_fee_cycle`
    when the fee was assessed)."""
    fee_reference: str
    """The fee's entry id, ``<line>:<cycle>:late_fee``: what the statement lists it under,
    and the key the line keeps the waiver under."""
    amount: int
    """The cents waived: the fee the line's history charged when it was waived."""
    effective_on: dt.date
    """The day the fee was assessed: the correction's effective date."""
    waived_on: dt.date
    """The business date it was booked (its ``:adjust`` entry's date)."""
    reason: str
    """Why, as the operator gave it (lender error, hardship, goodwill ...)."""
    idempotency_key: str
    """The operator's key: the same request again changes nothing."""

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id (the fee's reference)."""
        return ("late_fee_waiver", self.fee_reference)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered."""
        return audit.snapshot(self)

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values, as `audit_snapshot` renders them."""
        return audit.fields(self)
