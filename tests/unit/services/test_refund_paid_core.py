"""A refund paid out is final, on the aggregates themselves and through the bus.

A correction refused because it would change a paid refund leaves the loan or line
exactly as it was (not only unsaved); a return of an earlier payment that would shrink a
later payment's paid refund is left to operations.
"""

import copy
import datetime as dt
from decimal import Decimal

import pytest
from deployment import Deployment
from fakes import settlement

from loc_core.creditline import CreditLine, CreditLineProduct
from loc_core.errors import RefundAlreadyPaid
from loc_core.installment import Loan
from loc_core.ledger import JournalEntry
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import (
    BookBackdatedLoanPayment,
    ReconcileLoan,
    RecordRefundPaid,
    SettlementHandling,
)
from loc_core.services.loans import backdated_payment_id
from loc_core.testing.creditline import disbursed_draw

DAY = dt.date(2026, 1, 12)


@pytest.fixture
def paid_out() -> tuple[CreditLine, list[JournalEntry]]:
    """A line whose $104.00 payment on a $100.00 draw kept $4.00, paid back on 01-14."""
    line = CreditLine(
        line_id="line-9",
        user_id="u-9",
        application_id="a-9",
        opened_on=dt.date(2026, 1, 10),
        credit_limit=100_000,
        apr=Decimal("29.99"),
        minimum_payment_percent=Decimal(2),
        cycle_day=10,
    )
    disbursed_draw(line, draw_id="d-9", amount=10_000, on=DAY)
    line.book_moved_payment(payment_id="p-9", amount=10_400, rail=Rail.ACH, on=DAY)
    on = dt.date(2026, 1, 14)
    line.settle_payment(payment_id="p-9", outcome=SettlementOutcome.COMPLETED, on=on)
    line.record_refund_paid(payment_id="p-9", paid_on=on, reference="chk 1", today=on, reason="x")
    return line, list(line.outbox.drain().entries)


def test_a_line_correction_that_would_change_a_paid_refund_leaves_the_line_as_it_was(
    paid_out: tuple[CreditLine, list[JournalEntry]],
) -> None:
    line, posted = paid_out
    before = copy.deepcopy(line)
    on, product = dt.date(2026, 1, 15), CreditLineProduct()
    with pytest.raises(RefundAlreadyPaid) as earlier_draw:
        line.book_backdated_draw(
            draw_id="d-10",
            amount=300,
            rail=Rail.ACH,
            effective_on=dt.date(2026, 1, 11),  # before the payment: it pays this too
            reason="sent by hand",
            today=on,
            product=product,
            posted=posted,
        )
    assert earlier_draw.value.paid == 400
    assert 0 < earlier_draw.value.corrected <= 100  # less the draw (and a day's interest)
    with pytest.raises(RefundAlreadyPaid):
        line.correct_return(
            payment_id="p-9",
            outcome=SettlementOutcome.RETURNED,
            today=on,
            product=product,
            posted=posted,
        )
    with pytest.raises(RefundAlreadyPaid):
        line.settle_payment(payment_id="p-9", outcome=SettlementOutcome.RETURNED, on=on)
    assert line == before


def test_a_return_of_an_earlier_payment_that_would_shrink_a_paid_refund_is_manual() -> None:
    world = Deployment.build()
    world.users.add("user-1")
    world.sim.down = {Rail.PINLESS}
    loan: Loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 7))
    first = world.pay_loan(loan, 10_000).payment_id
    world.at(dt.date(2026, 1, 8))
    owed = world.loan(loan.loan_id).outstanding_balance
    world.bus.handle(
        BookBackdatedLoanPayment(
            loan.user_id, loan.loan_id, owed + 2_500, dt.date(2026, 1, 8), "payoff", "check-1"
        )
    )
    payoff = backdated_payment_id(loan.loan_id, "check-1")
    world.at(dt.date(2026, 1, 9))
    world.bus.handle(
        RecordRefundPaid(loan.user_id, payoff, dt.date(2026, 1, 9), "c-7", "sent", 2_500)
    )
    before = (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent())

    at = dt.datetime(2026, 1, 12, 12, tzinfo=dt.UTC)
    rail = world.loan(loan.loan_id).payments[first].rail
    returned = settlement(first, SettlementOutcome.RETURNED, at, rail)
    assert world.settle(returned) is SettlementHandling.MANUAL

    assert (world.loan(loan.loan_id), len(world.ledger(loan.loan_id)), world.sent()) == before
    (critical,) = world.alerts(Severity.CRITICAL)
    assert (critical.details["payment_id"], critical.details["refund_paid"]) == (payoff, 2_500)
    assert critical.details["refund_corrected"] == 0
    assert world.bus.handle(ReconcileLoan(loan.user_id, loan.loan_id)).problems == ()
