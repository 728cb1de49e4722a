import copy
import datetime as dt
from decimal import Decimal

import attrs
import pytest
from fakes import bare_line, refused
from hypothesis import given
from hypothesis import strategies as st

from loc_core.creditline import (
    Balances,
    CreditLine,
    CreditLineProduct,
    LineStatus,
)
from loc_core.errors import (
    DuplicatePayment,
    InvalidAmount,
    OutOfOrder,
    Overpayment,
    PaymentAlreadyReversed,
    PaymentError,
    PaymentNotApplied,
)
from loc_core.events import DomainEvent, EventType, FieldChange
from loc_core.ledger import CLEARING, Bucket, Ledger, receivable
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw

DAY = dt.date(2026, 1, 12)
CLOSE = dt.date(2026, 2, 10)
DUE = dt.date(2026, 3, 3)
PRODUCT = CreditLineProduct()


def with_all_buckets(line: CreditLine) -> CreditLine:
    """Principal 50,000, interest 1,191 (29 days x 50,000 x 29.99% / 365), a 500 late fee."""
    disbursed_draw(line, draw_id="d1", amount=50_000, on=DAY)
    line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    line.run_overdue(today=DUE + dt.timedelta(days=1), product=PRODUCT)
    return line


def pay(
    line: CreditLine, payment_id: str, amount: object, on: dt.date, rail: Rail = Rail.ACH
) -> None:
    line.submit_payment(payment_id=payment_id, amount=amount, rail=rail, on=on)


def settle(line: CreditLine, payment_id: str, outcome: SettlementOutcome, on: dt.date) -> None:
    line.settle_payment(payment_id=payment_id, outcome=outcome, on=on)


def test_a_payment_pays_fees_then_interest_then_principal(line: CreditLine) -> None:
    with_all_buckets(line)
    assert line.balances == Balances(principal=50_000, interest=1_191, fees=500)
    line.outbox.drain()
    payment = line.submit_payment(
        payment_id="p1", amount=2_000, rail=Rail.PINLESS, on=dt.date(2026, 3, 5)
    )
    assert (payment.paid_fees, payment.paid_interest, payment.paid_principal) == (500, 1_191, 309)
    assert payment.status is PaymentStatus.PENDING
    assert line.balances == Balances(principal=49_691, interest=0, fees=0)
    (entry,) = line.outbox.entries
    assert entry.entry_id == "p1:apply"
    assert entry.net(CLEARING) == 2_000
    assert entry.net(receivable("line-1", Bucket.FEE)) == -500
    assert entry.net(receivable("line-1", Bucket.INTEREST)) == -1_191
    assert entry.net(receivable("line-1", Bucket.PRINCIPAL)) == -309


@pytest.mark.parametrize(
    ("amount", "message"),
    [(0, "more than 0"), (-1, "more than 0"), (12.5, "floats are not money"), (True, "bool")],
)
def test_a_bad_amount_is_refused_and_changes_nothing(
    line: CreditLine, amount: object, message: str
) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    with refused(line, InvalidAmount, match=message):
        pay(line, "p1", amount, DAY)


