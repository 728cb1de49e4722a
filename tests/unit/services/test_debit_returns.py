"""What a returned debit's reason code does to the borrower's autopay, for both products.

NACHA lets a lender present an entry again only when it came back for insufficient funds
(R01, R09), at most twice; an unauthorized or revoked debit (R05, R07, R10, R11, R29,
R51), an account that cannot be debited (R02, R03, R04, R16, R20), an unknown code and a
chargeback stop automatic debits (docs/money-movements.md). The money is reversed the
same way whatever the code (test_settlement, test_collections).
"""

import datetime as dt

import attrs
import pytest
from deployment import LINES_OPENED, Deployment
from fakes import Crash, CrashingUnitOfWork, settlement

from loc_adapters.iterable import contract
from loc_core.creditline import CreditLine
from loc_core.errors import CorrectionTooOld, InvalidConfiguration
from loc_core.events import EventType
from loc_core.installment import InstallmentProduct, Loan
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, Severity
from loc_core.services.commands import (
    BookBackdatedLinePayment,
    RecordRefundPaid,
    SettlementHandling,
    SettleTransfer,
)
from loc_core.services.loans import CollectionOutcome

LINE_DUE = dt.date(2026, 4, 27)
"""The first statement's due date of the lines fixture (tests/unit/services/lines)."""


def returned(payment_id: str, code: str, at: dt.datetime, rail: Rail = Rail.ACH) -> SettlementEvent:
    outcome = SettlementOutcome.RETURNED if rail is Rail.ACH else SettlementOutcome.CHARGED_BACK
    return attrs.evolve(settlement(payment_id, outcome, at, rail), return_code=code)


def autopaid(world: Deployment) -> tuple[Loan, str]:
    """A loan whose first installment autopay charged by ACH on its due date (completed)."""
    world.sim.down = {Rail.PINLESS}
    loan = world.open_loan()
    world.settle_due()
    world.at(loan.installments[0].due_date)
    charged = world.collect(loan)
    assert charged.outcome is CollectionOutcome.CHARGED
    return loan, charged.payment_id


def next_day(world: Deployment) -> dt.datetime:
    return world.clock.now() + dt.timedelta(days=1)


def stopped_notices(world: Deployment) -> list[dict[str, object]]:
    return [dict(e.data) for e in world.notifier.sent if e.type is EventType.AUTOPAY_STOPPED]


# --- installment loans ----------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("R10", id="unauthorized"),
        pytest.param("R07", id="revoked"),
        pytest.param("R03", id="no-account"),
        pytest.param("R16", id="frozen"),
        pytest.param("R99", id="unknown-code"),
        pytest.param("", id="no-code"),
    ],
)
def test_a_return_that_forbids_presenting_again_stops_the_loans_autopay(code: str) -> None:
    world = Deployment.build()
    loan, payment_id = autopaid(world)
    assert world.settle(returned(payment_id, code, next_day(world))) is SettlementHandling.REVERSED
    stored = world.loan(loan.loan_id)
    assert stored.payments[payment_id].status is PaymentStatus.RETURNED
    assert stored.outstanding_balance == loan.outstanding_balance  # the money came back
    assert not stored.autopay_enabled
    assert world.audit_processes("loan", loan.loan_id)[-1] == "AUTOPAY_SETTING"
    [notice] = stopped_notices(world)
    assert notice == {
        "loan_id": loan.loan_id,
        "line_id": None,
        "payment_id": payment_id,
        "return_code": code,
        "reason": notice["reason"],
    }
    assert notice["reason"] in {"unauthorized", "account", "unknown"}
    assert set(notice) == contract.DATA_FIELDS[EventType.AUTOPAY_STOPPED]
    [alert] = world.alerts(Severity.WARNING)
    assert alert.title.startswith(f"autopay stopped on loan {loan.loan_id}")
    assert (alert.details["return_code"], alert.details["loan_id"]) == (code, loan.loan_id)
    submitted = len(world.sim.submitted)
    world.at(loan.installments[0].due_date + dt.timedelta(days=2))
    assert [r.reason for r in world.run_collections()] == ["AUTOPAY_OFF"]
    assert len(world.sim.submitted) == submitted  # never presented again


