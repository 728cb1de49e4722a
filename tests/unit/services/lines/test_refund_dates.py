"""A line refund a correction creates or cancels is dated the day the correction is booked.

The replay decides what a payment owes back as of its own day, but the books post what
the correction changes on the business date it is booked: the refund keeps those dates
(`recorded_on`, `cancelled_on`), so its receipt, its ledger entry and the line statement's
"refund due" / "refund cancelled" rows agree, and a row never lands in a closed cycle.
A loan's correction dates a refund it creates the same way. Also here: the late
`loc_statement_ready` a correction sends for a statement withheld while charged off
carries `autopay` and `autopay_amount`, as the regular one does.
"""

import datetime as dt

from deployment import LINES_OPENED, Deployment
from fakes import declining, settlement, statement_adds_up

from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus
from loc_core.creditline.statement import CreditKind, CreditMovement, Statement
from loc_core.disclosures import statement_disclosure
from loc_core.events import DomainEvent, EventType
from loc_core.installment import Process
from loc_core.ledger import Ledger
from loc_core.payments import Rail, SettlementOutcome
from loc_core.refunds import RefundDue, RefundStatus
from loc_core.services.commands import (
    BookBackdatedLinePayment,
    GetLinePaymentReceipt,
    ListLineStatements,
    ReconcileLine,
)
from loc_core.testing.installment import ledger_problems, make_loan

PAID_ON = dt.date(2026, 3, 12)


def paid_off(world: Deployment) -> tuple[CreditLine, str, str]:
    """$100.00 drawn and paid off on 03-12: the line, the draw's and the payment's ids."""
    line = world.open_line()
    world.at(PAID_ON)
    draw = world.draw(line, 10_000)
    payment = world.pay_line(line, 10_000)
    assert payment.refund is None
    return line, draw.draw_id, payment.payment_id


def draw_comes_back(world: Deployment, draw_id: str, on: dt.date) -> None:
    world.at(on, 12)
    world.settle(
        settlement(f"{draw_id}:rtp", SettlementOutcome.RETURNED, world.clock.now(), Rail.RTP)
    )


def charged_back(world: Deployment, line: CreditLine, payment_id: str, on: dt.date) -> None:
    world.at(on, 12)
    rail = world.line(line).payments[payment_id].rail
    world.settle(settlement(payment_id, SettlementOutcome.CHARGED_BACK, world.clock.now(), rail))


def refund_of(world: Deployment, line: CreditLine, payment_id: str) -> RefundDue:
    refund = world.line(line).payments[payment_id].refund
    assert refund is not None
    return refund


def entry_date(world: Deployment, line: CreditLine, entry_id: str) -> dt.date:
    (entry,) = (e for e in world.ledger(line.line_id) if e.entry_id == entry_id)
    return entry.effective_date


def sound(world: Deployment, line: CreditLine) -> None:
    """The books reconcile and the line does not both owe and be owed."""
    result = world.bus.handle(ReconcileLine(line.user_id, line.line_id))
    assert result.matches, result.mismatches
    stored = world.line(line)
    assert stored.refunds_due == 0 or stored.total_balance == 0


def billed(world: Deployment, line: CreditLine, on: dt.date) -> Statement:
    """Bill the cycle closing `on`; its statement, once its disclosure adds up."""
    world.at(on, 8)
    world.bill()
    statement = world.bus.handle(ListLineStatements(line.user_id, line.line_id))[-1]
    assert statement.statement_date == on
    figures = statement_disclosure(
        statement, credit_limit=line.credit_limit, product=CreditLineProduct()
    )
    assert statement_adds_up(figures)
    return statement


