"""A correction on a charged-off line paid in full while a draw is still pending.

Found by `CreditLineLifecycle` (waive_a_late_fee): the line defaulted with a draw still
pending at its rail, and a payment brought it to a zero balance; the pending draw kept it
DEFAULTED (it may yet be sent, and is charged off then). An operator then waived a late
fee: the correction's replay did not hold the pending draw's amount, so it closed the
paid-off line, and the line took that status: CLOSED with a draw pending. A replay now
holds every draw's amount pending from the day it was requested until a rail sent it or
it failed, as the line did.
"""

import datetime as dt
from decimal import Decimal

from loc_core.creditline import (
    CreditLine,
    CreditLineProduct,
    LineLateFeeWaiver,
    LineStatus,
)
from loc_core.ledger import Ledger
from loc_core.payments import Rail
from loc_core.testing.creditline import a_day_passes, make_line

PRODUCT = CreditLineProduct(default_after_days_past_due=90)


def _defaulted_and_paid_with_a_draw_pending() -> tuple[CreditLine, Ledger, dt.date]:
    line = make_line(
        credit_limit=7_029,
        apr=Decimal(0),
        minimum_payment_percent=Decimal("1.00"),
        product=PRODUCT,
    )
    ledger = Ledger()
    today = line.opened_on + dt.timedelta(days=21)
    line.request_draw(draw_id="draw-1", amount=5_000, on=today)
    line.disburse_draw(draw_id="draw-1", rail=Rail.RTP, on=today)
    line.request_draw(draw_id="draw-2", amount=100, on=today)  # its rail has not answered
    ledger.post_all(line.outbox.drain().entries)
    for _ in range(150):  # nothing paid: late fees, then charged off
        today += dt.timedelta(days=1)
        a_day_passes(line, today, product=PRODUCT)
        ledger.post_all(line.outbox.drain().entries)
    assert line.status is LineStatus.DEFAULTED
    line.book_moved_payment(
        payment_id="pay-1", amount=line.total_balance, rail=Rail.PINLESS, on=today
    )
    ledger.post_all(line.outbox.drain().entries)
    assert line.total_balance == 0
    assert line.status is LineStatus.DEFAULTED  # the pending draw may yet be sent
    return line, ledger, today


def _waive_the_first_fee(line: CreditLine, ledger: Ledger, today: dt.date) -> LineLateFeeWaiver:
    waiver = line.waive_late_fee(
        late_fee_cycle=dt.date(2024, 2, 1),
        reason="goodwill",
        idempotency_key="waive-1",
        today=today,
        product=PRODUCT,
        posted=ledger.entries(),
    )
    ledger.post_all(line.outbox.drain().entries)
    return waiver


def test_a_correction_leaves_a_paid_off_line_with_a_draw_pending_open() -> None:
    line, ledger, today = _defaulted_and_paid_with_a_draw_pending()

    waiver = _waive_the_first_fee(line, ledger, today)

    assert waiver.amount > 0
    assert (line.status, line.pending_draws_total) == (LineStatus.DEFAULTED, 100)
    owed_back = line.refunds_due
    assert owed_back >= waiver.amount  # the payment paid the fee waived: a credit balance
    # The rail sends the draw after all: the credit balance pays it, and only then does
    # the paid-off line close.
    line.disburse_draw(draw_id="draw-2", rail=Rail.ACH, on=today)
    ledger.post_all(line.outbox.drain().entries)
    assert line.refunds_due == owed_back - 100
    assert line.total_balance == 0
    assert (line.status, line.pending_draws_total) == (LineStatus.CLOSED, 0)
    assert ledger.trial_balance() == 0


def test_a_correction_after_the_pending_draw_failed_leaves_the_paid_off_line_closed() -> None:
    line, ledger, today = _defaulted_and_paid_with_a_draw_pending()
    today += dt.timedelta(days=1)
    line.fail_draw(draw_id="draw-2", on=today, reason="every rail declined")
    ledger.post_all(line.outbox.drain().entries)
    assert line.status is LineStatus.CLOSED  # the hold released, nothing owed

    _waive_the_first_fee(line, ledger, today)

    assert line.status is LineStatus.CLOSED
    assert line.pending_draws_total == 0
    assert line.refunds_due > 0  # the fee it paid is owed back
    assert ledger.trial_balance() == 0