def test_an_nsf_return_is_presented_again_for_the_same_amount_at_most_twice() -> None:
    world = Deployment.build()
    loan, first = autopaid(world)
    amounts = [world.loan(loan.loan_id).payments[first].amount]
    payment_id = first
    for _ in range(2):
        world.settle(returned(payment_id, "R01", world.clock.now() + dt.timedelta(hours=1)))
        assert world.loan(loan.loan_id).autopay_enabled
        world.at(world.today + dt.timedelta(days=1))
        again = world.collect(loan)
        assert again.outcome is CollectionOutcome.CHARGED
        payment_id = again.payment_id
        amounts.append(again.amount)
    world.settle(returned(payment_id, "R01", world.clock.now() + dt.timedelta(hours=1)))
    world.at(world.today + dt.timedelta(days=1))
    assert world.collect(loan).reason == "ATTEMPTS_EXHAUSTED"
    assert amounts == [amounts[0]] * 3
    assert stopped_notices(world) == []


def test_a_product_may_not_present_an_entry_more_than_three_times() -> None:
    with pytest.raises(InvalidConfiguration, match="max_collection_attempts must be at most 3"):
        InstallmentProduct(max_collection_attempts=4)


def test_the_same_return_twice_stops_autopay_once() -> None:
    world = Deployment.build()
    loan, payment_id = autopaid(world)
    event = returned(payment_id, "R10", next_day(world))
    world.settle(event)
    version, alerts = world.loan(loan.loan_id).version, len(world.alerter.posted)
    assert world.settle(event) is SettlementHandling.DUPLICATE
    assert (world.loan(loan.loan_id).version, len(world.alerter.posted)) == (version, alerts)
    assert len(stopped_notices(world)) == 1


def test_a_crash_at_the_returns_commit_leaves_neither_the_reversal_nor_autopay_half_done() -> None:
    world = Deployment.build()
    loan, payment_id = autopaid(world)
    event = returned(payment_id, "R10", next_day(world))
    world.clock.set(event.occurred_at)
    with pytest.raises(Crash):
        world.crashing_uow(CrashingUnitOfWork).handle(SettleTransfer(event))
    unchanged = world.loan(loan.loan_id)
    assert (unchanged.payments[payment_id].status, unchanged.autopay_enabled) == (
        PaymentStatus.PENDING,
        True,
    )
    assert world.settle(event) is SettlementHandling.REVERSED  # the stream delivers it again
    stored = world.loan(loan.loan_id)
    assert (stored.payments[payment_id].status, stored.autopay_enabled) == (
        PaymentStatus.RETURNED,
        False,
    )


def test_a_chargeback_too_old_to_correct_still_stops_the_loans_autopay() -> None:
    """The books are left to operations; the borrower's word on the debit is not."""
    world = Deployment.build()
    loan = world.open_loan()
    world.settle_due()
    world.at(loan.installments[0].due_date)
    payment_id = world.collect(loan).payment_id  # by pinless debit
    late = world.clock.now() + dt.timedelta(days=130)  # beyond the 120-day correction reach
    event = returned(payment_id, "fraud: card not present", late, Rail.PINLESS)
    world.at(late.date())
    for _ in range(2):  # the rail delivers it again: autopay is stopped and told once
        with pytest.raises(CorrectionTooOld):
            world.settle(event)
    stored = world.loan(loan.loan_id)
    assert stored.payments[payment_id].status is PaymentStatus.PENDING  # by hand
    assert not stored.autopay_enabled
    [notice] = stopped_notices(world)
    assert (notice["payment_id"], notice["reason"]) == (payment_id, "unauthorized")
    assert "handle by hand" in world.alerts(Severity.CRITICAL)[0].title
    assert world.alerts(Severity.WARNING)[0].title.startswith("autopay stopped on loan")


# --- lines of credit ------------------------------------------------------------------


