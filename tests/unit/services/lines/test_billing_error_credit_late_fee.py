"""A billing-error notice received on the day the overdue job charged a late fee.

Found by `CreditLineLifecycle` (resolve_a_dispute, error found): the notice arrived after
that day's job had charged the cycle's late fee, but a correction's replay held its
amount from the start of that day, before the job, so the corrected history charged no
fee that day; the correction took the fee back, and the next day's job charged it again
under the entry id the journal already held (``line-1:2024-05-01:late_fee``), failing
every day after. A notice now records whether it came after the day's job
(`BillingDispute.after_overdue_job`), and every replay runs that day's job without it.
"""

import datetime as dt
from decimal import Decimal

from loc_core.bookkeeping import EntryKind
from loc_core.creditline import (
    CreditLine,
    CreditLineProduct,
    DisputedCharge,
    Statement,
)
from loc_core.ledger import Ledger
from loc_core.payments import Rail
from loc_core.testing.creditline import a_day_passes, make_line

PRODUCT = CreditLineProduct(
    cycle_day=None,
    statement_to_due_days=10,
    minimum_payment_percent_min=Decimal("0.50"),
    minimum_payment_percent_max=Decimal("0.50"),
    apr_min=Decimal(0),
    apr_max=Decimal(10),
    late_fee_cents=1,
    default_after_days_past_due=47,
    upcoming_notice_days=1,
)


NOTICE_DAY = dt.date(2024, 5, 14)
"""The day after 05-01's due date: its overdue job charges that cycle's late fee."""


def _life(*, notice_before_the_job: bool) -> tuple[Ledger, CreditLine]:
    line = make_line(
        credit_limit=27_767,
        apr=Decimal(0),
        minimum_payment_percent=Decimal("0.50"),
        product=PRODUCT,
    )
    ledger = Ledger()
    statements: dict[dt.date, Statement] = {}
    today = line.opened_on

    def post() -> None:
        ledger.post_all(line.outbox.drain().entries)

    def live(until: dt.date) -> None:
        nonlocal today
        while today < until:
            today += dt.timedelta(days=1)
            statement = a_day_passes(line, today, product=PRODUCT)
            if statement is not None:
                statements[today] = statement
            post()  # the journal refuses an entry id it holds already

    post()
    live(dt.date(2024, 3, 2))
    line.request_draw(draw_id="draw-1", amount=13_694, on=today)
    line.disburse_draw(draw_id="draw-1", rail=Rail.RTP, on=today)
    line.submit_payment(payment_id="pay-1", amount=1, rail=Rail.PINLESS, on=today)
    post()
    live(dt.date(2024, 5, 13))  # 04-01's minimum missed; 05-01's is due 05-13 (a Monday)
    today = NOTICE_DAY
    if not notice_before_the_job:
        line.run_overdue(today=today, product=PRODUCT)  # 05-01's minimum missed: a fee
    line.dispute_billing_error(
        dispute_id="dispute-1",
        statement=statements[dt.date(2024, 4, 1)],
        charge=DisputedCharge.DRAW,
        draw_id="draw-1",
        amount=1_178,
        description="I drew less",
        received_on=today,
        product=PRODUCT,
    )
    if notice_before_the_job:
        line.run_overdue(today=today, product=PRODUCT)
    line.resolve_billing_dispute(
        dispute_id="dispute-1",
        error_found=True,
        explanation="we checked",
        today=today,
        product=PRODUCT,
        posted=ledger.entries(),
    )
    post()
    live(dt.date(2024, 6, 20))
    assert ledger.trial_balance() == 0
    return ledger, line


def _late_fees(ledger: Ledger, cycle: str) -> list[tuple[str, dt.date]]:
    return [
        (entry.entry_id, entry.effective_date)
        for entry in ledger.entries()
        if entry.kind is EntryKind.LATE_FEE and entry.entry_id.startswith(f"line-1:{cycle}:")
    ]


def test_a_notice_after_the_days_job_leaves_the_fee_it_charged_charged_once() -> None:
    ledger, line = _life(notice_before_the_job=False)

    assert line.disputes["dispute-1"].after_overdue_job
    assert _late_fees(ledger, "2024-05-01") == [("line-1:2024-05-01:late_fee", NOTICE_DAY)]
    assert line.late_fee_cycle is not None
    assert line.late_fee_cycle >= dt.date(2024, 5, 1)


def test_a_notice_before_the_days_job_holds_the_fee_off_until_its_new_due_date() -> None:
    ledger, line = _life(notice_before_the_job=True)

    dispute = line.disputes["dispute-1"]
    assert not dispute.after_overdue_job
    assert dispute.owed_again_on is not None
    # Held through its new due date: the cycle's fee comes the day after, once.
    first_late_day = dispute.owed_again_on + dt.timedelta(days=1)
    assert _late_fees(ledger, "2024-05-01") == [("line-1:2024-05-01:late_fee", first_late_day)]
