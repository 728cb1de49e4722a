import datetime as dt

from deployment import Deployment

from loc_core.creditline import CreditLine, LineStatus
from loc_core.ledger import Bucket, receivable
from loc_core.services.commands import BookBackdatedLinePayment


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
    ledger = world.ledger(billed.line_id)
    assert f"{command.payment_id}:apply" in ledger
    assert f"{command.payment_id}:adjust" in ledger
    assert ledger.balance(receivable(billed.line_id, Bucket.FEE)) == 0
    assert ledger.balance(receivable(billed.line_id, Bucket.PRINCIPAL)) == line.principal_balance
    version = line.version
    assert world.bus.handle(command).payment_id == command.payment_id  # a repeat books nothing
    assert world.line(billed).version == version
