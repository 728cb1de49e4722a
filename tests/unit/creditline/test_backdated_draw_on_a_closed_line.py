"""A draw booked late onto a charged-off line its payoff had closed.

Found by `CreditLineLifecycle` (book_backdated_draw): a DEFAULTED line paid in full with
a little to spare closes (a refund due of the excess); a draw the rail sent that day and
reported late is then booked with `book_backdated_draw`. The replay disbursed it on the
CLOSED line, the credit balance paid part of it, and the line stayed CLOSED while owing
the rest: no statement, no job, no way to pay. A draw disbursed on a CLOSED line now
reopens it as it was before the close (`closed_from`, here DEFAULTED and charged off
again), as a returned payoff does.
"""

import datetime as dt
from decimal import Decimal

from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus
from loc_core.ledger import Bucket, Ledger, allowance, receivable
from loc_core.payments import Rail
from loc_core.testing.creditline import a_day_passes, make_line

PRODUCT = CreditLineProduct()


def _status(line: CreditLine) -> LineStatus:
    """The line's status now (read afresh: commands change it)."""
    return line.status


def _closed_after_a_charge_off() -> tuple[Ledger, CreditLine, dt.date]:
    line = make_line(
        credit_limit=5_000,
        apr=Decimal(0),
        minimum_payment_percent=Decimal(1),
        product=PRODUCT,
    )
    ledger = Ledger()
    today = line.opened_on
    line.request_draw(draw_id="draw-1", amount=50, on=today)
    line.disburse_draw(draw_id="draw-1", rail=Rail.RTP, on=today)
    while _status(line) is not LineStatus.DEFAULTED:
        today += dt.timedelta(days=1)
        a_day_passes(line, today, product=PRODUCT)
    line.book_moved_payment(
        payment_id="pay-1", amount=line.total_balance + 1, rail=Rail.PINLESS, on=today
    )
    assert _status(line) is LineStatus.CLOSED
    assert line.refunds_due == 1
    ledger.post_all(line.outbox.drain().entries)
    return ledger, line, today


def _a_draw_sent_after_the_close(*, amount: int) -> tuple[Ledger, CreditLine]:
    """A draw of `amount` the rail sent the day the payoff closed the line, booked late."""
    ledger, line, today = _closed_after_a_charge_off()
    line.book_backdated_draw(
        draw_id="draw-2",
        amount=amount,
        rail=Rail.RTP,
        effective_on=today,
        reason="the rail reported late",
        today=today,
        product=PRODUCT,
        posted=ledger.entries(),
    )
    ledger.post_all(line.outbox.drain().entries)
    return ledger, line


def test_a_draw_sent_after_the_payoff_closed_the_line_reopens_it_charged_off() -> None:
    ledger, line = _a_draw_sent_after_the_close(amount=2)

    # The credit balance paid 1 of the 2 cents; the other is owed, on a line still open.
    assert (line.refunds_due, line.total_balance) == (0, 1)
    assert _status(line) is LineStatus.DEFAULTED
    assert ledger.balance(receivable("line-1", Bucket.PRINCIPAL)) == 1
    assert -ledger.balance(allowance("line-1")) == 1  # charged off again


def test_a_draw_the_credit_balance_pays_in_full_leaves_the_line_closed() -> None:
    ledger, line = _a_draw_sent_after_the_close(amount=1)

    assert (line.refunds_due, line.total_balance) == (0, 0)
    assert _status(line) is LineStatus.CLOSED
    assert -ledger.balance(allowance("line-1")) == 0
