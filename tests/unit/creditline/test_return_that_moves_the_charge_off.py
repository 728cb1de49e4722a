"""A payment returned as of its day, on a charged-off line its payoff has closed since.

Found by `CreditLineLifecycle` (seed 31007; open, draw, months_pass_unpaid twice,
book_backdated_money, book_money_that_moved, correct_a_return): a payment of 14 booked
late as of a day it cured the line put the charge-off a cycle later (one more late fee, a
month more interest), so it lowered what the line owed by 1 only. A payoff with 1 to
spare closed the line (a refund due of 1). Returning the 14 replays the line charged off a
cycle sooner: what it owes rises by 1, which the payoff's spare cent pays, and the line
stays CLOSED. The aggregate was right; the machine expected the return to raise what the
line owes by the whole 14 unless the line was DEFAULTED now, and missed a charged-off line
a payoff closed since (CLOSED from DEFAULTED). It now asks whether the corrected history
charged the line off (`_charged_off`), for returns and backdated draws alike: a draw
booked late that lifts a minimum above the payment that had cured the line moves the
charge-off sooner the same way (built here by hand; no seed found it).
"""

import datetime as dt
from decimal import Decimal
from typing import cast

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.corrections import CorrectionPolicy
from loc_core.creditline import (
    CreditLine,
    CreditLineApplication,
    CreditLineProduct,
    LineStatus,
)
from loc_core.ledger import Ledger, refund_due
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.testing.creditline import (
    CreditLineLifecycle,
    a_day_passes,
    disbursed_draw,
    make_line,
)

PRODUCT = CreditLineProduct(
    cycle_day=1,
    statement_to_due_days=10,
    minimum_payment_percent_min=Decimal("0.50"),
    minimum_payment_percent_max=Decimal("0.50"),
    late_fee_cents=39,
    default_after_days_past_due=33,
    corrections=CorrectionPolicy(reach=dt.timedelta(days=120)),
)
APR, MINIMUM = Decimal("2.30"), Decimal("0.50")
OPENED = dt.date(2024, 1, 1)
DAYS = 120  # today: 2024-04-30, the line charged off on 2024-03-16
CURED_ON = dt.date(2024, 2, 16)  # 74 days back: the line was SUSPENDED, the 14 cures it
ONCE = False  # the machine's "delivered again" draw: not delivered a second time


def _status(line: CreditLine) -> LineStatus:
    """The line's status now (read afresh: commands change it)."""
    return line.status


def test_a_return_that_charges_the_line_off_sooner_raises_what_it_owes_by_less() -> None:
    line = make_line(credit_limit=5_000, apr=APR, minimum_payment_percent=MINIMUM, product=PRODUCT)
    ledger = Ledger()
    today = line.opened_on
    disbursed_draw(line, draw_id="draw-1", amount=310, on=today)
    for _ in range(DAYS):
        today += dt.timedelta(days=1)
        a_day_passes(line, today, product=PRODUCT)
    ledger.post_all(line.outbox.drain().entries)
    assert (_status(line), line.total_balance) == (LineStatus.DEFAULTED, 324)
    line.book_backdated_payment(
        payment_id="pay-1",
        amount=14,
        rail=Rail.PINLESS,
        effective_on=CURED_ON,
        reason="a mailed payment keyed late",
        today=today,
        product=PRODUCT,
        posted=ledger.entries(),
    )
    ledger.post_all(line.outbox.drain().entries)
    assert line.total_balance == 323  # charged off a cycle later: a late fee and interest more
    line.book_moved_payment(payment_id="pay-2", amount=324, rail=Rail.PINLESS, on=today)
    ledger.post_all(line.outbox.drain().entries)
    assert (_status(line), line.closed_from, line.refunds_due) == (
        LineStatus.CLOSED,
        LineStatus.DEFAULTED,
        1,
    )

    line.correct_return(
        payment_id="pay-1",
        outcome=SettlementOutcome.RETURNED,
        today=today,
        product=PRODUCT,
        posted=ledger.entries(),
    )
    ledger.post_all(line.outbox.drain().entries)

    # Charged off on 2024-03-16 again, owing 324: the payoff pays it all, nothing to spare.
    assert line.payments["pay-1"].status is PaymentStatus.RETURNED
    assert (line.total_balance, line.refunds_due) == (0, 0)
    assert (_status(line), line.closed_from) == (LineStatus.CLOSED, LineStatus.DEFAULTED)
    assert ledger.balance(refund_due("line-1")) == 0


