"""Preauthorized debits as a Regulation E examiner reads them (12 CFR 1005.10).

- (d) varying amounts: autopay never debits more than the borrower was told at least 10
  days ahead: a line's due job takes at most the statement's minimum (``loc_statement_ready``,
  21 days ahead, which says autopay will debit it), an installment's autopay at most its
  scheduled amount (never a late fee);
- (c) revocation: turning autopay off while a debit is being sent is refused (the
  borrower is told to try again) rather than reported done while the money goes out;
- the notices that serve as the varying-amount notice carry the amount, the date and
  whether autopay will debit it (docs/money-movements.md, *Notice of the amount*).
"""

import datetime as dt

import attrs
import pytest
from deployment import LINES_OPENED, Deployment
from fakes import settlement

from loc_adapters.iterable import contract
from loc_core.creditline import CreditLine
from loc_core.errors import LockNotAcquired
from loc_core.events import EventType
from loc_core.installment import InstallmentStatus
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, TransferRequest, TransferResult
from loc_core.services.commands import SetAutopay, SetLineAutopay
from loc_core.services.loans import CollectionOutcome

STATEMENT = dt.date(2026, 4, 5)
DUE = dt.date(2026, 4, 27)
"""The lines fixture's first statement and its due date (docs/credit-lines.md)."""


