"""A line's credit balance (refunds due) pays what the line comes to owe (Reg Z 1026.11).

A borrower the lender owes money back is never debited: a draw, the cycle's interest or a
returned payment's buckets are paid from the credit balance first, as a payment would
pay them. Only what is left of a refund is paid out; a correction that removes the charge
(a draw returned) gives the credit back, and one that removes the credit (the payment that
made it returned) makes the charge owed again.
"""

import datetime as dt

import pytest
from deployment import Deployment
from fakes import settlement, statement_adds_up

from loc_core.creditline import CreditLine, CreditLineProduct, Draw, DrawStatus
from loc_core.creditline.activity import ActivityKind
from loc_core.disclosures import statement_disclosure
from loc_core.errors import InvalidRequest, RefundNotDue
from loc_core.events import EventType
from loc_core.ledger import Bucket, receivable, refund_due
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.refunds import RefundStatus
from loc_core.services.commands import (
    BookBackdatedDraw,
    BookBackdatedLinePayment,
    LinePaymentReceipt,
    ListLineStatements,
    ReconcileLine,
    RecordRefundPaid,
    SettlementHandling,
)


@pytest.fixture
def world() -> Deployment:
    return Deployment.build(now=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), seed=5)


def paid_off_by_a_check(world: Deployment) -> tuple[CreditLine, LinePaymentReceipt]:
    """$400.00 drawn 03-12, paid off 03-14 by a $500.00 check keyed 03-16: $100.00 owed back."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 16))
    receipt = world.bus.handle(
        BookBackdatedLinePayment(
            line.user_id, line.line_id, 50_000, dt.date(2026, 3, 14), "mailed check", "check-1"
        )
    )
    return line, receipt


@pytest.fixture
def credit(world: Deployment) -> tuple[CreditLine, str]:
    """`paid_off_by_a_check`: the line and the check's payment id."""
    line, receipt = paid_off_by_a_check(world)
    stored = world.line(line)
    assert (stored.total_balance, stored.refunds_due) == (0, 10_000)
    return line, receipt.payment_id


def reconciled(world: Deployment, line: CreditLine) -> None:
    result = world.bus.handle(ReconcileLine(line.user_id, line.line_id))
    assert result.matches, result.mismatches


def payout(line: CreditLine, payment_id: str, amount: int) -> RecordRefundPaid:
    return RecordRefundPaid(
        line.user_id, payment_id, dt.date(2026, 3, 18), "chk-1", "refund sent", amount
    )


def partly_applied_then_paid_out(world: Deployment, line: CreditLine, check: str) -> Draw:
    """On 03-18 a $30.00 draw takes $30.00 of the $100.00 credit; the other $70.00 is sent."""
    world.at(dt.date(2026, 3, 18))
    small = world.draw(line, 3_000, key="draw-2")
    world.bus.handle(payout(line, check, 7_000))
    return small