def test_a_refund_a_returned_draw_makes_is_dated_the_day_the_return_is_booked(
    world: Deployment,
) -> None:
    line, draw_id, payment_id = paid_off(world)

    draw_comes_back(world, draw_id, dt.date(2026, 3, 16))

    refund = refund_of(world, line, payment_id)
    assert (refund.amount, refund.status) == (10_000, RefundStatus.DUE)
    assert refund.recorded_on == dt.date(2026, 3, 16)  # not the payment's 03-12
    assert refund.recorded_on == entry_date(world, line, f"{payment_id}:refund_due")
    receipt = world.bus.handle(GetLinePaymentReceipt(line.user_id, line.line_id, payment_id))
    assert receipt.refund is not None
    assert receipt.refund.recorded_on == dt.date(2026, 3, 16)
    sound(world, line)


def test_a_chargeback_cancels_the_refund_on_the_day_it_is_learned(world: Deployment) -> None:
    line, draw_id, payment_id = paid_off(world)
    draw_comes_back(world, draw_id, dt.date(2026, 3, 16))

    charged_back(world, line, payment_id, dt.date(2026, 3, 17))

    refund = refund_of(world, line, payment_id)
    assert (refund.status, refund.cancelled_on) == (RefundStatus.CANCELLED, dt.date(2026, 3, 17))
    assert refund.cancelled_on == entry_date(world, line, f"{payment_id}:refund_cancelled")
    assert refund.recorded_on == dt.date(2026, 3, 16)  # the return's day, kept
    assert world.line(line).refunds_due == 0
    sound(world, line)


def test_each_refund_row_is_on_the_statement_of_the_cycle_that_booked_it(
    world: Deployment,
) -> None:
    """The draw comes back after the first close, the chargeback after the second."""
    line, draw_id, payment_id = paid_off(world)
    first = billed(world, line, dt.date(2026, 4, 5))
    assert (first.credit_activity, first.closing_credit) == ((), 0)

    draw_comes_back(world, draw_id, dt.date(2026, 4, 8))
    second = billed(world, line, dt.date(2026, 5, 5))
    # Dated on the payment's 03-12 it fell in the closed cycle: a bare "correction" row.
    assert second.credit_activity == (
        CreditMovement(
            kind=CreditKind.REFUND_DUE,
            reference=payment_id,
            on=dt.date(2026, 4, 8),
            amount=10_000,
        ),
    )
    assert second.closing_credit == 10_000

    charged_back(world, line, payment_id, dt.date(2026, 5, 10))
    third = billed(world, line, dt.date(2026, 6, 5))
    assert third.credit_activity == (
        CreditMovement(
            kind=CreditKind.REFUND_CANCELLED,
            reference=payment_id,
            on=dt.date(2026, 5, 10),
            amount=-10_000,
        ),
    )
    assert (third.opening_credit, third.closing_credit) == (10_000, 0)
    refund = refund_of(world, line, payment_id)
    assert (refund.recorded_on, refund.cancelled_on) == (
        entry_date(world, line, f"{payment_id}:refund_due"),
        entry_date(world, line, f"{payment_id}:refund_cancelled"),
    )
    sound(world, line)


def test_a_later_correction_keeps_the_days_a_refund_was_booked_and_cancelled(
    world: Deployment,
) -> None:
    line, draw_id, payment_id = paid_off(world)
    draw_comes_back(world, draw_id, dt.date(2026, 3, 16))
    charged_back(world, line, payment_id, dt.date(2026, 3, 17))
    world.at(dt.date(2026, 3, 18))
    second = world.draw(line, 5_000, key="draw-2")
    paid = world.pay_line(line, 5_000, key="pay-2")

    draw_comes_back(world, second.draw_id, dt.date(2026, 3, 20))  # another correction

    first = refund_of(world, line, payment_id)
    assert (first.recorded_on, first.cancelled_on) == (dt.date(2026, 3, 16), dt.date(2026, 3, 17))
    again = refund_of(world, line, paid.payment_id)
    assert (again.recorded_on, again.status) == (dt.date(2026, 3, 20), RefundStatus.DUE)
    sound(world, line)


