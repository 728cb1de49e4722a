"""A billing-error notice received after the day's overdue job cures the line, replayed too.

Found by `CreditLineLifecycle` (correct_a_return before the job, dispute_a_charge,
book_backdated_draw): the day's job suspended the line; a notice received after it
disputed all that was past due, which cured the line at once (nothing undisputed past
due). A correction booked later that day replayed the day's job without the notice (it
came after the job: `BillingDispute.after_overdue_job`) but never the cure the notice
made, so the line took SUSPENDED with nothing past due until the next day's job. The
replay now cures the line after that day's job when the notices received after it leave
nothing past due, as the notice did.
"""

import datetime as dt

from loc_core.creditline import (
    CreditLine,
    CreditLineProduct,
    DisputedCharge,
    LineStatus,
    Statement,
)
from loc_core.ledger import Ledger
from loc_core.payments import Rail
from loc_core.testing.creditline import a_day_passes, make_line

PRODUCT = CreditLineProduct()


def _status(line: CreditLine) -> LineStatus:
    """The line's status now (read afresh: commands change it)."""
    return line.status


def test_a_correction_the_same_day_keeps_the_cure_a_notice_after_the_job_made() -> None:
    line = make_line(product=PRODUCT)
    ledger = Ledger()
    statements: list[Statement] = []
    today = line.opened_on
    line.request_draw(draw_id="draw-1", amount=10_000, on=today)
    line.disburse_draw(draw_id="draw-1", rail=Rail.RTP, on=today)
    while _status(line) is not LineStatus.SUSPENDED:  # the job suspends it after the due date
        today += dt.timedelta(days=1)
        statement = a_day_passes(line, today, product=PRODUCT)
        if statement is not None:
            statements.append(statement)
    ledger.post_all(line.outbox.drain().entries)
    line.dispute_billing_error(
        dispute_id="dispute-1",
        statement=statements[0],
        charge=DisputedCharge.DRAW,
        draw_id="draw-1",
        amount=line.past_due_amount(today),
        description="I drew less",
        received_on=today,
        product=PRODUCT,
    )
    assert line.disputes["dispute-1"].after_overdue_job
    assert _status(line) is LineStatus.ACTIVE  # nothing undisputed is past due

    line.book_backdated_draw(
        draw_id="draw-2",
        amount=1,
        rail=Rail.RTP,
        effective_on=today,
        reason="the rail reported late",
        today=today,
        product=PRODUCT,
        posted=ledger.entries(),
    )

    assert line.past_due_amount(today) == 0
    assert _status(line) is LineStatus.ACTIVE
