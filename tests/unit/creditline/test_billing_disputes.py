"""A billing error credited stays credited when a later correction replays the line."""

import datetime as dt
from decimal import Decimal

from fakes import bare_line
from unit.creditline.test_corrections import Books

from loc_core.corrections import account_balances
from loc_core.creditline import DisputedCharge
from loc_core.ledger import BILLING_ERRORS, Bucket, receivable
from loc_core.payments import Rail
from loc_core.testing.creditline import disbursed_draw


def test_a_return_after_an_error_was_credited_keeps_the_credit() -> None:
    books = Books(bare_line(dt.date(2026, 3, 5), apr=Decimal("29.99")))
    line = books.line
    disbursed_draw(line, draw_id="d1", amount=40_000, on=dt.date(2026, 3, 5))
    disbursed_draw(line, draw_id="d2", amount=10_000, on=dt.date(2026, 3, 20))
    books.go_to(dt.date(2026, 4, 5))
    statement = line.last_statement
    assert statement is not None
    books.go_to(dt.date(2026, 4, 8))
    line.submit_payment(payment_id="p1", amount=3_000, rail=Rail.ACH, on=books.day)
    books.go_to(dt.date(2026, 4, 10))
    line.dispute_billing_error(
        dispute_id="x",
        statement=statement,
        charge=DisputedCharge.DRAW,
        draw_id="d2",
        amount=10_000,
        description="no",
        received_on=books.day,
        product=books.product,
    )
    books.go_to(dt.date(2026, 4, 20))
    done = line.resolve_billing_dispute(
        dispute_id="x",
        error_found=True,
        explanation="yes",
        today=books.day,
        product=books.product,
        posted=books.posted,
    )
    books.post()
    # 10,000 and its interest of 03-20..04-04, the difference of one rounding of the cycle
    assert (done.credited, done.finance_charge) == (10_000 + 131, 131)
    credited = line.balances
    books.returned("p1", dt.date(2026, 4, 22))
    # the 3,000 paid is owed again; the credit is not undone
    assert line.total_balance == credited.total + 3_000
    assert line.principal_balance == 40_000  # 50,000 drawn less the 10,000 in error
    balances = account_balances(books.posted)
    assert balances[BILLING_ERRORS] == 10_000
    assert balances[receivable(line.line_id, Bucket.PRINCIPAL)] == line.principal_balance
    assert balances[receivable(line.line_id, Bucket.INTEREST)] == line.interest_balance
