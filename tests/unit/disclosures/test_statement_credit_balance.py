"""A payment beyond what was owed: the statement credits all of it and shows the credit."""

import datetime as dt
import io
from decimal import Decimal

from fakes import billed_disclosure, statement_adds_up
from pypdf import PdfReader

from loc_adapters.documents import PdfRenderer
from loc_core.creditline import CreditLine, CreditLineProduct
from loc_core.disclosures import StatementDisclosure
from loc_core.payments import Rail, SettlementOutcome

PRODUCT = CreditLineProduct()
D = dt.date


def new_line() -> CreditLine:
    line = CreditLine(
        line_id="L1",
        user_id="u1",
        application_id="a1",
        opened_on=D(2026, 1, 10),
        credit_limit=100_000,
        apr=Decimal("29.99"),
        minimum_payment_percent=Decimal(2),
        cycle_day=10,
    )
    line.request_draw(draw_id="d1", amount=10_000, on=D(2026, 1, 10))
    line.disburse_draw(draw_id="d1", rail=Rail.RTP, on=D(2026, 1, 10))
    return line


def pdf_text(figures: StatementDisclosure) -> str:
    pdf = PdfRenderer().statement(figures, borrower_name="B")
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_a_payment_beyond_the_balance_is_credited_in_full_and_the_credit_shown() -> None:
    line = new_line()
    line.book_moved_payment(payment_id="p1", amount=10_400, rail=Rail.ACH, on=D(2026, 1, 10))
    figures = billed_disclosure(line, D(2026, 2, 10))
    assert (figures.payments, figures.new_balance, figures.credit_balance) == (10_400, -400, 400)
    assert [(row.kind, row.amount) for row in figures.transactions] == [
        ("draw", 10_000),
        ("payment", -10_400),
    ]
    assert statement_adds_up(figures)
    assert figures.minimum_payment_warning == ""
    text = pdf_text(figures)
    assert "Payments -$104.00" in text
    assert "New balance -$4.00" in text
    assert "Credit balance owed to you $4.00" in text
    assert "Credit balance: we owe you $4.00" in text


def test_a_credit_balance_carries_until_it_is_refunded_or_cancelled() -> None:
    line = new_line()
    line.book_moved_payment(payment_id="p1", amount=10_400, rail=Rail.ACH, on=D(2026, 1, 10))
    first = billed_disclosure(line, D(2026, 2, 10))
    carried = billed_disclosure(line, D(2026, 3, 10))
    assert (carried.previous_balance, carried.new_balance, carried.credit_balance) == (
        first.new_balance,
        -400,
        400,
    )
    assert carried.transactions == ()
    assert "Credit balance owed to you $4.00" in pdf_text(carried)
    line.settle_payment(payment_id="p1", outcome=SettlementOutcome.RETURNED, on=D(2026, 3, 12))
    returned = billed_disclosure(line, D(2026, 4, 10))
    assert returned.previous_balance == -400
    assert (returned.reversals, returned.credit_balance) == (10_400, 0)
    assert [(row.kind, row.amount) for row in returned.transactions] == [("reversal", 10_400)]
    assert returned.new_balance == 10_000 + returned.interest_charged
    assert statement_adds_up(returned)
    assert "Credit balance" not in pdf_text(returned)


def test_a_payment_on_a_paid_off_line_is_a_row_of_its_own() -> None:
    line = new_line()
    line.submit_payment(payment_id="p1", amount=10_000, rail=Rail.ACH, on=D(2026, 1, 10))
    line.book_moved_payment(payment_id="p2", amount=2_500, rail=Rail.ACH, on=D(2026, 1, 15))
    figures = billed_disclosure(line, D(2026, 2, 10))
    assert [(row.kind, row.reference, row.amount) for row in figures.transactions] == [
        ("draw", "d1", 10_000),
        ("payment", "p1", -10_000),
        ("payment", "p2", -2_500),
    ]
    assert (figures.payments, figures.new_balance, figures.credit_balance) == (
        12_500,
        -2_500,
        2_500,
    )
    assert statement_adds_up(figures)


def test_a_return_learned_after_its_cycle_was_issued_cancels_the_credit_on_the_day_learned() -> (
    None
):
    """The buckets it paid are adjustments to the issued cycle; its refund's cancellation,
    booked on 02-12, is a "Payment returned" row of that day (not dated in the issued cycle)."""
    line = new_line()
    line.book_moved_payment(payment_id="p1", amount=10_400, rail=Rail.ACH, on=D(2026, 1, 10))
    first = billed_disclosure(line, D(2026, 2, 10))
    posted = list(line.outbox.drain().entries)
    line.correct_return(
        payment_id="p1",
        outcome=SettlementOutcome.RETURNED,
        today=D(2026, 2, 12),
        product=PRODUCT,
        posted=posted,
    )
    after = billed_disclosure(line, D(2026, 3, 10))
    assert after.previous_balance == first.new_balance == -400
    assert after.credit_balance == 0
    (returned,) = (row for row in after.transactions if row.kind == "reversal")
    assert (returned.on, returned.description, returned.amount) == (
        D(2026, 2, 12),
        "Payment returned",
        400,
    )
    assert not any(row.description == "Credit balance adjustment" for row in after.transactions)
    assert statement_adds_up(after)
    assert after.new_balance == line.total_balance - line.refunds_due
