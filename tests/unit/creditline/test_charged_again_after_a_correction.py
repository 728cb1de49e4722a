"""A late fee or a charge-off a correction took back and the overdue job charged again.

Found by `CreditLineLifecycle` (book_backdated_payment, settle, months_pass_unpaid): the
job charged a missed cycle's late fee; a payment received by its due date was keyed late
(`book_backdated_payment`), so the correction took the fee back; then the rail returned
that payment, reversed as of today (`settle_payment`), the minimum was unpaid again and
the next day's job charged the cycle's fee again under the entry id the journal already
held (``line-1:2024-02-01:late_fee``): LedgerError every day after. The line now counts
the fee's entries for the cycle (`LineState.late_fee_entries`) and the second posts
``line-1:2024-02-01:late_fee:2``, as loans do.
"""

import datetime as dt

from loc_core.bookkeeping import EntryKind
from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus
from loc_core.ledger import Bucket, Ledger, income
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import a_day_passes, make_line

PRODUCT = CreditLineProduct()


def _status(line: CreditLine) -> LineStatus:
    """The line's status now (read afresh: commands change it)."""
    return line.status


FEE = "line-1:2024-02-01:late_fee"


def _drawn() -> tuple[CreditLine, Ledger]:
    """A line opened 2024-01-01 with 50,000 drawn that day, its journal posted."""
    line = make_line(product=PRODUCT)
    line.request_draw(draw_id="draw-1", amount=50_000, on=line.opened_on)
    line.disburse_draw(draw_id="draw-1", rail=Rail.RTP, on=line.opened_on)
    return line, Ledger(line.outbox.drain().entries)


def test_a_fee_taken_back_and_charged_again_posts_its_second_entry() -> None:
    line, ledger = _drawn()
    today = line.opened_on

    def post() -> None:
        ledger.post_all(line.outbox.drain().entries)  # refuses an entry id it holds

    def live(days: int) -> None:
        nonlocal today
        for _ in range(days):
            today += dt.timedelta(days=1)
            a_day_passes(line, today, product=PRODUCT)
            post()

    live(53)  # 02-01's minimum, due 02-22, missed: the 02-23 job charges its fee
    assert (today, line.late_fee_cycle) == (dt.date(2024, 2, 23), dt.date(2024, 2, 1))
    due = line.next_due_date
    assert due is not None
    live(3)
    line.book_backdated_payment(
        payment_id="pay-1",
        amount=1_000,
        rail=Rail.ACH,
        effective_on=due,
        reason="mailed, keyed late",
        today=today,
        product=PRODUCT,
        posted=ledger.entries(),
    )
    post()
    assert line.fee_balance == 0  # the fee taken back
    line.settle_payment(payment_id="pay-1", outcome=SettlementOutcome.RETURNED, on=today)
    post()
    assert _status(line) is LineStatus.SUSPENDED

    live(2)  # the next job charges the cycle's fee again

    fees = [e for e in ledger.entries() if e.kind is EntryKind.LATE_FEE]
    assert [(e.entry_id, e.effective_date) for e in fees] == [
        (FEE, dt.date(2024, 2, 23)),
        (f"{FEE}:2", dt.date(2024, 2, 27)),
    ]
    assert line.fee_balance == PRODUCT.late_fee_cents
    assert -ledger.balance(income(Bucket.FEE)) == PRODUCT.late_fee_cents  # once, net
    # The statement lists it under the fee's reference, what a dispute or waiver names.
    assert [a.reference for a in line.cycle_activity if a.kind.value == "LATE_FEE"] == [FEE]


def test_a_default_undone_and_brought_back_the_same_day_posts_its_second_charge_off() -> None:
    """The same class for a charge-off, whose entry is named for its day.

    The job charged the line off; a payment received that day was keyed after the job
    (`book_backdated_payment`), so the correction undid the default; the rail returned
    it the same day (`settle_payment`), the line was past due as long as before, and the
    day's job run again charged it off under ``line-1:<day>:default`` once more.
    """
    line, ledger = _drawn()
    today = line.opened_on

    def post() -> None:
        ledger.post_all(line.outbox.drain().entries)  # refuses an entry id it holds

    while _status(line) is not LineStatus.DEFAULTED:
        today += dt.timedelta(days=1)
        a_day_passes(line, today, product=PRODUCT)
        post()
    line.book_backdated_payment(
        payment_id="pay-1",
        amount=line.total_balance // 2,
        rail=Rail.ACH,
        effective_on=today,
        reason="received today, keyed after the job",
        today=today,
        product=PRODUCT,
        posted=ledger.entries(),
    )
    post()
    assert _status(line) is LineStatus.ACTIVE  # the default undone
    line.settle_payment(payment_id="pay-1", outcome=SettlementOutcome.RETURNED, on=today)
    post()

    line.run_overdue(today=today, product=PRODUCT)  # the day's job run again
    post()

    assert _status(line) is LineStatus.DEFAULTED
    charge_offs = [e.entry_id for e in ledger.entries() if e.kind is EntryKind.CHARGE_OFF]
    assert charge_offs == [f"line-1:{today}:default", f"line-1:{today}:default:2"]
