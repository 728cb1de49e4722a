"""The billing job (``loc_billing``, 08:00 UTC daily): close cycles, write statements.

Lines are found by cycle day (`CreditLineRepository.by_cycle_day`, which leaves CLOSED
lines out) for today and for each of the `command.catch_up_days` before it (chosen: 7), so a line
a failed run missed is billed by a later run. Each line found has every cycle that closed
on or before today billed, oldest first, so a line that missed several closes catches up
in one go. Cycle days stop at 28, so on the 29th to 31st only the catch-up finds lines.
A line whose index entry shows its open cycle closing after today (`LineRef.next_close`)
is reported skipped without being read: most lines the catch-up finds were billed days ago.
Commands that record activity on a line (draws, payments, settlements) also bill first,
so billing is never a precondition a borrower waits for.

One unit of work per line: the line and its statements commit together, then
``loc_statement_ready`` is sent. Billing a close already billed changes nothing, so a
re-run for the same date does nothing.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.creditline import CreditLine
from loc_core.ports import LineRef
from loc_core.services.lines.jobs import JobReport, LineJobs
from loc_core.services.scheduled import PageableJob
from loc_core.validation import valid_count

__all__ = ["BILLING_CATCH_UP_DAYS", "BillClosedCycles", "bill_closed_cycles"]

BILLING_CATCH_UP_DAYS = 7
"""How many days back the billing job looks for lines a failed run missed (policy)."""
BILLING_MAX_CATCH_UP_DAYS = 366
"""The longest look-back a `BillClosedCycles` may ask for: a year of cycles *(policy)*."""


@attrs.frozen
class BillClosedCycles(PageableJob[JobReport]):
    """Run the billing job (``loc_billing``, 08:00 UTC) for the business date."""

    catch_up_days: int = attrs.field(
        default=BILLING_CATCH_UP_DAYS,
        validator=valid_count(minimum=0, maximum=BILLING_MAX_CATCH_UP_DAYS),
    )
    """How many days back to look for lines a failed run left unbilled."""


def bill_closed_cycles(command: BillClosedCycles, *, jobs: LineJobs) -> JobReport:
    """Bill every line whose cycle closed today, or closed recently and is still unbilled."""
    lines = jobs.lines
    today = command.business_date(lines.clock)
    with lines.uow as uow:
        refs = [
            ref
            for back in range(command.catch_up_days, -1, -1)
            for ref in uow.lines.by_cycle_day((today - dt.timedelta(days=back)).day)
        ]
    request_id = f"loc_billing:{today.isoformat()}"

    def bill(ref: LineRef) -> bool:
        if ref.next_close is not None and ref.next_close > today:
            return False  # the index shows no close unbilled: nothing to read
        _, statements = lines.change(
            ref.user_id,
            ref.line_id,
            _nothing,
            actor="loc_billing",
            request_id=request_id,
            today=today,
        )
        return bool(statements)

    return jobs.for_each("loc_billing", refs, bill, today, command)


def _nothing(_line: CreditLine, _today: dt.date) -> None:
    """Billing is all `LineWriter.change` does first; nothing else changes."""