class _Chosen:
    """Stands in for hypothesis's `data` argument: hands out the given values in order."""

    def __init__(self, *values: object) -> None:
        self._values = iter(values)

    def draw(self, _strategy: object, label: object = None) -> object:  # noqa: ARG002 - `data.draw`'s signature
        return next(self._values)


def _data(*values: object) -> st.DataObject:
    return cast("st.DataObject", _Chosen(*values))


def _closed_after_a_charge_off_a_cure_delayed(
    product: CreditLineProduct, apr: Decimal, *, spare: int
) -> CreditLineLifecycle:
    """The machine's line: charged off, a cure booked late, then paid off with `spare`."""
    machine = CreditLineLifecycle()
    application = CreditLineApplication.approved(
        application_id="app-1",
        user_id="user-1",
        created_at=dt.datetime(OPENED.year, OPENED.month, OPENED.day, tzinfo=dt.UTC),
        credit_limit=5_000,
        apr=apr,
        minimum_payment_percent=MINIMUM,
        product=product,
    )
    machine.open(_data(product, application))
    machine.draw(_data(310), rtp_enabled=False, declining=set(), leave_pending=False)
    machine.months_pass_unpaid(DAYS // 2)
    machine.months_pass_unpaid(DAYS // 2)
    days_back = (machine.today - CURED_ON).days
    machine.book_backdated_money(
        _data(Rail.PINLESS, days_back, 14, ONCE), draw=False, before_overdue_job=False
    )
    machine.book_money_that_moved(spare, Rail.PINLESS)
    assert (_status(machine.line), machine.line.closed_from) == (
        LineStatus.CLOSED,
        LineStatus.DEFAULTED,
    )
    return machine


def _invariants(machine: CreditLineLifecycle) -> None:
    machine.ledger_proves_the_balances()
    machine.a_closed_line_owes_nothing()
    machine.a_charged_off_line_paid_in_full_is_closed()
    machine.a_line_never_both_owes_and_is_owed()


once = settings(max_examples=1, database=None, deadline=None)
"""The machine records hypothesis events, so a fixed life runs inside one example."""


@once
@given(st.none())
def test_the_line_machine_takes_a_return_that_moves_the_charge_off_of_a_closed_line(
    nothing: None,  # noqa: ARG001 - one example of nothing
) -> None:
    machine = _closed_after_a_charge_off_a_cure_delayed(PRODUCT, APR, spare=1)

    machine.correct_a_return(
        _data("backdated-3", ONCE), SettlementOutcome.RETURNED, before_overdue_job=False
    )

    _invariants(machine)
    assert (_status(machine.line), machine.line.refunds_due) == (LineStatus.CLOSED, 0)


@once
@given(st.none())
def test_the_line_machine_takes_a_backdated_draw_that_moves_the_charge_off_of_a_closed_line(
    nothing: None,  # noqa: ARG001 - one example of nothing
) -> None:
    """A draw of 3,000 on 2024-01-20 lifts the minimum above the 14: no cure, charged off a
    cycle sooner, one late fee of 1 less (no interest at 0%). What is owed rises by 2,999,
    which the payoff's 3,000 to spare pays, and the line stays CLOSED."""
    product = attrs.evolve(PRODUCT, late_fee_cents=1)
    machine = _closed_after_a_charge_off_a_cure_delayed(product, Decimal(0), spare=3_000)
    days_back = (machine.today - dt.date(2024, 1, 20)).days

    machine.book_backdated_money(
        _data(Rail.ACH, days_back, 3_000, ONCE), draw=True, before_overdue_job=False
    )

    _invariants(machine)
    assert (_status(machine.line), machine.line.refunds_due) == (LineStatus.CLOSED, 1)
