"""A refund is paid out once the payment that funded it has settled on its rail.

While the payment is PENDING its rail can still take the money back (an ACH return, a
chargeback), so recording the payout is refused with nothing changed; once the rail
completes the payment it is taken, once. An operator's backdated payment is money
already received: COMPLETED when booked, its refund payable at once. An operator who
already sent the money says so (`before_settlement`), and the audit trail records it.
"""

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import settlement
from unit.services.loans.test_returned_disbursement import disbursement

from loc_core.errors import RefundNotSettled
from loc_core.installment import Loan, LoanStatus
from loc_core.installment.collections import collection_skip_reason
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.refunds import RefundStatus
from loc_core.services.commands import (
    BookBackdatedLinePayment,
    BookBackdatedLoanPayment,
    RecordRefundPaid,
)
from loc_core.services.loans import backdated_payment_id

DAY = dt.date(2026, 1, 12)
NOON = dt.datetime(2026, 1, 12, 12, tzinfo=dt.UTC)


def payout(user_id: str, payment_id: str, amount: int, *, early: bool = False) -> RecordRefundPaid:
    return RecordRefundPaid(
        user_id,
        payment_id,
        DAY,
        "chk-1001",
        "refund check mailed",
        amount,
        before_settlement=early,
    )


def seen(world: Deployment, owner_id: str, payment_id: str) -> tuple[object, ...]:
    """What a payout changes: the books, the audit, the notices, the alerts."""
    return (
        len(world.ledger(owner_id)),
        len(world.audit("payment", payment_id)),
        world.sent(),
        len(world.alerts()),
    )


@pytest.fixture
def cancelled() -> tuple[Deployment, Loan, str]:
    """A loan cancelled (its disbursement came back) while a $50.00 ACH payment is PENDING."""
    world = Deployment.build()
    world.users.add("user-1")
    world.sim.down = {Rail.PINLESS}  # the payment goes by ACH, which can still be returned
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 8))
    payment_id = world.pay_loan(loan, 5_000).payment_id
    world.settle(disbursement(loan, SettlementOutcome.RETURNED, NOON))
    stored = world.loan(loan.loan_id)
    assert stored.status is LoanStatus.CANCELLED
    assert stored.payments[payment_id].status is PaymentStatus.PENDING
    assert stored.refunds_due == 5_000
    return world, loan, payment_id


def test_a_loan_refund_waits_until_its_ach_payment_completes(
    cancelled: tuple[Deployment, Loan, str],
) -> None:
    world, loan, payment_id = cancelled
    before = (world.loan(loan.loan_id), seen(world, loan.loan_id, payment_id))

    with pytest.raises(RefundNotSettled, match="still PENDING on ach") as refused:
        world.bus.handle(payout(loan.user_id, payment_id, 5_000))

    assert refused.value.entity_id == payment_id
    assert (world.loan(loan.loan_id), seen(world, loan.loan_id, payment_id)) == before
    refund = world.loan(loan.loan_id).payments[payment_id].refund
    assert refund is not None
    assert refund.status is RefundStatus.DUE

    done = settlement(payment_id, SettlementOutcome.COMPLETED, NOON, Rail.ACH)
    world.settle(done)
    answer = world.bus.handle(payout(loan.user_id, payment_id, 5_000))
    assert world.bus.handle(payout(loan.user_id, payment_id, 5_000)) == answer  # delivered twice

    stored = world.sound_loan(loan.loan_id)
    refund = stored.payments[payment_id].refund
    assert refund is not None
    assert refund.status is RefundStatus.PAID
    assert stored.refunds_due == 0
    entries = [entry.entry_id for entry in world.ledger(loan.loan_id)]
    assert entries.count(f"{payment_id}:refund_paid") == 1
    assert world.sent().count("refund_paid") == 1


