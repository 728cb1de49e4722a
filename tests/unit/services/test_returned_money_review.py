"""Returned credits and refunds paid out, in the orders a rail and an operator produce.

A draw's credit returned, a loan's disbursement returned, a refund paid out, a payment
returned, a check received: whatever their order, the books balance and reconcile, the
statements add up and carry the credit balance from one to the next, operations hear of
each refund due once, and a refused event changes nothing.
"""

import datetime as dt
import itertools

import attrs
import pytest
from deployment import LINES_OPENED, LOANS_OPENED, Deployment
from fakes import InterferingUnitOfWork, settlement, statement_adds_up
from unit.services.loans.test_returned_disbursement import disbursement

from loc_core.creditline import Balances, CreditLine, CreditLineProduct, DrawStatus, LineStatus
from loc_core.disclosures import statement_disclosure
from loc_core.errors import InvalidRequest
from loc_core.installment import Loan, LoanStatus
from loc_core.ledger import CLEARING, refund_due
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity, UnitOfWork
from loc_core.refunds import RefundStatus
from loc_core.services.commands import (
    BookBackdatedLinePayment,
    BookBackdatedLoanPayment,
    GetLinePaymentReceipt,
    ListLineStatements,
    ReconcileLine,
    RecordRefundPaid,
    SettlementHandling,
    SettleTransfer,
)
from loc_core.services.loans import backdated_payment_id

# --- lines ------------------------------------------------------------------------------


@pytest.fixture
def world() -> Deployment:
    return Deployment.build(now=LINES_OPENED, seed=11)