def billed_line(world: Deployment, *, paid_before: int = 0) -> tuple[CreditLine, str]:
    """A $400.00 draw on 03-12, `paid_before` paid by ACH on 03-20, billed on 04-05."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.sim.down = {Rail.PINLESS}
    payment_id = ""
    if paid_before:
        world.at(dt.date(2026, 3, 20))
        payment_id = world.pay_line(line, paid_before).payment_id
    world.at(STATEMENT, 8)
    world.bill()
    return line, payment_id


def returned(payment_id: str, code: str, at: dt.datetime) -> SettlementEvent:
    """The ACH return of `payment_id` with reason `code`."""
    event = settlement(payment_id, SettlementOutcome.RETURNED, at, Rail.ACH)
    return attrs.evolve(event, return_code=code)


def notices(world: Deployment, kind: EventType) -> list[dict[str, object]]:
    return [dict(e.data) for e in world.notifier.sent if e.type is kind]


# --- 1005.10(d): no more than the amount told 10 days ahead ---------------------------


def test_the_due_job_debits_no_more_than_the_statements_minimum_after_a_late_return() -> None:
    """A return learned 3 days before the due date raises the minimum: not by autopay."""
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line, early = billed_line(world, paid_before=20_000)
    [statement] = notices(world, EventType.LOC_STATEMENT_READY)
    told = statement["minimum_payment"]
    assert isinstance(told, int)
    world.at(DUE - dt.timedelta(days=3), 12)
    world.settle(returned(early, "R01", world.clock.now()))
    raised = world.line(line).minimum_payment_outstanding
    assert raised > told  # the corrected cycle bills more
    world.at(DUE, 15)
    sent = len(world.sim.submitted)
    world.due()
    assert [r.amount for r in world.sim.submitted[sent:]] == [told]
    assert world.line(line).minimum_payment_outstanding == raised - told  # the borrower's
    assert world.due().acted == ()  # run again: nothing more is taken
    assert len(world.sim.submitted) == sent + 1


def test_autopay_never_debits_a_late_fee_the_schedule_did_not_show() -> None:
    """Rails down past the grace days, then a redelivered message: the scheduled amount."""
    world = Deployment.build()
    loan = world.open_loan()
    world.settle_due()
    scheduled = loan.installments[0].total_amount
    due = loan.installments[0].due_date
    world.sim.down = {Rail.PINLESS, Rail.ACH}
    world.at(due + dt.timedelta(days=5), 17)
    world.run_daily_loan_job()
    overdue = world.loan(loan.loan_id).installments[0]
    assert overdue.status is InstallmentStatus.OVERDUE
    assert overdue.outstanding_balance > scheduled  # the late fee
    world.sim.down = set()
    world.at(due + dt.timedelta(days=6))
    charged = world.collect(loan)
    assert (charged.outcome, charged.amount) == (CollectionOutcome.CHARGED, scheduled)
    # Delivered again, and the next day: the fee-first waterfall left part of the
    # scheduled amount unpaid, the fee's worth, and autopay never takes it.
    assert world.collect(loan).reason == "SCHEDULE_PAID"
    world.settle_due()
    world.at(due + dt.timedelta(days=7))
    assert world.collect(loan).reason == "SCHEDULE_PAID"
    assert world.loan(loan.loan_id).installments[0].outstanding_balance == overdue.late_fee


# --- 1005.10(c): revocation takes effect for every debit not yet sent ------------------


def test_turning_a_loans_autopay_off_during_a_debit_is_refused_not_ignored() -> None:
    world = Deployment.build()
    loan = world.open_loan()
    world.settle_due()
    world.at(loan.installments[0].due_date)
    stop = SetAutopay(loan.user_id, loan.loan_id, enabled=False)
    refused: list[type[Exception]] = []

    def borrower_turns_it_off_meanwhile(request: TransferRequest) -> TransferResult:
        with pytest.raises(LockNotAcquired) as caught:
            world.another_process().handle(stop)
        refused.append(caught.type)
        return world.sim.submit(request)

    world.rails.handler = borrower_turns_it_off_meanwhile
    assert world.collect(loan).outcome is CollectionOutcome.CHARGED
    assert refused == [LockNotAcquired]
    assert world.loan(loan.loan_id).autopay_enabled  # not told "off" while it was debited
    world.rails.handler = world.sim.submit
    assert world.bus.handle(stop) is True  # the borrower's retry, once the debit is sent
    world.at(loan.installments[1].due_date)
    assert world.collect(loan, 2).reason == "AUTOPAY_OFF"


def test_turning_a_lines_autopay_off_during_the_due_jobs_debit_is_refused_not_ignored() -> None:
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line, _ = billed_line(world)
    stop = SetLineAutopay(line.user_id, line.line_id, enabled=False)
    refused: list[type[Exception]] = []

    def borrower_turns_it_off_meanwhile(request: TransferRequest) -> TransferResult:
        with pytest.raises(LockNotAcquired) as caught:
            world.another_process().handle(stop)
        refused.append(caught.type)
        return world.sim.submit(request)

    world.rails.handler = borrower_turns_it_off_meanwhile
    world.at(DUE, 15)
    assert world.due().acted == (line.line_id,)
    assert set(refused) == {LockNotAcquired}  # asked on each rail's call (pinless is down)
    assert world.line(line).autopay_enabled


# --- the notices that are the varying-amount notice -----------------------------------


@pytest.mark.parametrize("autopay", [pytest.param(True, id="on"), pytest.param(False, id="off")])
def test_the_statement_and_the_reminder_say_what_autopay_will_debit_and_when(
    autopay: bool,  # noqa: FBT001 (a pytest parameter)
) -> None:
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()
    if not autopay:
        world.bus.handle(SetLineAutopay(line.user_id, line.line_id, enabled=False))
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(STATEMENT, 8)
    world.bill()
    [statement] = notices(world, EventType.LOC_STATEMENT_READY)
    assert (statement["due_date"], statement["autopay"]) == (DUE.isoformat(), autopay)
    assert statement["autopay_amount"] == (statement["minimum_payment"] if autopay else 0)
    assert set(statement) == {
        "statement_date",
        "closing_balance",
        "minimum_payment",
        "due_date",
        "document",
        "autopay",
        "autopay_amount",
    }
    world.at(dt.date(2026, 4, 20), 14)
    world.upcoming()
    [reminder] = notices(world, EventType.LOC_PAYMENT_UPCOMING)
    assert reminder == {
        "amount": statement["minimum_payment"],
        "due_date": DUE.isoformat(),
        "autopay": autopay,
        "autopay_amount": statement["autopay_amount"],
    }
    assert set(reminder) == contract.DATA_FIELDS[EventType.LOC_PAYMENT_UPCOMING]
