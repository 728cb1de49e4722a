import copy
import datetime as dt

import pytest
from fakes import refused

from loc_core.creditline import (
    CreditLine,
    CreditLineProduct,
    LineStatus,
)
from loc_core.errors import InvalidTransition, LineNotActive, Overpayment
from loc_core.events import FieldChange
from loc_core.payments import Rail
from loc_core.testing.creditline import disbursed_draw

DAY = dt.date(2026, 1, 12)
PRODUCT = CreditLineProduct()


def test_an_unused_line_closes_and_takes_no_more_draws(line: CreditLine) -> None:
    line.close(on=DAY, reason="borrower asked")
    assert line.status is LineStatus.CLOSED
    (change,) = line.outbox.changes
    assert (change.process, change.reason) == ("CLOSE", "borrower asked")
    assert FieldChange("status", "ACTIVE", "CLOSED") in change.fields
    with pytest.raises(LineNotActive, match="CLOSED"):
        line.request_draw(draw_id="d1", amount=1, on=DAY)
    with pytest.raises(Overpayment):
        line.submit_payment(payment_id="p1", amount=1, rail=Rail.ACH, on=DAY)
    before = copy.deepcopy(line)
    line.close(on=DAY, reason="again")
    assert line == before


def test_a_line_closes_only_when_nothing_is_owed(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=1_000, on=DAY)
    with refused(line, InvalidTransition, match=r"owes \$10.00"):
        line.close(on=DAY, reason="borrower asked")


def test_a_pending_draw_keeps_the_line_open(line: CreditLine) -> None:
    line.request_draw(draw_id="d1", amount=1_000, on=DAY)
    with pytest.raises(InvalidTransition, match=r"\$10.00 of pending draws"):
        line.close(on=DAY, reason="borrower asked")


def test_interest_accrued_since_the_statement_is_billed_before_closing(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=1_000, on=DAY)
    line.submit_payment(payment_id="p1", amount=1_000, rail=Rail.ACH, on=DAY + dt.timedelta(days=3))
    assert line.total_balance == 0
    with pytest.raises(InvalidTransition, match="interest accruing since 2026-01-10"):
        line.close(on=DAY + dt.timedelta(days=3), reason="borrower asked")
    statement = line.bill_cycle(
        close_date=dt.date(2026, 2, 10), today=dt.date(2026, 2, 10), product=PRODUCT
    )
    assert statement is not None
    assert statement.interest_charged == 2  # 3 days x 1,000 x 29.99% / 365 = 2.46
    line.submit_payment(payment_id="p2", amount=2, rail=Rail.ACH, on=dt.date(2026, 2, 10))
    line.close(on=dt.date(2026, 2, 10), reason="borrower asked")
    assert line.status is LineStatus.CLOSED