def ach_billed() -> tuple[Deployment, CreditLine]:
    """A line with $400.00 drawn, billed 04-05 (1,989 due 04-27), paid and collected by ACH."""
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    world.sim.down = {Rail.PINLESS}
    return world, line


def test_an_unauthorized_return_of_a_line_payment_stops_the_due_job_debiting() -> None:
    world, line = ach_billed()
    world.at(dt.date(2026, 4, 15), 10)
    paid = world.pay_line(line, 500)
    assert world.settle(returned(paid.payment_id, "R10", next_day(world))) is (
        SettlementHandling.REVERSED
    )
    assert not world.line(line).autopay_enabled
    assert "AUTOPAY_SETTING" in world.audit_processes("line", line.line_id)
    [notice] = stopped_notices(world)
    assert (notice["line_id"], notice["loan_id"], notice["reason"]) == (
        line.line_id,
        None,
        "unauthorized",
    )
    [alert] = world.alerts(Severity.WARNING)
    assert alert.title.startswith(f"autopay stopped on line {line.line_id}")
    submitted = len(world.sim.submitted)
    world.at(LINE_DUE, 15)
    assert world.due().acted == ()
    assert len(world.sim.submitted) == submitted


def test_an_nsf_return_of_a_line_payment_leaves_the_due_job_on() -> None:
    world, line = ach_billed()
    world.at(dt.date(2026, 4, 15), 10)
    paid = world.pay_line(line, 500)
    world.settle(returned(paid.payment_id, "R01", next_day(world)))
    assert world.line(line).autopay_enabled
    world.at(LINE_DUE, 15)
    assert world.due().acted == (line.line_id,)


def test_a_later_correction_keeps_the_lines_autopay_off() -> None:
    world, line = ach_billed()
    world.at(dt.date(2026, 4, 14), 10)
    first = world.pay_line(line, 500, key="pay-1")
    second = world.pay_line(line, 400, key="pay-2")
    world.settle(returned(first.payment_id, "R02", next_day(world)))
    world.settle(returned(second.payment_id, "R01", next_day(world)))  # replays the line
    assert not world.line(line).autopay_enabled
    assert len(stopped_notices(world)) == 1


def test_a_late_fee_never_rides_on_a_re_presented_entry() -> None:
    """A message the daily job overtook (queue backlog, redelivery) re-presents no fee."""
    world = Deployment.build()
    loan, first = autopaid(world)
    original = world.loan(loan.loan_id).payments[first].amount
    world.settle(returned(first, "R01", next_day(world)))
    world.at(loan.installments[0].due_date + dt.timedelta(days=5), 17)
    world.run_daily_loan_job()  # OVERDUE, with its late fee
    assert world.loan(loan.loan_id).installments[0].outstanding_balance > original
    again = world.collect(loan)  # the stale message
    assert (again.outcome, again.amount) == (CollectionOutcome.CHARGED, original)


def test_an_unauthorized_return_left_to_operations_still_stops_the_lines_autopay() -> None:
    """A refund already paid out leaves the return to operations, but not the authorization."""
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 16))
    check = world.bus.handle(
        BookBackdatedLinePayment(
            line.user_id, line.line_id, 50_000, dt.date(2026, 3, 14), "keyed late", "ach-1"
        )
    ).payment_id
    world.bus.handle(
        RecordRefundPaid(line.user_id, check, dt.date(2026, 3, 16), "chk-1", "sent", 10_000)
    )
    ledger = len(world.ledger(line.line_id))
    event = returned(check, "R10", next_day(world))
    assert world.settle(event) is SettlementHandling.MANUAL
    assert world.settle(event) is SettlementHandling.MANUAL  # delivered again
    stored = world.line(line)
    assert stored.payments[check].status is PaymentStatus.COMPLETED  # the books: by hand
    assert len(world.ledger(line.line_id)) == ledger
    assert not stored.autopay_enabled
    [notice] = stopped_notices(world)
    assert (notice["line_id"], notice["reason"]) == (line.line_id, "unauthorized")
    assert any(a.title.startswith("autopay stopped on line") for a in world.alerter.posted)
