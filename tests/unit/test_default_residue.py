"""Default and charge-off, what was left: a charged-off line paid in full closes, the loan's
charge-off notice carries its buckets, and a correction that undoes a line's default sends
the statements withheld while it was charged off."""

import datetime as dt
from decimal import Decimal

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import Crash, CrashingUnitOfWork, declining, settlement

from loc_adapters.iterable import contract
from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus
from loc_core.events import DomainEvent, EventType
from loc_core.installment import LoanStatus
from loc_core.ledger import CREDIT_LOSS, Bucket, Ledger, allowance, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import Severity
from loc_core.services.commands import (
    BookBackdatedLinePayment,
    PayLine,
    ReconcileLine,
    RunDailyLoanJob,
    SettlementHandling,
)
from loc_core.testing.installment import ledger_problems

DEFAULTED_ON = dt.date(2026, 4, 28)
"""With a one-day default policy, the line below misses its 04-27 minimum and is charged off."""


def charged_off_world() -> tuple[Deployment, CreditLine]:
    """$400.00 drawn 03-12, billed 04-05 (1,989 due 04-27), every debit declined: DEFAULTED."""
    world = Deployment.build(
        now=LINES_OPENED,
        seed=11,
        overrides={CreditLineProduct: CreditLineProduct(default_after_days_past_due=1)},
    )
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.rails.handler = declining(world.sim, {Rail.PINLESS, Rail.ACH})
    world.run_days(dt.date(2026, 4, 5), DEFAULTED_ON)
    assert world.line(line).status is LineStatus.DEFAULTED
    world.rails.handler = world.sim.submit
    world.sim.down = {Rail.PINLESS}  # paid by ACH, which can come back
    return world, line


def told(world: Deployment, kind: EventType) -> list[DomainEvent]:
    return [event for event in world.notifier.sent if event.type is kind]


def reconciles(world: Deployment, line: CreditLine) -> bool:
    return world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches


# --- 1. a charged-off line paid in full closes by itself -------------------------------


def test_a_charged_off_line_paid_in_full_closes_by_itself_and_the_borrower_hears_it_once() -> None:
    world, line = charged_off_world()
    world.at(dt.date(2026, 4, 30), 10)
    owed = world.line(line).total_balance
    first = world.pay_line(line, owed, key="payoff")
    again = world.pay_line(line, owed, key="payoff")  # the same request delivered twice
    assert again == first
    world.settle_due()  # the rail's completion, delivered twice
    closed = world.line(line)
    assert (closed.status, closed.total_balance) == (LineStatus.CLOSED, 0)
    (notice,) = told(world, EventType.LOC_CLOSED)
    assert notice.data["payment_id"] == first.payment_id
    assert (notice.data["closed_from"], notice.data["refund_due"]) == ("DEFAULTED", 0)
    assert set(notice.data) == contract.DATA_FIELDS[EventType.LOC_CLOSED]
    ledger = world.ledger(line.line_id)
    assert ledger.balance(allowance(line.line_id)) == 0  # the payoff recovered it all
    assert ledger.trial_balance() == 0
    assert reconciles(world, line)
    assert world.close(line).status is LineStatus.CLOSED  # an operator's close: nothing new
    assert len(told(world, EventType.LOC_CLOSED)) == 1


def test_a_payoff_whose_process_dies_before_the_commit_closes_the_line_once_on_retry() -> None:
    world, line = charged_off_world()
    world.at(dt.date(2026, 4, 30), 10)
    owed = world.line(line).total_balance
    dying = world.crashing_uow(CrashingUnitOfWork)
    with pytest.raises(Crash):
        dying.handle(PayLine(line.user_id, line.line_id, owed, "payoff"))
    assert world.line(line).status is LineStatus.DEFAULTED
    assert told(world, EventType.LOC_CLOSED) == []
    world.pay_line(line, owed, key="payoff")  # the retry finishes what was started
    world.pay_line(line, owed, key="payoff")
    assert world.line(line).status is LineStatus.CLOSED
    assert len(told(world, EventType.LOC_CLOSED)) == 1
    assert len(world.line(line).payments) == 1
    assert reconciles(world, line)


