"""`loc_core.testing` as a consumer drives it, step by step, where it used to fail them.

Each machine is driven through a fixed life (no hypothesis run, so each test is fast and
names its scenario): its rules are called as hypothesis would call them and every
invariant is checked after every step.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core import testing
from loc_core.creditline import CreditLine, CreditLineApplication, CreditLineProduct, DrawStatus
from loc_core.errors import CorrectionTooOld
from loc_core.installment import Loan, LoanStatus, Process
from loc_core.ledger import Ledger
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.testing import creditline, installment
from loc_core.testing.creditline import CreditLineLifecycle
from loc_core.testing.installment import ReturnedDisbursementLifecycle


class _Chosen:
    """Stands in for hypothesis's `data` argument: hands out the given values in order."""

    def __init__(self, *values: object) -> None:
        self._values: Iterator[object] = iter(values)

    def draw(self, _strategy: object, label: object = None) -> object:  # noqa: ARG002 - `data.draw`'s signature
        return next(self._values)


once = settings(max_examples=1, database=None, deadline=None)
"""The machines record hypothesis events, so a fixed life runs inside one example."""
a_few = settings(max_examples=10, database=None, deadline=None, derandomize=True)


def _data(*values: object) -> st.DataObject:
    return cast("st.DataObject", _Chosen(*values))


def _loan_invariants(machine: ReturnedDisbursementLifecycle) -> None:
    machine.loan_verifies()
    machine.nothing_negative()
    machine.ledger_agrees()
    machine.statuses_fit()


def _line_invariants(machine: CreditLineLifecycle) -> None:
    machine.ledger_proves_the_balances()
    machine.amounts_stay_in_bounds()
    machine.status_follows_the_past_due_amount()
    machine.the_overdue_index_watches_every_line_the_job_would_change()
    machine.a_ref_that_says_nothing_to_remind_of_hides_no_notice()
    machine.accrued_interest_matches_the_days()


# --- a loan whose disbursement comes back ----------------------------------------------


@once
@given(st.none())
def test_the_loan_machine_cancels_a_loan_whose_disbursement_came_back(nothing: None) -> None:  # noqa: ARG001 - one example of nothing
    machine = ReturnedDisbursementLifecycle()
    machine.pay_part(_data(5_000), Process.MANUAL, Rail.ACH)
    machine.days_pass(3)
    machine.disbursement_comes_back("R01 insufficient funds")
    _loan_invariants(machine)
    assert machine.loan.status is LoanStatus.CANCELLED
    assert machine.loan.refunds_due == 5_000  # the payment is owed back whole
    steps: tuple[Callable[[], object], ...] = (
        lambda: machine.disbursement_comes_back("R01 again"),  # refused: LoanCancelled
        machine.pay_a_closed_loan,  # refused: LoanCancelled
        lambda: machine.apply_a_payment_again(_data("pay-1")),  # refused: LoanCancelled
        lambda: machine.book_money_that_moved(100, Rail.ACH, owed_part=False),
        lambda: machine.reverse(_data("pay-1")),  # the refund due is cancelled with it
        lambda: machine.days_pass(30),
        lambda: machine.pay_out_a_refund(_data("moved-2")),  # refused: still PENDING
        lambda: machine.complete(_data("moved-2")),
        lambda: machine.pay_out_a_refund(_data("moved-2")),
    )
    for step in steps:
        step()
        _loan_invariants(machine)
    assert machine.loan.payments["pay-1"].status is PaymentStatus.RETURNED
    assert machine.loan.refunds_due == 0


@once
@given(st.none())
def test_the_loan_machine_expects_a_return_past_the_reach_to_be_refused(nothing: None) -> None:  # noqa: ARG001 - one example of nothing
    machine = ReturnedDisbursementLifecycle()
    machine.job_skips_days(machine.loan.product.corrections.reach.days + 1)
    machine.disbursement_comes_back("R01 insufficient funds")  # expects CorrectionTooOld
    assert machine.loan.status is not LoanStatus.CANCELLED
    with pytest.raises(CorrectionTooOld):
        machine.loan.cancel_returned_disbursement(
            today=machine.today, posted=machine.ledger.entries(), reason="late"
        )


# --- a draw whose credit the rail returns ----------------------------------------------

_OPENED = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)