def test_a_backdated_checks_refund_is_dated_the_day_it_is_keyed(world: Deployment) -> None:
    """A check received 03-14 and keyed 03-16 pays off $400.00: its $100.00 is owed back."""
    line = world.open_line()
    world.at(PAID_ON)
    world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 16))

    receipt = world.bus.handle(
        BookBackdatedLinePayment(
            line.user_id, line.line_id, 50_000, dt.date(2026, 3, 14), "mailed check", "check-1"
        )
    )

    assert receipt.refund is not None
    assert receipt.refund.recorded_on == dt.date(2026, 3, 16)
    refund = refund_of(world, line, receipt.payment_id)
    assert refund.recorded_on == entry_date(world, line, f"{receipt.payment_id}:refund_due")
    sound(world, line)


# --- the late statement a correction sends carries autopay as the regular one ----------


def charged_off_then_withheld() -> tuple[Deployment, CreditLine]:
    """$400.00 drawn 03-12, billed 04-05 (1,989 due 04-27), every debit declined: charged
    off 04-28 (one day past due is the default here); the 05-05 statement is withheld."""
    world = Deployment.build(
        now=LINES_OPENED,
        seed=11,
        overrides={CreditLineProduct: CreditLineProduct(default_after_days_past_due=1)},
    )
    line = world.open_line()
    world.at(PAID_ON)
    world.draw(line, 40_000)
    world.rails.handler = declining(world.sim, {Rail.PINLESS, Rail.ACH})
    world.run_days(dt.date(2026, 4, 5), dt.date(2026, 5, 6))
    assert world.line(line).status is LineStatus.DEFAULTED
    assert world.line(line).withheld_statements == (dt.date(2026, 5, 5),)
    world.rails.handler = world.sim.submit
    return world, line


def statement_notices(world: Deployment) -> list[DomainEvent]:
    return [e for e in world.notifier.sent if e.type is EventType.LOC_STATEMENT_READY]


def test_the_late_statement_tells_autopay_and_what_the_due_job_will_debit() -> None:
    world, line = charged_off_then_withheld()
    world.at(dt.date(2026, 5, 7), 17)
    world.bus.handle(  # the 04-27 minimum was mailed on 04-24: the line never defaulted
        BookBackdatedLinePayment(
            line.user_id, line.line_id, 1_989, dt.date(2026, 4, 24), "cheque", "cheque-1"
        )
    )

    late = statement_notices(world)[-1]
    assert late.data["corrected"] is True
    assert {"autopay", "autopay_amount"} <= set(late.data)
    corrected = world.line(line)
    assert corrected.status is LineStatus.ACTIVE
    assert late.data["autopay"] is corrected.autopay_enabled is True
    told = late.data["autopay_amount"]
    assert told == corrected.decide_due(today=dt.date(2026, 5, 26)).amount > 0
    assert late.data["next_due_date"] == "2026-05-26"


# --- a loan dates a refund its correction makes the same way ----------------------------


def test_a_loan_refund_a_backdated_payment_makes_is_dated_the_day_it_is_booked() -> None:
    """A loan paid off on 02-05; a check for as much, received 02-01, keyed 02-10: the
    check paid the loan, so what the 02-05 payment paid is owed back, as of the booking."""
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    owed = loan.outstanding_balance
    loan.apply_payment(
        "pay-2", owed, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 2, 5)
    )
    ledger.post_all(loan.outbox.drain().entries)

    loan.book_backdated_payment(
        "check-1",
        owed,
        rail=Rail.ACH,
        effective_on=dt.date(2026, 2, 1),
        today=dt.date(2026, 2, 10),
        posted=list(ledger),
        reason="mailed check",
    )

    refund = loan.payments["pay-2"].refund
    assert refund is not None
    assert refund.amount > 0
    assert refund.recorded_on == dt.date(2026, 2, 10)  # not 02-05
    ledger.post_all(loan.outbox.drain().entries)
    assert ledger_problems(loan, ledger) == []