def test_a_payment_above_the_balance_is_refused(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    with refused(line, Overpayment, match=r"\$50.01 is above the \$50.00 owed"):
        pay(line, "p1", 5_001, DAY)
    pay(line, "p1", 5_000, DAY)
    assert line.total_balance == 0


def test_a_payment_id_applies_once(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    pay(line, "p1", 1_000, DAY)
    with refused(line, DuplicatePayment, match="'p1' was already applied"):
        pay(line, "p1", 1_000, DAY)


def test_rtp_cannot_collect(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    with refused(line, PaymentError, match="cannot collect a repayment"):
        pay(line, "p1", 1_000, DAY, rail=Rail.RTP)


def test_a_payment_dated_in_the_past_is_refused(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    with refused(line, OutOfOrder):
        pay(line, "p1", 1_000, DAY - dt.timedelta(days=1))


def test_completion_changes_the_status_only(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    pay(line, "p1", 1_000, DAY)
    line.outbox.drain()
    balances = line.balances
    settle(line, "p1", SettlementOutcome.COMPLETED, DAY + dt.timedelta(days=2))
    assert line.payments["p1"].status is PaymentStatus.COMPLETED
    assert line.balances == balances
    assert line.outbox.entries == []
    assert [event.type for event in line.outbox.events] == [EventType.LOC_PAYMENT_SUCCEEDED]
    (change,) = line.outbox.changes
    assert (change.entity, change.process) == ("payment", "SETTLEMENT")
    before = copy.deepcopy(line)
    settle(line, "p1", SettlementOutcome.COMPLETED, DAY + dt.timedelta(days=3))
    assert line == before


@pytest.mark.parametrize("outcome", [SettlementOutcome.RETURNED, SettlementOutcome.CHARGED_BACK])
def test_a_return_reverses_exactly_what_the_payment_paid(
    line: CreditLine, outcome: SettlementOutcome
) -> None:
    with_all_buckets(line)
    later = dt.date(2026, 3, 5)
    before_payment = line.balances
    pay(line, "p1", 2_000, later)
    line.outbox.drain()
    settle(line, "p1", outcome, later + dt.timedelta(days=2))
    assert line.balances == before_payment
    payment = line.payments["p1"]
    assert payment.status.value == outcome.value
    (entry,) = line.outbox.entries
    assert entry.entry_id == "p1:reverse"
    assert entry.net(CLEARING) == -2_000
    assert entry.net(receivable("line-1", Bucket.FEE)) == 500
    assert entry.net(receivable("line-1", Bucket.INTEREST)) == 1_191
    assert entry.net(receivable("line-1", Bucket.PRINCIPAL)) == 309
    assert line.outbox.events[0] == DomainEvent(
        EventType.LOC_PAYMENT_FAILED,
        "user-1",
        "p1",
        later + dt.timedelta(days=2),
        {
            "line_id": "line-1",
            "amount": 2_000,
            "outcome": outcome.value,
            "line_status": line.status.value,
            "balance": line.total_balance,
            "past_due_amount": line.past_due_amount(later + dt.timedelta(days=2)),
            "minimum_outstanding": line.minimum_payment_outstanding,
            "next_due_date": None,  # 03-03 has passed: what is unpaid is past due
        },
    )
    processes = [(change.entity, change.process) for change in line.outbox.changes]
    assert ("payment", "UNAPPLY") in processes
    assert ("line", "UNAPPLY") in processes


def test_a_payment_is_reversed_once_in_any_order(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    pay(line, "p1", 1_000, DAY)
    settle(line, "p1", SettlementOutcome.RETURNED, DAY)  # before any completion
    assert line.principal_balance == 5_000
    before = copy.deepcopy(line)
    with pytest.raises(PaymentAlreadyReversed, match="p1 was already RETURNED"):
        settle(line, "p1", SettlementOutcome.RETURNED, DAY)
    with pytest.raises(PaymentAlreadyReversed):
        settle(line, "p1", SettlementOutcome.CHARGED_BACK, DAY)
    settle(line, "p1", SettlementOutcome.COMPLETED, DAY)  # late completion: nothing
    assert line == before
    ledger = Ledger(entries=line.outbox.entries)
    assert ledger.balance(CLEARING) == 0
    assert ledger.balance(receivable("line-1", Bucket.PRINCIPAL)) == 5_000


def test_a_return_after_completion_still_reverses(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    pay(line, "p1", 1_000, DAY, rail=Rail.PINLESS)
    settle(line, "p1", SettlementOutcome.COMPLETED, DAY)
    settle(line, "p1", SettlementOutcome.CHARGED_BACK, DAY + dt.timedelta(days=20))
    assert line.payments["p1"].status is PaymentStatus.CHARGED_BACK
    assert line.principal_balance == 5_000


def test_settling_an_unknown_payment_is_refused(line: CreditLine) -> None:
    with refused(line, PaymentNotApplied, match="never applied payment 'p9'"):
        settle(line, "p9", SettlementOutcome.RETURNED, DAY)


def test_a_return_can_make_a_met_minimum_unmet(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=DAY)
    line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    pay(line, "p1", line.next_minimum_payment_due, DUE)
    assert line.minimum_payment_outstanding == 0
    settle(line, "p1", SettlementOutcome.RETURNED, DUE)  # before the due date ends
    assert line.minimum_payment_outstanding == 2_691
    assert line.status is LineStatus.ACTIVE  # the borrower still has the due date


def test_a_return_after_the_due_date_suspends_the_line_at_once(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=DAY)
    line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    pay(line, "p1", 2_691, DUE)
    line.outbox.drain()
    returned_on = DUE + dt.timedelta(days=3)
    settle(line, "p1", SettlementOutcome.RETURNED, returned_on)
    assert line.status is LineStatus.SUSPENDED
    assert line.past_due_since == DUE + dt.timedelta(days=1)
    assert line.past_due_amount(returned_on) == 2_691
    assert [event.type for event in line.outbox.events] == [
        EventType.LOC_PAYMENT_FAILED,
        EventType.LOC_PAST_DUE,
    ]


def test_paying_the_past_due_amount_cures_the_line(line: CreditLine) -> None:
    with_all_buckets(line)
    assert (line.status, line.past_due_since) == (LineStatus.SUSPENDED, DUE + dt.timedelta(days=1))
    today = dt.date(2026, 3, 6)
    pay(line, "p1", line.past_due_amount(today) - 1, today)
    assert (line.status, line.fee_balance) == (LineStatus.SUSPENDED, 0)
    line.outbox.drain()
    pay(line, "p2", 1, today)
    assert line.status is LineStatus.ACTIVE
    assert line.past_due_since is None
    cure = line.outbox.changes[-1]
    assert cure.process == "CURE"
    assert FieldChange("status", "SUSPENDED", "ACTIVE") in cure.fields


def test_returning_the_curing_payment_suspends_the_line_again(line: CreditLine) -> None:
    with_all_buckets(line)
    since = line.past_due_since
    today = dt.date(2026, 3, 6)
    pay(line, "p1", line.past_due_amount(today), today)
    assert (line.status, line.past_due_since) == (LineStatus.ACTIVE, None)
    settle(line, "p1", SettlementOutcome.RETURNED, today + dt.timedelta(days=2))
    assert line.status is LineStatus.SUSPENDED
    assert line.past_due_since == since  # the default clock does not restart


def test_returning_a_payment_from_an_earlier_statement_raises_the_minimum(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=DAY)
    line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    pay(line, "p1", 5_000, dt.date(2026, 2, 20))  # covers the 2,691 minimum
    line.bill_cycle(close_date=dt.date(2026, 3, 10), today=dt.date(2026, 3, 10), product=PRODUCT)
    minimum = line.next_minimum_payment_due
    settle(line, "p1", SettlementOutcome.RETURNED, dt.date(2026, 3, 12))
    assert line.next_minimum_payment_due == minimum + 2_691
    assert line.status is LineStatus.ACTIVE  # due on the new due date


def test_a_return_reopens_a_closed_line(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=5_000, on=DAY)
    line.bill_cycle(close_date=CLOSE, today=CLOSE, product=PRODUCT)
    pay(line, "p1", line.total_balance, CLOSE)  # nothing owed at the end of any later day
    line.bill_cycle(close_date=dt.date(2026, 3, 10), today=dt.date(2026, 3, 10), product=PRODUCT)
    line.close(on=dt.date(2026, 3, 10), reason="borrower asked")
    assert (line.status, line.total_balance) == (LineStatus.CLOSED, 0)
    settle(line, "p1", SettlementOutcome.RETURNED, dt.date(2026, 3, 11))
    assert line.status is LineStatus.ACTIVE
    assert line.total_balance == 5_000 + line.payments["p1"].paid_interest


@given(
    amount=st.integers(1, 60_000),
    fees=st.integers(0, 5_000),
    interest=st.integers(0, 5_000),
    principal=st.integers(0, 50_000),
)
def test_waterfall_parts_add_up_and_a_reversal_restores_the_balances(
    amount: int, fees: int, interest: int, principal: int
) -> None:
    line = attrs.evolve(
        bare_line(DAY, apr=Decimal(10)),
        principal_balance=principal,
        interest_balance=interest,
        fee_balance=fees,
    )
    if amount > line.total_balance:
        with pytest.raises(Overpayment):
            pay(line, "p1", amount, DAY)
        return
    before = line.balances
    pay(line, "p1", amount, DAY)
    applied = line.payments["p1"].applied
    assert applied.principal + applied.interest + applied.fees == amount
    assert applied.fees == min(amount, fees)
    assert applied.interest == min(amount - applied.fees, interest)
    assert min(line.principal_balance, line.interest_balance, line.fee_balance) >= 0
    settle(line, "p1", SettlementOutcome.RETURNED, DAY)
    assert line.balances == before