def _line_machine() -> CreditLineLifecycle:
    machine = CreditLineLifecycle()
    product = CreditLineProduct()
    application = CreditLineApplication.approved(
        application_id="app-1",
        user_id="user-1",
        created_at=_OPENED,
        credit_limit=100_000,
        apr=Decimal("29.99"),
        minimum_payment_percent=Decimal(3),
        product=product,
    )
    machine.open(_data(product, application))
    return machine


@once
@given(st.none())
def test_the_line_machine_takes_a_returned_draw_out_of_interest(
    nothing: None,  # noqa: ARG001 - one example of nothing
) -> None:
    machine = _line_machine()
    machine.draw(_data(10_000), rtp_enabled=True, declining=set(), leave_pending=False)
    machine.days_pass(2, autopay=False)
    machine.draw(_data(5_000), rtp_enabled=True, declining=set(), leave_pending=False)
    machine.days_pass(3, autopay=False)
    machine.draw_comes_back(_data("draw-2"), SettlementOutcome.RETURNED)
    _line_invariants(machine)  # cent-days: only draw-3's principal, from its day
    line = machine.line
    assert line.draws["draw-2"].status is DrawStatus.RETURNED
    assert line.principal_balance == 5_000
    machine.days_pass(45, autopay=False)  # bills: the interest is draw-3's alone
    _line_invariants(machine)
    assert machine.statements == 1
    assert line.last_statement is not None
    assert line.last_statement.interest_charged == creditline.naive_interest(
        [5_000] * (line.last_statement.statement_date - dt.date(2026, 1, 7)).days, Decimal("29.99")
    )


@once
@given(st.none())
def test_the_line_machine_expects_returns_of_draws_never_sent_to_be_refused(nothing: None) -> None:  # noqa: ARG001 - one example of nothing
    machine = _line_machine()
    machine.draw(_data(10_000), rtp_enabled=True, declining=set(), leave_pending=True)
    machine.return_of_a_draw_never_sent_is_refused(_data("draw-2"))  # PENDING
    machine.settle_pending_draw(_data("draw-2", set()), rtp_enabled=True)
    machine.draw_comes_back(_data("draw-2"), SettlementOutcome.CHARGED_BACK)
    machine.return_of_a_draw_never_sent_is_refused(_data("draw-2"))  # already RETURNED
    _line_invariants(machine)
    assert machine.line.principal_balance == 0


@once
@given(st.none())
def test_a_draw_older_than_the_last_payment_is_not_offered_for_return(nothing: None) -> None:  # noqa: ARG001 - one example of nothing
    """The machine offers only returns whose day-by-day history it can recompute exactly."""
    machine = _line_machine()
    machine.draw(_data(10_000), rtp_enabled=True, declining=set(), leave_pending=False)
    machine.days_pass(1, autopay=False)
    machine.pay(_data(2_000), Rail.ACH)
    assert machine._returnable() == []


# --- strategies -------------------------------------------------------------------------


def test_a_drawn_line_opens_on_the_day_its_application_was_approved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Opened five minutes later, a line drawn at a day's last instant opened the next day."""
    last_instant = dt.datetime(2030, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC)
    monkeypatch.setattr(creditline, "opening_moments", lambda: st.just(last_instant))
    opened: list[dt.date] = []

    @once
    @given(creditline.lines())
    def draw(line: CreditLine) -> None:
        opened.append(line.opened_on)

    draw()
    assert opened == [testing.LAST_DAY] == [dt.date(2030, 12, 31)]


@a_few
@given(installment.loans())
def test_a_drawn_loan_holds_its_disbursement_for_the_consumers_ledger(loan: Loan) -> None:
    ledger = Ledger()
    ledger.post_all(loan.outbox.drain().entries)
    assert len(ledger) == 1
    assert installment.ledger_problems(loan, ledger) == []


@a_few
@given(testing.days(), testing.moments())
def test_the_calendar_strategies_are_public(day: dt.date, moment: dt.datetime) -> None:
    assert testing.FIRST_DAY <= day <= testing.LAST_DAY
    assert testing.FIRST_DAY <= moment.date() <= testing.LAST_DAY
    assert moment.tzinfo is dt.UTC
    assert dt.date(2024, 2, 29) in testing.EDGE_DAYS