def test_a_draw_is_paid_from_the_credit_balance_first_and_only_the_rest_is_owed(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, check = credit
    world.at(dt.date(2026, 3, 18))
    world.draw(line, 25_000, key="draw-2")

    stored = world.line(line)
    assert (stored.principal_balance, stored.refunds_due) == (15_000, 0)
    refund = stored.payments[check].refund
    assert refund is not None
    assert (refund.amount, refund.applied, refund.status) == (10_000, 10_000, RefundStatus.APPLIED)
    ledger = world.ledger(line.line_id)
    assert ledger.balance(refund_due(line.line_id)) == 0
    assert ledger.balance(receivable(line.line_id, Bucket.PRINCIPAL)) == 15_000
    reconciled(world, line)
    # Nothing is left to send back: a payout of the old alert's amount is refused.
    with pytest.raises(RefundNotDue, match="applied"):
        world.bus.handle(payout(line, check, 10_000))
    assert world.line(line) == stored

    # The statement nets it, as a card statement nets a credit balance: previous balance
    # 0, a $250.00 draw, a new balance of $150.00 plus interest, and no credit balance left.
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    (statement,) = world.bus.handle(ListLineStatements(line.user_id, line.line_id))
    figures = statement_disclosure(
        statement, credit_limit=line.credit_limit, product=CreditLineProduct()
    )
    assert statement_adds_up(figures)
    assert (figures.credit_balance, figures.new_balance) == (
        0,
        15_000 + statement.interest_charged,
    )
    assert figures.minimum_payment > 0
    assert all(row.description != "Credit balance applied" for row in figures.transactions)


def test_a_small_draw_uses_part_of_the_credit_and_only_the_rest_is_paid_out(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, check = credit
    world.at(dt.date(2026, 3, 18))
    world.draw(line, 3_000, key="draw-2")
    stored = world.line(line)
    assert (stored.total_balance, stored.refunds_due) == (0, 7_000)

    with pytest.raises(InvalidRequest, match="3000 cents of it applied"):
        world.bus.handle(payout(line, check, 10_000))  # the alert's amount: not what is owed
    answer = world.bus.handle(payout(line, check, 7_000))
    assert answer.amount == 7_000
    refund = world.line(line).payments[check].refund
    assert refund is not None
    assert (refund.status, refund.applied, refund.paid_amount) == (RefundStatus.PAID, 3_000, 7_000)
    assert world.line(line).refunds_due == 0
    reconciled(world, line)


def test_the_borrower_is_told_the_cents_sent_not_the_refund_first_owed(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, check = credit
    partly_applied_then_paid_out(world, line, check)
    [told] = [e.data for e in world.notifier.sent if e.type is EventType.REFUND_PAID]
    assert (told["line_id"], told["amount"]) == (line.line_id, 7_000)


def test_the_due_job_debits_nothing_while_the_credit_balance_pays_the_interest(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, _ = credit
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()  # two days of interest on $400.00, paid at the close by the credit
    stored = world.line(line)
    statement = stored.last_statement
    assert statement is not None
    assert statement.interest_charged > 0
    assert (statement.minimum_payment, stored.total_balance) == (0, 0)
    assert stored.refunds_due == 10_000 - statement.interest_charged
    assert [a.kind for a in statement.activity][-1] is ActivityKind.CREDIT_APPLIED
    world.at(statement.due_date, 15)
    world.due()
    assert world.line(line).payments.keys() == stored.payments.keys()  # no debit was made
    reconciled(world, line)


def test_a_returned_draw_gives_the_credit_it_used_back_and_operations_are_told(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, check = credit
    world.at(dt.date(2026, 3, 18))
    draw = world.draw(line, 25_000, key="draw-2")
    world.at(dt.date(2026, 3, 20))
    event = settlement(
        f"{draw.draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP
    )
    assert world.settle(event) is SettlementHandling.REVERSED

    stored = world.line(line)
    assert stored.draws[draw.draw_id].status is DrawStatus.RETURNED
    assert (stored.total_balance, stored.refunds_due) == (0, 10_000)
    refund = stored.payments[check].refund
    assert refund is not None
    assert (refund.status, refund.applied) == (RefundStatus.DUE, 0)
    assert any(a.title == "refund due" for a in world.alerts(Severity.WARNING))
    reconciled(world, line)


def test_the_return_of_the_check_that_made_the_credit_makes_the_draw_owed_whole(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, check = credit
    world.at(dt.date(2026, 3, 18))
    world.draw(line, 25_000, key="draw-2")
    world.at(dt.date(2026, 3, 20))
    event = settlement(check, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    assert world.settle(event) is SettlementHandling.REVERSED

    stored = world.line(line)
    assert (stored.principal_balance, stored.refunds_due) == (65_000, 0)
    refund = stored.payments[check].refund
    assert refund is not None
    assert refund.status is RefundStatus.CANCELLED
    reconciled(world, line)


def test_a_refund_partly_applied_then_paid_out_is_final_for_corrections(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, check = credit
    small = partly_applied_then_paid_out(world, line, check)
    world.at(dt.date(2026, 3, 20))

    # Returning draw-2 would leave the whole $100.00 owed back, $70.00 of it already sent.
    before = (world.line(line), len(world.ledger(line.line_id)))
    back = settlement(
        f"{small.draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP
    )
    assert world.settle(back) is SettlementHandling.MANUAL
    assert (world.line(line), len(world.ledger(line.line_id))) == before
    (critical,) = world.alerts(Severity.CRITICAL)
    assert (critical.details["refund_paid"], critical.details["refund_corrected"]) == (
        7_000,
        10_000,
    )


def test_a_correction_that_still_applies_the_same_part_keeps_the_payout(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, check = credit
    small = partly_applied_then_paid_out(world, line, check)
    world.draw(line, 5_000, key="draw-3")  # owed whole: no credit is left
    world.at(dt.date(2026, 3, 20))
    assert world.line(line).total_balance == 5_000

    # Without draw-2, the $30.00 the payout left pays draw-3 instead: the payout stands.
    back = settlement(
        f"{small.draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP
    )
    assert world.settle(back) is SettlementHandling.REVERSED
    stored = world.line(line)
    refund = stored.payments[check].refund
    assert refund is not None
    assert (refund.status, refund.applied, refund.paid_amount) == (RefundStatus.PAID, 3_000, 7_000)
    assert (stored.principal_balance, stored.refunds_due) == (2_000, 0)
    assert not world.alerts(Severity.CRITICAL)
    reconciled(world, line)


def test_a_draw_backdated_before_a_partly_paid_out_refund_shrinks_it_as_the_books_do(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    line, check = credit
    partly_applied_then_paid_out(world, line, check)
    world.at(dt.date(2026, 3, 20))
    world.bus.handle(
        BookBackdatedDraw(
            line.user_id, line.line_id, 1_000, dt.date(2026, 3, 13), "rail reported late", "bd-1"
        )
    )

    # The check paid $10.00 more, so it kept $90.00: $20.00 paid draw-2, $70.00 was sent,
    # and the $10.00 of draw-2 it no longer covers is owed.
    stored = world.line(line)
    refund = stored.payments[check].refund
    assert refund is not None
    assert (refund.amount, refund.applied, refund.paid_amount, refund.status) == (
        9_000,
        2_000,
        7_000,
        RefundStatus.PAID,
    )
    assert (stored.principal_balance, stored.refunds_due) == (1_000, 0)
    reconciled(world, line)
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    (statement,) = world.bus.handle(ListLineStatements(line.user_id, line.line_id))
    figures = statement_disclosure(
        statement, credit_limit=line.credit_limit, product=CreditLineProduct()
    )
    assert statement_adds_up(figures)
    paid = [row.amount for row in figures.transactions if row.kind == "payment"]
    assert paid == [-50_000]  # the check as it was: not $510.00


def test_a_refund_paid_out_before_its_paid_amount_was_kept_is_not_applied_again(
    world: Deployment, credit: tuple[CreditLine, str]
) -> None:
    """A PAID refund stored before `paid_amount` existed paid its whole amount out."""
    line, check = credit
    world.at(dt.date(2026, 3, 18))
    world.bus.handle(payout(line, check, 10_000))

    def stored_before_the_rule(stored: CreditLine) -> None:
        refund = stored.payments[check].refund
        assert refund is not None
        refund.paid_amount = None

    world.edit_line(line, stored_before_the_rule)
    assert world.line(line).refunds_due == 0
    assert world.bus.handle(payout(line, check, 10_000)).amount == 10_000  # the same again
    world.draw(line, 3_000, key="draw-2")  # owed whole: the credit went out by check
    assert world.line(line).principal_balance == 3_000
    reconciled(world, line)