def test_a_returned_payoff_reopens_the_line_charged_off_again_and_books_balance() -> None:
    world, line = charged_off_world()
    world.at(dt.date(2026, 4, 30), 10)
    owed = world.line(line).total_balance
    paid = world.pay_line(line, owed, key="payoff")
    assert world.line(line).status is LineStatus.CLOSED
    charged_off_told = len(told(world, EventType.LOC_CHARGED_OFF))
    world.at(dt.date(2026, 5, 1), 12)
    returned = settlement(paid.payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    assert world.settle(returned) is SettlementHandling.REVERSED
    assert world.settle(returned) is SettlementHandling.DUPLICATE
    reopened = world.line(line)
    assert (reopened.status, reopened.total_balance) == (LineStatus.DEFAULTED, owed)
    ledger = world.ledger(line.line_id)
    assert -ledger.balance(allowance(line.line_id)) == owed  # charged off again
    assert ledger.balance(receivable(line.line_id, Bucket.PRINCIPAL)) == 40_000
    assert ledger.trial_balance() == 0
    assert reconciles(world, line)
    (failed,) = told(world, EventType.LOC_PAYMENT_FAILED)
    assert (failed.data["line_status"], failed.data["balance"]) == ("DEFAULTED", owed)
    # Its default was told when it happened: the reopening is told by the failed payment.
    assert len(told(world, EventType.LOC_CHARGED_OFF)) == charged_off_told
    assert len(told(world, EventType.LOC_CLOSED)) == 1
    # Paid again later, it closes again and says so.
    world.at(dt.date(2026, 5, 4), 10)
    world.pay_line(line, owed, key="payoff-2")
    assert world.line(line).status is LineStatus.CLOSED
    assert len(told(world, EventType.LOC_CLOSED)) == 2
    assert reconciles(world, line)


def test_money_a_rail_took_beyond_a_charged_off_balance_closes_the_line_with_a_refund_due() -> None:
    world, line = charged_off_world()
    owed = world.line(line).total_balance
    world.at(dt.date(2026, 4, 30), 10)

    def took_more(stored: CreditLine) -> None:  # money that moved: booked whatever is owed
        stored.book_moved_payment(
            payment_id="moved-1", amount=owed + 400, rail=Rail.ACH, on=dt.date(2026, 4, 30)
        )

    world.edit_line(line, took_more)
    closed = world.line(line)
    assert (closed.status, closed.total_balance, closed.refunds_due) == (
        LineStatus.CLOSED,
        0,
        400,
    )
    ledger = world.ledger(line.line_id)
    assert ledger.balance(allowance(line.line_id)) == 0
    assert ledger.balance(CREDIT_LOSS) == 0  # everything charged off was recovered
    assert ledger.trial_balance() == 0
    assert reconciles(world, line)


def test_a_backdated_payment_that_pays_a_charged_off_line_in_full_closes_it_once() -> None:
    world, line = charged_off_world()
    owed = world.line(line).total_balance
    world.at(dt.date(2026, 4, 30), 17)
    command = BookBackdatedLinePayment(
        line.user_id,
        line.line_id,
        owed,
        DEFAULTED_ON + dt.timedelta(days=1),  # after the charge-off
        "cheque received 04-29",
        "cheque-1",
    )
    world.bus.handle(command)
    world.bus.handle(command)  # delivered twice: the same key books once
    closed = world.line(line)
    assert (closed.status, closed.total_balance) == (LineStatus.CLOSED, 0)
    (notice,) = told(world, EventType.LOC_CLOSED)
    assert (notice.data["corrected"], notice.data["payment_id"]) == (True, None)
    assert world.ledger(line.line_id).balance(allowance(line.line_id)) == 0
    assert reconciles(world, line)


# --- 2. loan_defaulted carries what was charged off, by bucket --------------------------


def test_loan_defaulted_says_what_was_charged_off_by_bucket_as_the_books_do() -> None:
    world = Deployment.build()
    world.users.add("user-1")
    loan = world.open_loan()
    world.at(dt.date(2026, 3, 26))  # installment 1 overdue since 25 January: 60 days
    world.bus.handle(RunDailyLoanJob())
    stored = world.loan(loan.loan_id)
    assert stored.status is LoanStatus.DEFAULTED
    (notice,) = [e for e in world.notifier.sent if e.type is EventType.LOAN_DEFAULTED]
    assert set(notice.data) == contract.DATA_FIELDS[EventType.LOAN_DEFAULTED]
    ledger = world.ledger(loan.loan_id)
    fees = sum(
        ledger.balance(receivable(loan.loan_id, bucket))
        for bucket in (Bucket.ORIGINATION_FEE, Bucket.LATE_FEE)
    )
    assert (
        notice.data["principal"],
        notice.data["interest"],
        notice.data["fees"],
        notice.data["charged_off"],
    ) == (
        ledger.balance(receivable(loan.loan_id, Bucket.PRINCIPAL)),
        0,
        fees,
        -ledger.balance(allowance(loan.loan_id)),
    )
    assert notice.data["charged_off"] == stored.outstanding_balance
    assert fees > 0  # the origination fee and the late fees are there
    assert notice.data["charged_off_on"] == "2026-03-26"
    assert notice.data["past_due_since"] == "2026-01-25"
    assert ledger_problems(stored, ledger) == []


# --- 3. a correction that undoes a default sends the withheld statements ---------------


def withheld_world() -> tuple[Deployment, CreditLine]:
    """The charged-off line, its 05-05 cycle closed while DEFAULTED: stored, not sent."""
    world, line = charged_off_world()
    sent = len(told(world, EventType.LOC_STATEMENT_READY))
    world.run_days(DEFAULTED_ON + dt.timedelta(days=1), dt.date(2026, 5, 6))
    assert world.line(line).last_billing_cycle_date == dt.date(2026, 5, 5)
    assert len(told(world, EventType.LOC_STATEMENT_READY)) == sent  # withheld
    return world, line


def on_time(line: CreditLine) -> BookBackdatedLinePayment:
    """The 04-27 minimum was mailed in on 04-24 and keyed late: the line never defaulted."""
    return BookBackdatedLinePayment(
        line.user_id, line.line_id, 1_989, dt.date(2026, 4, 24), "cheque of 04-24", "cheque-1"
    )


def late_statements(world: Deployment) -> list[DomainEvent]:
    return [e for e in told(world, EventType.LOC_STATEMENT_READY) if e.data.get("corrected")]


def test_a_correction_that_undoes_the_default_sends_the_withheld_statement_once() -> None:
    world, line = withheld_world()
    world.at(dt.date(2026, 5, 7), 17)
    world.bus.handle(on_time(line))
    world.bus.handle(on_time(line))  # delivered twice
    corrected = world.line(line)
    assert corrected.status is LineStatus.ACTIVE
    (statement,) = late_statements(world)
    assert statement.data["statement_date"] == "2026-05-05"
    assert statement.occurred_on == dt.date(2026, 5, 7)
    # It carries the minimum the corrected history bills, due on the statement's date.
    assert statement.data["minimum_outstanding"] == corrected.minimum_payment_outstanding > 0
    assert statement.data["next_due_date"] == "2026-05-26"
    assert statement.data["line_status"] == "ACTIVE"
    assert reconciles(world, line)
    world.run_days(dt.date(2026, 5, 8), dt.date(2026, 5, 10))  # later jobs send nothing more
    assert len(late_statements(world)) == 1


def test_a_correction_whose_process_dies_sends_the_withheld_statement_once_on_retry() -> None:
    world, line = withheld_world()
    world.at(dt.date(2026, 5, 7), 17)
    dying = world.crashing_uow(CrashingUnitOfWork)
    with pytest.raises(Crash):
        dying.handle(on_time(line))
    assert late_statements(world) == []
    assert world.line(line).status is LineStatus.DEFAULTED
    world.bus.handle(on_time(line))
    assert len(late_statements(world)) == 1
    assert world.alerts(Severity.CRITICAL) == []


def test_a_correction_that_leaves_the_line_charged_off_sends_no_withheld_statement() -> None:
    world, line = withheld_world()
    world.at(dt.date(2026, 5, 7), 17)
    too_little = BookBackdatedLinePayment(
        line.user_id, line.line_id, 100, dt.date(2026, 4, 24), "part of it", "cheque-2"
    )
    world.bus.handle(too_little)
    assert world.line(line).status is LineStatus.DEFAULTED
    assert late_statements(world) == []


def test_a_pending_draw_keeps_a_paid_off_charged_off_line_open_until_it_fails() -> None:
    product = CreditLineProduct(default_after_days_past_due=1)
    line = CreditLine(
        line_id="line-1",
        user_id="user-1",
        application_id="app-1",
        opened_on=dt.date(2026, 3, 5),
        credit_limit=100_000,
        apr=Decimal("29.99"),
        minimum_payment_percent=Decimal(3),
        cycle_day=5,
    )
    line.request_draw(draw_id="d1", amount=40_000, on=dt.date(2026, 3, 12))
    line.disburse_draw(draw_id="d1", rail=Rail.RTP, on=dt.date(2026, 3, 12))
    line.request_draw(draw_id="d2", amount=1_000, on=dt.date(2026, 3, 12))  # left pending
    line.bill_cycle(close_date=dt.date(2026, 4, 5), today=dt.date(2026, 4, 5), product=product)
    line.run_overdue(today=dt.date(2026, 4, 28), product=product)  # 04-27 minimum missed
    assert (line.status, line.pending_draws_total) == (LineStatus.DEFAULTED, 1_000)
    line.submit_payment(
        payment_id="p1", amount=line.total_balance, rail=Rail.ACH, on=dt.date(2026, 4, 29)
    )
    assert (line.status, line.total_balance) == (LineStatus.DEFAULTED, 0)  # d2 may yet go
    line.fail_draw(draw_id="d2", on=dt.date(2026, 4, 30), reason="every rail declined")
    assert line.status is LineStatus.CLOSED
    (notice,) = [e for e in line.outbox.events if e.type is EventType.LOC_CLOSED]
    assert (notice.data["payment_id"], notice.data["closed_on"]) == (None, "2026-04-30")
    books = Ledger(line.outbox.entries)
    assert (books.trial_balance(), books.balance(allowance("line-1"))) == (0, 0)


def test_a_return_that_defaults_the_loan_tells_the_buckets_charged_off_once() -> None:
    world = Deployment.build()
    world.users.add("user-1")
    world.sim.down = {Rail.PINLESS}  # by ACH, which can be returned
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 19))
    receipt = world.pay_loan(loan, 5_250, key="first")  # installment 1
    world.at(dt.date(2026, 3, 27), 17)
    world.bus.handle(RunDailyLoanJob())  # installment 2 overdue only since 02-07: no default
    world.at(dt.date(2026, 3, 28))  # returned: installment 1 was overdue from 01-25
    event = settlement(receipt.payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    world.settle(event)
    world.settle(event)  # delivered twice
    stored = world.loan(loan.loan_id)
    assert stored.status is LoanStatus.DEFAULTED
    (notice,) = [e for e in world.notifier.sent if e.type is EventType.LOAN_DEFAULTED]
    assert set(notice.data) == contract.DATA_FIELDS[EventType.LOAN_DEFAULTED]
    ledger = world.ledger(loan.loan_id)
    assert notice.data["principal"] == ledger.balance(receivable(loan.loan_id, Bucket.PRINCIPAL))
    assert notice.data["charged_off"] == stored.outstanding_balance
    assert notice.data["principal"] + notice.data["fees"] == stored.outstanding_balance  # type: ignore[operator]  # ints by the contract
    assert (notice.data["charged_off_on"], notice.data["past_due_since"]) == (
        "2026-03-28",
        "2026-01-25",
    )
