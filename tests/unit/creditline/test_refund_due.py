"""Money a rail took that the line did not owe is booked as a refund due, never refused."""

import datetime as dt

from loc_core.creditline import CreditLine, LineStatus
from loc_core.events import EventType
from loc_core.ledger import CLEARING, Bucket, Ledger, receivable, refund_due
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.refunds import RefundStatus
from loc_core.testing.creditline import disbursed_draw

DAY = dt.date(2026, 1, 12)


def drawn(line: CreditLine) -> Ledger:
    disbursed_draw(line, draw_id="d1", amount=10_000, on=DAY)
    return Ledger(line.outbox.drain().entries)


def test_a_payment_on_a_paid_off_line_is_a_refund_due_of_all_of_it(line: CreditLine) -> None:
    ledger = drawn(line)
    line.submit_payment(payment_id="payoff", amount=10_000, rail=Rail.ACH, on=DAY)
    ledger.post_all(line.outbox.drain().entries)

    payment = line.book_moved_payment(payment_id="late", amount=3_000, rail=Rail.PINLESS, on=DAY)
    outbox = line.outbox.drain()
    ledger.post_all(outbox.entries)

    assert line.total_balance == 0
    assert line.status is LineStatus.ACTIVE
    assert line.payments["late"] is payment
    assert payment.applied_amount == 0
    assert payment.refund is not None
    assert (payment.refund.amount, payment.refund.status) == (3_000, RefundStatus.DUE)
    assert line.refunds_due == 3_000
    assert ledger.balance(refund_due(line.line_id)) == -3_000
    assert ledger.balance(CLEARING) == 13_000
    assert ledger.trial_balance() == 0
    assert [e.type for e in outbox.events] == [EventType.REFUND_DUE]


def test_a_payment_above_the_balance_pays_it_and_keeps_the_rest(line: CreditLine) -> None:
    ledger = drawn(line)

    payment = line.book_moved_payment(payment_id="p1", amount=10_250, rail=Rail.ACH, on=DAY)
    ledger.post_all(line.outbox.drain().entries)

    assert payment.paid_principal == 10_000
    assert payment.refund is not None
    assert payment.refund.amount == 250
    assert ledger.balance(receivable(line.line_id, Bucket.PRINCIPAL)) == 0
    assert ledger.balance(refund_due(line.line_id)) == -250


def test_returning_it_cancels_the_refund_then_restores_exactly_what_it_paid(
    line: CreditLine,
) -> None:
    ledger = drawn(line)
    line.book_moved_payment(payment_id="p1", amount=10_250, rail=Rail.ACH, on=DAY)
    ledger.post_all(line.outbox.drain().entries)

    payment = line.settle_payment(payment_id="p1", outcome=SettlementOutcome.RETURNED, on=DAY)
    ledger.post_all(line.outbox.drain().entries)

    assert payment.status is PaymentStatus.RETURNED
    assert payment.refund is not None
    assert payment.refund.status is RefundStatus.CANCELLED
    assert line.refunds_due == 0
    assert line.principal_balance == 10_000
    assert ledger.balance(refund_due(line.line_id)) == 0
    assert ledger.balance(receivable(line.line_id, Bucket.PRINCIPAL)) == 10_000
    assert ledger.balance(CLEARING) == 0
    assert ledger.trial_balance() == 0


def test_a_closed_line_books_the_payment_as_a_refund_and_stays_closed(line: CreditLine) -> None:
    line.close(on=DAY, reason="borrower asked")
    line.outbox.drain()

    line.book_moved_payment(payment_id="late", amount=500, rail=Rail.ACH, on=DAY)
    line.settle_payment(payment_id="late", outcome=SettlementOutcome.COMPLETED, on=DAY)

    assert line.status is LineStatus.CLOSED
    assert line.refunds_due == 500