@pytest.fixture
def paid_off(world: Deployment) -> tuple[CreditLine, str, str]:
    """$400.00 drawn by RTP on 03-12 and paid back in full on 03-13: (line, draw, payment)."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    draw = world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 13))
    receipt = world.pay_line(line, 40_000)
    return line, draw.draw_id, receipt.payment_id


def draw_came_back(world: Deployment, draw_id: str) -> SettlementHandling:
    """The rail's word, now, that the draw's RTP credit came back."""
    event = settlement(f"{draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP)
    return world.settle(event)


def sound(world: Deployment, line: CreditLine) -> CreditLine:
    """The stored line, once it reconciles and every statement adds up and follows the last."""
    result = world.bus.handle(ReconcileLine(line.user_id, line.line_id))
    assert result.matches, (result.mismatches, result.problems)
    stored = world.line(line)
    statements = sorted(
        world.bus.handle(ListLineStatements(line.user_id, line.line_id)),
        key=lambda statement: statement.cycle_end,
    )
    for earlier, later in itertools.pairwise(statements):
        assert later.opening_credit == earlier.closing_credit
    for statement in statements:
        figures = statement_disclosure(
            statement, credit_limit=stored.credit_limit, product=CreditLineProduct()
        )
        assert statement_adds_up(figures), statement
    return stored


def test_a_returned_draw_then_the_return_of_the_payment_that_paid_it_owes_nothing_either_way(
    world: Deployment, paid_off: tuple[CreditLine, str, str]
) -> None:
    line, draw_id, payment_id = paid_off
    world.at(dt.date(2026, 3, 16), 12)
    assert draw_came_back(world, draw_id) is SettlementHandling.REVERSED
    assert sound(world, line).refunds_due == 40_000  # the payment paid nothing owed
    rail = world.line(line).payments[payment_id].rail
    at = dt.datetime(2026, 3, 18, 12, tzinfo=dt.UTC)
    bounced = settlement(payment_id, SettlementOutcome.RETURNED, at, rail)
    assert world.settle(bounced) is SettlementHandling.REVERSED
    stored = sound(world, line)
    assert (stored.refunds_due, stored.total_balance, stored.status) == (0, 0, LineStatus.ACTIVE)
    refund = stored.payments[payment_id].refund
    assert refund is not None
    assert refund.status is RefundStatus.CANCELLED  # the money never stayed
    world.run_days(dt.date(2026, 3, 19), dt.date(2026, 5, 10))  # bills, no fee, no interest
    stored = sound(world, line)
    assert (stored.total_balance, stored.fee_balance, stored.status) == (0, 0, LineStatus.ACTIVE)


def test_the_receipt_of_a_payment_on_a_returned_draw_keeps_the_balances_it_was_booked_with(
    world: Deployment,
) -> None:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    draw = world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 13))
    payment_id = world.pay_line(line, 30_000).payment_id
    asked = GetLinePaymentReceipt(line.user_id, line.line_id, payment_id)
    booked = world.bus.handle(asked)
    world.at(dt.date(2026, 3, 16), 12)
    draw_came_back(world, draw.draw_id)

    receipt = world.bus.handle(asked)

    # Not the draw's return mixed in (principal -30,000 after the payment): as booked.
    assert receipt.balances_after == booked.balances_after == Balances(principal=10_000)
    assert receipt.paid == Balances()  # it pays nothing now: all of it is owed back
    assert world.line(line).refunds_due == 30_000


def test_a_draw_returned_a_cycle_after_its_statement_is_corrected_on_the_next_one(
    world: Deployment,
) -> None:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    returned_draw = world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 20))
    world.draw(line, 10_000, key="draw-2")
    world.run_days(dt.date(2026, 3, 21), dt.date(2026, 4, 21))  # billed 50,000 on 04-05
    world.at(dt.date(2026, 4, 22), 12)
    assert draw_came_back(world, returned_draw.draw_id) is SettlementHandling.REVERSED
    world.run_days(dt.date(2026, 4, 23), dt.date(2026, 5, 10), twice=True)
    stored = sound(world, line)  # the May statement's adjustments add up
    assert (stored.status, stored.refunds_due, stored.fee_balance) == (LineStatus.ACTIVE, 0, 0)
    assert 0 < stored.total_balance < 10_000  # the other draw, less the minimum it paid
    assert world.sent().count("loc_draw_returned") == 1


def test_a_draw_returned_after_its_line_closed_owes_every_payment_back_and_stays_closed(
    world: Deployment, paid_off: tuple[CreditLine, str, str]
) -> None:
    line, draw_id, _ = paid_off
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    interest = world.line(line).total_balance
    world.pay_line(line, interest, key="pay-interest")
    world.close(line)
    world.at(dt.date(2026, 4, 10), 12)
    assert draw_came_back(world, draw_id) is SettlementHandling.REVERSED
    stored = sound(world, line)
    assert (stored.status, stored.total_balance, stored.refunds_due) == (
        LineStatus.CLOSED,
        0,
        40_000 + interest,
    )
    assert world.sent().count("refund_due") == 2
    assert [a.details["amount"] for a in world.alerts() if a.title == "refund due"] == [
        40_000,
        interest,
    ]
    world.run_days(dt.date(2026, 4, 11), dt.date(2026, 5, 10))
    assert sound(world, line).status is LineStatus.CLOSED


def test_the_same_draw_return_delivered_twice_at_once_reverses_once_and_tells_once(
    world: Deployment, paid_off: tuple[CreditLine, str, str]
) -> None:
    line, draw_id, _ = paid_off
    world.at(dt.date(2026, 3, 16), 12)
    event = settlement(f"{draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP)
    racing = InterferingUnitOfWork(
        world.database, lambda: world.another_process().handle(SettleTransfer(event))
    )
    late = world.replacing(UnitOfWork, racing).handle(SettleTransfer(event))
    assert late.handling is SettlementHandling.DUPLICATE  # the other delivery reversed it
    assert world.line(line).draws[draw_id].status is DrawStatus.RETURNED
    assert (world.sent().count("loc_draw_returned"), world.sent().count("refund_due")) == (1, 1)
    assert world.alert_titles().count("refund due") == 1
    assert sound(world, line).refunds_due == 40_000


def test_a_draw_return_that_would_change_a_refund_already_paid_is_left_to_operations(
    world: Deployment,
) -> None:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    draw = world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 13))
    check = BookBackdatedLinePayment(
        line.user_id, line.line_id, 45_000, dt.date(2026, 3, 13), "check", "check-1"
    )
    payment_id = world.bus.handle(check).payment_id
    world.bus.handle(
        RecordRefundPaid(
            line.user_id, payment_id, dt.date(2026, 3, 13), "ach-1", "5,000 back", 5_000
        )
    )
    world.at(dt.date(2026, 3, 16), 12)
    before = (world.line(line), len(world.ledger(line.line_id)), world.sent())

    assert draw_came_back(world, draw.draw_id) is SettlementHandling.MANUAL

    assert (world.line(line), len(world.ledger(line.line_id)), world.sent()) == before
    (critical,) = world.alerts(Severity.CRITICAL)
    assert (critical.details["refund_paid"], critical.details["payment_id"]) == (5_000, payment_id)
    sound(world, line)


def test_a_refund_paid_a_cycle_later_carries_the_credit_balance_between_statements(
    world: Deployment, paid_off: tuple[CreditLine, str, str]
) -> None:
    line, draw_id, payment_id = paid_off
    world.at(dt.date(2026, 3, 16), 12)
    draw_came_back(world, draw_id)
    world.run_days(dt.date(2026, 3, 17), dt.date(2026, 4, 10))
    world.at(dt.date(2026, 4, 11))
    owed_back = world.line(line).refunds_due
    paid = RecordRefundPaid(
        line.user_id, payment_id, dt.date(2026, 4, 11), "chk-7", "sent", owed_back
    )
    world.bus.handle(paid)
    world.run_days(dt.date(2026, 4, 12), dt.date(2026, 5, 10), twice=True)
    sound(world, line)
    statements = sorted(
        world.bus.handle(ListLineStatements(line.user_id, line.line_id)),
        key=lambda statement: statement.cycle_end,
    )
    assert [(s.opening_credit, s.closing_credit) for s in statements] == [(0, 40_000), (40_000, 0)]
    assert world.sent().count("refund_paid") == 1


# --- loans ------------------------------------------------------------------------------


@pytest.fixture
def lender() -> Deployment:
    made = Deployment.build(now=LOANS_OPENED)
    made.users.add("user-1")
    made.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    return made


@pytest.fixture
def overpaid(lender: Deployment) -> tuple[Loan, str, str]:
    """A loan paid off by a check on 01-08 and a second check of $30.00 nothing was owed for."""
    loan = lender.open_loan(autopay=False)
    lender.at(dt.date(2026, 1, 8))
    owed = lender.loan(loan.loan_id).outstanding_balance
    for key, amount in (("check-1", owed), ("check-2", 3_000)):
        lender.bus.handle(
            BookBackdatedLoanPayment(
                loan.user_id, loan.loan_id, amount, dt.date(2026, 1, 8), "mailed check", key
            )
        )
    return (
        loan,
        backdated_payment_id(loan.loan_id, "check-1"),
        backdated_payment_id(loan.loan_id, "check-2"),
    )


def test_a_refund_already_due_is_not_alerted_again_when_its_loan_is_cancelled(
    lender: Deployment, overpaid: tuple[Loan, str, str]
) -> None:
    loan, payoff, extra = overpaid
    assert [a.details["payment_id"] for a in lender.alerts() if a.title == "refund due"] == [extra]

    assert lender.settle(disbursement(loan, SettlementOutcome.RETURNED)) is (
        SettlementHandling.REVERSED
    )

    stored = lender.sound_loan(loan.loan_id)
    assert stored.refunds_due_by_payment() == {payoff: stored.payments[payoff].amount, extra: 3_000}
    # Operations hear of the payoff's refund, new; the extra check's was alerted already:
    # a second alert for it would invite a second payout.
    refunds = [a for a in lender.alerts() if a.title == "refund due"]
    assert [(a.details["payment_id"], a.details["amount"]) for a in refunds] == [
        (extra, 3_000),
        (payoff, stored.payments[payoff].amount),
    ]
    (cancelled,) = (a for a in lender.alerts() if "cancelled" in a.title)
    assert cancelled.details["refund_due"] == stored.refunds_due  # all the loan owes back
    assert lender.sent().count("refund_due") == 2  # the borrower, likewise, once each


def test_a_refund_paid_in_full_stays_paid_when_its_loan_is_cancelled(
    lender: Deployment, overpaid: tuple[Loan, str, str]
) -> None:
    loan, payoff, extra = overpaid
    lender.at(dt.date(2026, 1, 9))
    lender.bus.handle(
        RecordRefundPaid(loan.user_id, extra, dt.date(2026, 1, 9), "c-1", "sent", 3_000)
    )
    returned = disbursement(loan, SettlementOutcome.RETURNED, lender.clock.now())
    assert lender.settle(returned) is SettlementHandling.REVERSED
    stored = lender.sound_loan(loan.loan_id)
    paid = stored.payments[extra].refund
    assert paid is not None
    assert (paid.status, paid.amount) == (RefundStatus.PAID, 3_000)
    assert stored.refunds_due_by_payment() == {payoff: stored.payments[payoff].amount}


def test_a_check_received_for_a_cancelled_loan_is_booked_whole_as_a_refund_due_once(
    lender: Deployment,
) -> None:
    """The money arrived: refusing it would leave cash the books never saw."""
    loan = lender.open_loan(autopay=False)
    lender.settle(disbursement(loan, SettlementOutcome.RETURNED))
    lender.at(dt.date(2026, 1, 12))
    check = BookBackdatedLoanPayment(
        loan.user_id, loan.loan_id, 5_000, dt.date(2026, 1, 8), "mailed before the news", "chk"
    )

    receipt = lender.bus.handle(check)

    assert lender.bus.handle(check) == receipt  # the same check again books nothing
    assert (receipt.amount, receipt.submitted_on, receipt.loan_outstanding_balance) == (
        5_000,
        dt.date(2026, 1, 8),
        0,
    )
    stored = lender.sound_loan(loan.loan_id)
    assert (stored.status, stored.refunds_due) == (LoanStatus.CANCELLED, 5_000)
    ledger = lender.ledger(loan.loan_id)
    assert (ledger.balance(CLEARING), ledger.balance(refund_due(loan.loan_id))) == (5_000, -5_000)
    assert lender.sent().count("refund_due") == 1
    assert lender.alert_titles().count("refund due") == 1
    lender.at(dt.date(2026, 1, 13))
    lender.bus.handle(
        RecordRefundPaid(
            loan.user_id, receipt.payment_id, dt.date(2026, 1, 13), "c-9", "sent", 5_000
        )
    )
    assert lender.sound_loan(loan.loan_id).refunds_due == 0


def test_a_refund_paid_without_a_reason_is_refused_on_a_line_as_on_a_loan(
    world: Deployment, paid_off: tuple[CreditLine, str, str]
) -> None:
    line, draw_id, payment_id = paid_off
    world.at(dt.date(2026, 3, 16), 12)
    draw_came_back(world, draw_id)
    stored = world.line(line)
    with pytest.raises(InvalidRequest, match="reason"):
        stored.record_refund_paid(
            payment_id=payment_id,
            paid_on=dt.date(2026, 3, 16),
            reference="chk-1",
            today=dt.date(2026, 3, 16),
            reason="  ",
        )
    assert not stored.outbox
    assert stored.refunds_due == 40_000


def test_a_payout_recorded_for_less_than_a_refund_a_cancellation_grew_is_refused(
    lender: Deployment,
) -> None:
    """The alert said 2,500 and the operator sent 2,500; the loan's cancellation since made
    the whole check owed back. Recording "paid" must not book the whole check as sent."""
    loan = lender.open_loan(autopay=False)
    lender.at(dt.date(2026, 1, 8))
    owed = lender.loan(loan.loan_id).outstanding_balance
    check = BookBackdatedLoanPayment(
        loan.user_id, loan.loan_id, owed + 2_500, dt.date(2026, 1, 8), "payoff check", "chk"
    )
    payment_id = lender.bus.handle(check).payment_id
    lender.settle(disbursement(loan, SettlementOutcome.RETURNED))
    before = (lender.loan(loan.loan_id), len(lender.ledger(loan.loan_id)), lender.sent())
    sent = RecordRefundPaid(
        loan.user_id, payment_id, dt.date(2026, 1, 9), "ach-5", "the alert's 2,500", 2_500
    )

    with pytest.raises(InvalidRequest, match="not the 2500 cents") as refused:
        lender.bus.handle(sent)

    assert refused.value.key == "amount"
    assert (lender.loan(loan.loan_id), len(lender.ledger(loan.loan_id)), lender.sent()) == before
    whole = attrs.evolve(sent, amount=owed + 2_500, reference="ach-6")
    assert lender.bus.handle(whole).amount == owed + 2_500  # the amount it says: recorded
    assert lender.sound_loan(loan.loan_id).refunds_due == 0
