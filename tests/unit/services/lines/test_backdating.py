import datetime as dt

from deployment import LINES_OPENED, Deployment

from loc_core.creditline import CreditLine, DrawStatus, LineStatus
from loc_core.ledger import Bucket, receivable
from loc_core.services.commands import (
    BookBackdatedDraw,
    BookBackdatedLinePayment,
    GetLinePaymentReceipt,
    ListLineStatements,
)


def test_a_backdated_payment_undoes_the_late_fee_and_the_suspension(
    world: Deployment, billed: CreditLine
) -> None:
    """Due 04-27 and unpaid: past due, fee; a cheque received 04-20 is keyed on 05-02."""
    world.at(dt.date(2026, 4, 28), 16)
    world.overdue()  # no due job ran: nothing was collected
    late = world.line(billed)
    assert (late.status, late.fee_balance) == (LineStatus.SUSPENDED, 500)
    world.at(dt.date(2026, 5, 2), 10)
    command = BookBackdatedLinePayment(
        user_id=billed.user_id,
        line_id=billed.line_id,
        amount=1_989,
        effective_on=dt.date(2026, 4, 20),
        reason="cheque received 04-20, keyed late",
        idempotency_key="cheque-1",
    )
    receipt = world.bus.handle(command)
    assert receipt.payment_id == command.payment_id
    line = world.line(billed)
    assert (line.status, line.fee_balance, line.past_due_since) == (LineStatus.ACTIVE, 0, None)
    # The receipt shows what is owed once the payment and its correction are booked: no
    # late fee, and no interest for the days since 04-20 on what it paid.
    assert receipt.balances_after == line.balances
    assert (
        world.bus.handle(GetLinePaymentReceipt(billed.user_id, billed.line_id, receipt.payment_id))
        == receipt
    )
    ledger = world.ledger(billed.line_id)
    assert f"{command.payment_id}:apply" in ledger
    assert f"{command.payment_id}:adjust" in ledger
    assert ledger.balance(receivable(billed.line_id, Bucket.FEE)) == 0
    assert ledger.balance(receivable(billed.line_id, Bucket.PRINCIPAL)) == line.principal_balance
    version = line.version
    assert world.bus.handle(command).payment_id == command.payment_id  # a repeat books nothing
    assert world.line(billed).version == version


def test_a_backdated_draw_owes_the_interest_of_every_day_since_it_was_sent() -> None:
    """A draw sent 03-10 but only recorded 03-20 bills as the same draw recorded on time."""
    on_time = Deployment.build(now=LINES_OPENED, seed=11)
    line = on_time.open_line()
    on_time.at(dt.date(2026, 3, 10))
    on_time.draw(line, 30_000)
    late = Deployment.build(now=LINES_OPENED, seed=11)
    late_line = late.open_line()
    late.at(dt.date(2026, 3, 20))
    command = BookBackdatedDraw(
        user_id=late_line.user_id,
        line_id=late_line.line_id,
        amount=30_000,
        effective_on=dt.date(2026, 3, 10),
        reason="sent by the rail 03-10, its answer lost",
        idempotency_key="lost-1",
    )
    draw = late.bus.handle(command)
    assert (draw.status, draw.settled_on, draw.draw_id) == (
        DrawStatus.DISBURSED,
        dt.date(2026, 3, 10),
        command.draw_id,
    )
    assert late.bus.handle(command) == draw  # a repeat books nothing more
    for world in (on_time, late):
        world.at(dt.date(2026, 4, 5), 8)
        world.bill()
    (statement,) = late.bus.handle(ListLineStatements(late_line.user_id, late_line.line_id))
    (expected,) = on_time.bus.handle(ListLineStatements(line.user_id, line.line_id))
    assert (statement.cent_days, statement.interest_charged) == (
        expected.cent_days,
        expected.interest_charged,
    )
    assert late.line(late_line).principal_balance == 30_000
    ledger = late.ledger(late_line.line_id)
    assert ledger.balance(receivable(late_line.line_id, Bucket.PRINCIPAL)) == 30_000
    assert ledger.balance(receivable(late_line.line_id, Bucket.INTEREST)) == (
        statement.interest_charged
    )
