import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.creditline import (
    CreditLine,
    CreditLineProduct,
    LineStatus,
)
from loc_core.ledger import Bucket, Ledger, allowance, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw, lines, products

ONE_DAY = dt.timedelta(days=1)

operations = st.lists(
    st.tuples(
        st.integers(0, 12),  # days to let pass first
        st.sampled_from(["draw", "pay", "return", "chargeback"]),
        st.integers(1, 10**6),
    ),
    max_size=30,
)


def live_until(line: CreditLine, day: dt.date, product: CreditLineProduct) -> dt.date:
    """Move to `day` one day at a time: billing on close dates, the overdue job daily."""
    today = line.accrued_through
    while today < day:
        today += ONE_DAY
        if today == line.next_close_date:
            line.bill_cycle(close_date=today, today=today, product=product)
        line.run_overdue(today=today, product=product)
    return today


def check(line: CreditLine, ledger: Ledger) -> None:
    ledger.post_all(line.outbox.drain().entries)
    assert ledger.balance(receivable(line.line_id, Bucket.PRINCIPAL)) == line.principal_balance
    assert ledger.balance(receivable(line.line_id, Bucket.INTEREST)) == line.interest_balance
    assert ledger.balance(receivable(line.line_id, Bucket.FEE)) == line.fee_balance
    defaulted = line.status is LineStatus.DEFAULTED
    assert -ledger.balance(allowance(line.line_id)) == (line.total_balance if defaulted else 0)
    assert 0 <= line.minimum_payment_outstanding <= line.total_balance
    assert line.next_minimum_payment_due >= 0
    assert 0 <= line.available_credit <= line.credit_limit


@settings(max_examples=150)
@given(data=st.data(), steps=operations)
def test_the_ledger_proves_the_line_and_the_minimum_stays_within_the_balance(
    data: st.DataObject, steps: list[tuple[int, str, int]]
) -> None:
    product = data.draw(products())
    line = data.draw(lines(product))
    ledger = Ledger()
    check(line, ledger)
    for number, (days, action, size) in enumerate(steps):
        today = live_until(line, line.accrued_through + days * ONE_DAY, product)
        open_payments = sorted(p for p, paid in line.payments.items() if not paid.status.reversed)
        if action == "draw" and line.status is LineStatus.ACTIVE and line.available_credit:
            amount = 1 + size % line.available_credit
            disbursed_draw(line, draw_id=f"d{number}", amount=amount, on=today)
        elif action == "pay" and line.total_balance:
            amount = 1 + size % line.total_balance
            line.submit_payment(payment_id=f"p{number}", amount=amount, rail=Rail.ACH, on=today)
        elif action in {"return", "chargeback"} and open_payments:
            outcome = (
                SettlementOutcome.RETURNED if action == "return" else SettlementOutcome.CHARGED_BACK
            )
            payment_id = open_payments[size % len(open_payments)]
            line.settle_payment(payment_id=payment_id, outcome=outcome, on=today)
        check(line, ledger)