def test_an_operator_who_already_sent_the_money_says_so_and_the_audit_keeps_it(
    cancelled: tuple[Deployment, Loan, str],
) -> None:
    world, loan, payment_id = cancelled

    world.bus.handle(payout(loan.user_id, payment_id, 5_000, early=True))

    stored = world.sound_loan(loan.loan_id)
    assert stored.payments[payment_id].status is PaymentStatus.PENDING
    refund = stored.payments[payment_id].refund
    assert refund is not None
    assert refund.status is RefundStatus.PAID
    reason = world.audit("payment", payment_id)[-1].change.reason
    assert f"before payment {payment_id} settled" in reason
    assert world.sent().count("refund_paid") == 1


def test_a_line_refund_waits_until_its_payment_completes() -> None:
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    drawn = world.draw(line, 10_000)
    payment_id = world.pay_line(line, 10_000).payment_id
    # The draw's credit comes back: the payment that paid it off is all owed back.
    at = dt.datetime(2026, 3, 16, 12, tzinfo=dt.UTC)
    world.settle(settlement(f"{drawn.draw_id}:rtp", SettlementOutcome.RETURNED, at, Rail.RTP))
    assert world.line(line).refunds_due == 10_000
    rail = world.line(line).payments[payment_id].rail
    before = (world.line(line), seen(world, line.line_id, payment_id))
    command = RecordRefundPaid(
        line.user_id, payment_id, at.date(), "ach-77", "credit balance sent", 10_000
    )

    with pytest.raises(RefundNotSettled):
        world.bus.handle(command)

    assert (world.line(line), seen(world, line.line_id, payment_id)) == before
    world.settle(settlement(payment_id, SettlementOutcome.COMPLETED, at, rail))
    world.bus.handle(command)
    world.bus.handle(command)
    refund = world.line(line).payments[payment_id].refund
    assert refund is not None
    assert refund.status is RefundStatus.PAID
    assert world.sent().count("refund_paid") == 1


def test_a_backdated_loan_payment_is_completed_when_booked() -> None:
    """Money already received: its refund is payable at once, and autopay goes on."""
    world = Deployment.build()
    world.users.add("user-1")
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 8))
    world.bus.handle(
        BookBackdatedLoanPayment(
            loan.user_id, loan.loan_id, 1_000, dt.date(2026, 1, 7), "mailed check", "check-1"
        )
    )
    partial = world.loan(loan.loan_id)
    check = partial.payments[backdated_payment_id(loan.loan_id, "check-1")]
    assert (check.status, check.settled_on) == (PaymentStatus.COMPLETED, dt.date(2026, 1, 7))
    due = partial.installments[0]
    assert collection_skip_reason(partial, due.installment_id, today=due.due_date) is None

    world.bus.handle(
        BookBackdatedLoanPayment(
            loan.user_id,
            loan.loan_id,
            partial.outstanding_balance + 700,
            dt.date(2026, 1, 8),
            "payoff check",
            "check-2",
        )
    )
    payoff = backdated_payment_id(loan.loan_id, "check-2")
    world.at(DAY)
    answer = world.bus.handle(payout(loan.user_id, payoff, 700))
    assert answer.amount == 700
    refund = world.sound_loan(loan.loan_id).payments[payoff].refund
    assert refund is not None
    assert refund.status is RefundStatus.PAID


def test_a_backdated_line_payment_is_completed_when_booked() -> None:
    """Money already received: its refund is payable at once."""
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 16))
    receipt = world.bus.handle(
        BookBackdatedLinePayment(
            line.user_id, line.line_id, 50_000, dt.date(2026, 3, 14), "mailed check", "check-1"
        )
    )
    payment = world.line(line).payments[receipt.payment_id]
    assert (payment.status, payment.settled_on) == (PaymentStatus.COMPLETED, dt.date(2026, 3, 14))
    owed_back = world.line(line).refunds_due
    assert owed_back > 0

    world.bus.handle(
        RecordRefundPaid(
            line.user_id, receipt.payment_id, dt.date(2026, 3, 16), "ach-1", "sent", owed_back
        )
    )

    assert world.line(line).refunds_due == 0
    assert world.sent().count("refund_paid") == 1
