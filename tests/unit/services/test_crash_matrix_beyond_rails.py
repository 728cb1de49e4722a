"""The crash matrix beyond the rails: every other command or event that changes money.

`test_crash_matrix` kills the six commands that ask a rail for money. This table does
the same to everything else that posts journal entries or tells a borrower about money:
the rails' settlement events (a completion, an NSF return, an unauthorized return that
stops autopay, a chargeback, a returned disbursement, a returned draw), the operator's
entries (backdated payments and draws, refunds paid out, movements settled by hand,
lost transfers booked), and the daily jobs (late fees, defaults, statements, past due).

Each case (`CASES`) is killed at each of its commit boundaries (`Point`): before the
commit writes, and just after it wrote, before anything is published; and, when it
tells anyone, at the last message it sends. Then its work is finished one of two ways
(`Recovery`): the same command or event delivered again, then one run of the recovery
job; or no delivery, only the recovery job once `RECOVERY_AFTER` passed. Every case
must end as the happy path ends (the command once, then the recovery job), or, when the
process died before its first commit and nothing delivered it again, as if it never
ran: the same journal entries, each posted once, the ledger equal to the balances, the
same loan or line, no intent and no committed event left open, and each borrower
notification and operations alert sent exactly as often.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
from collections import Counter
from collections.abc import Callable
from typing import cast

import attrs
import pytest
from deployment import LINES_OPENED, LOANS_OPENED, Deployment
from fakes import Crash, CrashingNotifier, CrashingUnitOfWork, Silent, settlement, timing_out
from unit.services.loans.test_returned_disbursement import disbursement
from unit.services.loans.test_table_restored import backup, restore
from unit.services.test_debit_returns import returned

from loc_core.creditline import CreditLine, DisputedCharge
from loc_core.errors import ExternalServiceError, LocError
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import EventOutbox, Notifier, PaymentRails, UnitOfWork
from loc_core.services.commands import (
    BillClosedCycles,
    BookBackdatedDraw,
    BookBackdatedLinePayment,
    BookBackdatedLoanPayment,
    BookLostTransfer,
    DisputeBillingError,
    MarkOverdueLines,
    ReconcileLine,
    RecordRefundPaid,
    RecoverTransfers,
    ResolveBillingDispute,
    RunDailyLoanJob,
    SettleTransfer,
    SettleTransferByHand,
    WaiveLateFee,
    WaiveLineLateFee,
)
from loc_core.services.loans import backdated_payment_id
from loc_core.services.messagebus import Command
from loc_core.services.moving import RECOVERY_AFTER
from loc_core.testing.installment import ledger_problems

FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
LEASE_RUN_OUT = dt.timedelta(minutes=3)
PAST_RECOVERY = RECOVERY_AFTER + dt.timedelta(minutes=1)
_CRASHED = "Crash: "
"""How an alert a live process posts about the injected crash itself begins its error."""


@attrs.frozen
class Case:
    """A command (or a rail's event) ready to run in its world, and what it changes."""

    command: Command[object]
    account: tuple[str, str]
    """("loan" or "line", its id): the aggregate whose books are checked."""


# --- the worlds -------------------------------------------------------------------------


def _ach_loan(world: Deployment, *, autopay: bool = True) -> str:
    world.sim.down = {Rail.PINLESS}
    loan = world.open_loan(autopay=autopay)
    world.settle_due()
    return loan.loan_id


def _autopaid(world: Deployment) -> tuple[str, str]:
    """A loan whose first installment autopay took by ACH on 01-20."""
    loan_id = _ach_loan(world)
    loan = world.loan(loan_id)
    world.at(loan.installments[0].due_date)
    return loan_id, world.collect(loan).payment_id


def loan_completed(world: Deployment) -> Case:
    loan_id, payment_id = _autopaid(world)
    world.at(dt.date(2026, 1, 22), 12)
    event = settlement(payment_id, SettlementOutcome.COMPLETED, world.clock.now(), Rail.ACH)
    return Case(SettleTransfer(event), ("loan", loan_id))


def loan_nsf_after_its_late_fee(world: Deployment) -> Case:
    """An R01 learned 01-28 after the daily job: reversed, and overdue with its fee at once."""
    loan_id, payment_id = _autopaid(world)
    world.at(dt.date(2026, 1, 28), 18)
    return Case(SettleTransfer(returned(payment_id, "R01", world.clock.now())), ("loan", loan_id))


def loan_unauthorized_return(world: Deployment) -> Case:
    loan_id, payment_id = _autopaid(world)
    world.at(dt.date(2026, 1, 21), 12)
    return Case(SettleTransfer(returned(payment_id, "R10", world.clock.now())), ("loan", loan_id))


def loan_chargeback(world: Deployment) -> Case:
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 12), 10)
    paid = world.pay_loan(loan, 8_000)
    world.at(dt.date(2026, 1, 14), 12)
    event = returned(paid.payment_id, "fraud", world.clock.now(), Rail.PINLESS)
    return Case(SettleTransfer(event), ("loan", loan.loan_id))


def disbursement_returned(world: Deployment) -> Case:
    loan_id = _ach_loan(world)
    world.at(dt.date(2026, 1, 7), 10)
    world.pay_loan(world.loan(loan_id), 12_000, key="prepay")
    event = disbursement(world.loan(loan_id), SettlementOutcome.RETURNED)
    world.clock.set(max(world.clock.now(), event.occurred_at))
    return Case(SettleTransfer(event), ("loan", loan_id))


def _overpaid_loan(world: Deployment) -> tuple[str, str]:
    """A loan paid off on 01-08 by a check for 2,500 cents more than it owed."""
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 8), 10)
    outstanding = world.loan(loan.loan_id).outstanding_balance
    world.bus.handle(
        BookBackdatedLoanPayment(
            "user-1", loan.loan_id, outstanding + 2_500, world.today, "payoff check", "check-1"
        )
    )
    return loan.loan_id, backdated_payment_id(loan.loan_id, "check-1")


def loan_refund_paid(world: Deployment) -> Case:
    loan_id, payment_id = _overpaid_loan(world)
    world.at(dt.date(2026, 1, 12), 10)
    command = RecordRefundPaid("user-1", payment_id, world.today, "chk-1", "mailed", 2_500)
    return Case(command, ("loan", loan_id))


def loan_backdated_overpayment(world: Deployment) -> Case:
    """A check keyed two days late that paid more than the loan owed: a refund due."""
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 10), 10)
    outstanding = world.loan(loan.loan_id).outstanding_balance
    command = BookBackdatedLoanPayment(
        "user-1", loan.loan_id, outstanding + 700, dt.date(2026, 1, 8), "keyed late", "check-1"
    )
    return Case(command, ("loan", loan.loan_id))


def loan_backdated_before_its_fee(world: Deployment) -> Case:
    """A check received 01-19, keyed 01-27 after the daily job charged the late fee."""
    loan_id = _ach_loan(world, autopay=False)
    world.at(dt.date(2026, 1, 25), 18)
    world.bus.handle(RunDailyLoanJob())
    world.at(dt.date(2026, 1, 27), 10)
    command = BookBackdatedLoanPayment(
        "user-1", loan_id, 5_250, dt.date(2026, 1, 19), "check keyed late", "check-1"
    )
    return Case(command, ("loan", loan_id))


def loan_fee_waived_after_payoff(world: Deployment) -> Case:
    """A late fee paid with the payoff, waived on 01-28: a refund due of the fee."""
    loan_id = _ach_loan(world, autopay=False)
    world.at(dt.date(2026, 1, 25), 18)
    world.bus.handle(RunDailyLoanJob())
    world.at(dt.date(2026, 1, 27), 10)
    loan = world.loan(loan_id)
    world.pay_loan(loan, loan.outstanding_balance)
    world.at(dt.date(2026, 1, 28), 10)
    installment_id = loan.installments[0].installment_id
    command = WaiveLateFee("user-1", loan_id, installment_id, "lender error", "waive-1")
    return Case(command, ("loan", loan_id))


def loan_late_fee(world: Deployment) -> Case:
    loan_id = _ach_loan(world, autopay=False)
    world.at(dt.date(2026, 1, 25), 18)
    return Case(RunDailyLoanJob(), ("loan", loan_id))


def loan_default(world: Deployment) -> Case:
    loan_id = _ach_loan(world, autopay=False)
    world.at(dt.date(2026, 3, 25), 18)
    world.bus.handle(RunDailyLoanJob())
    world.at(dt.date(2026, 3, 26), 18)
    return Case(RunDailyLoanJob(), ("loan", loan_id))


def _silenced(world: Deployment) -> None:
    """From now on the rail takes transfers but cannot say what it did with a key."""
    world.bus = world.replacing(PaymentRails, Silent(world.sim.submit))


def _settled_by_hand(
    world: Deployment, pay: Callable[[], object], intent_id: str, rail: Rail
) -> SettleTransferByHand:
    """`pay` times out on `rail` after it took the money, the rail goes silent, and an hour
    later the operator settles the payment by hand from the bank's report."""
    world.rails.handler = timing_out(world.sim, {rail})
    with pytest.raises(ExternalServiceError):
        pay()
    _silenced(world)
    world.clock.advance(dt.timedelta(hours=1))
    return SettleTransferByHand(
        "user-1",
        intent_id,
        moved=True,
        reason="bank report",
        rail=rail,
        confirmation_id=f"conf-{rail.value}",
    )


def loan_settled_by_hand(world: Deployment) -> Case:
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 12), 10)
    command = _settled_by_hand(
        world,
        lambda: world.pay_loan(loan, 10_000, key="lost"),
        f"manual:{loan.loan_id}:lost",
        Rail.PINLESS,
    )
    return Case(command, ("loan", loan.loan_id))


def loan_lost_transfer(world: Deployment) -> Case:
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 12), 10)
    command = _lost_in_a_restore(
        world,
        lambda: world.pay_loan(loan, 5_250, key="lost"),
        loan.loan_id,
        f"manual:{loan.loan_id}:lost:pinless",
        5_250,
    )
    return Case(command, ("loan", loan.loan_id))


def _lost_in_a_restore(
    world: Deployment, pay: Callable[[], object], account_id: str, key: str, amount: int
) -> BookLostTransfer:
    """`pay` goes through, then the table is restored from before it: the operator books
    the rail's transfer `key` from the processor's report."""
    taken = backup(world.database)
    pay()
    restore(world.database, taken)
    found = world.sim.find(key)
    assert found is not None
    return BookLostTransfer(
        "user-1", account_id, key, amount, found.confirmation_id, "PayEngine report"
    )


def _billed_line(world: Deployment) -> CreditLine:
    """A $1,000.00 line with $400.00 drawn 03-12, billed 04-05: 1,989 due 04-27."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    world.sim.down = {Rail.PINLESS}
    return line


def _line_paid(world: Deployment) -> tuple[CreditLine, str]:
    line = _billed_line(world)
    world.at(dt.date(2026, 4, 15), 10)
    return line, world.pay_line(line, 5_000).payment_id


def line_completed(world: Deployment) -> Case:
    line, payment_id = _line_paid(world)
    world.at(dt.date(2026, 4, 17), 12)
    event = settlement(payment_id, SettlementOutcome.COMPLETED, world.clock.now(), Rail.ACH)
    return Case(SettleTransfer(event), ("line", line.line_id))


def line_unauthorized_return(world: Deployment) -> Case:
    line, payment_id = _line_paid(world)
    world.at(dt.date(2026, 4, 16), 12)
    return Case(
        SettleTransfer(returned(payment_id, "R10", world.clock.now())),
        ("line", line.line_id),
    )


def line_nsf_after_its_due_date(world: Deployment) -> Case:
    """The minimum paid 04-15 comes back R01 on 04-29: past due, its late fee, SUSPENDED."""
    line, payment_id = _line_paid(world)
    world.at(dt.date(2026, 4, 29), 17)
    return Case(
        SettleTransfer(returned(payment_id, "R01", world.clock.now())),
        ("line", line.line_id),
    )


def draw_returned(world: Deployment) -> Case:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    draw = world.draw(line, 40_000)
    assert draw.rail is not None
    world.at(dt.date(2026, 3, 13), 12)
    key = f"{draw.draw_id}:{draw.rail.value}"
    event = attrs.evolve(
        settlement(key, SettlementOutcome.RETURNED, world.clock.now(), draw.rail),
        return_code="R03",
    )
    return Case(SettleTransfer(event), ("line", line.line_id))


def _wire(world: Deployment) -> BookBackdatedLinePayment:
    """$420.00 received 03-13 for the $400.00 drawn 03-12, keyed 03-20: a refund due."""
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 3, 20), 10)
    return BookBackdatedLinePayment(
        "user-1", line.line_id, 42_000, dt.date(2026, 3, 13), "wire keyed late", "wire-1"
    )


def line_backdated_overpayment(world: Deployment) -> Case:
    command = _wire(world)
    return Case(command, ("line", command.line_id))


def line_refund_paid(world: Deployment) -> Case:
    wire = _wire(world)
    world.bus.handle(wire)
    world.at(dt.date(2026, 3, 23), 10)
    with world.bus.get(UnitOfWork) as uow:
        refund = uow.lines.get("user-1", wire.line_id).payments[wire.payment_id].refund
    assert refund is not None
    command = RecordRefundPaid(
        "user-1", wire.payment_id, world.today, "chk-9", "mailed", refund.amount
    )
    return Case(command, ("line", wire.line_id))


def line_backdated_draw(world: Deployment) -> Case:
    line = world.open_line()
    world.at(dt.date(2026, 3, 20), 10)
    command = BookBackdatedDraw(
        "user-1", line.line_id, 20_000, dt.date(2026, 3, 10), "sent by hand", "draw-x"
    )
    return Case(command, ("line", line.line_id))


def line_billing(world: Deployment) -> Case:
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 4, 5), 8)
    return Case(BillClosedCycles(), ("line", line.line_id))


def line_past_due(world: Deployment) -> Case:
    line = _billed_line(world)
    world.at(dt.date(2026, 4, 28), 16)
    return Case(MarkOverdueLines(), ("line", line.line_id))


def line_settled_by_hand(world: Deployment) -> Case:
    line = _billed_line(world)
    world.at(dt.date(2026, 4, 15), 10)
    command = _settled_by_hand(
        world, lambda: world.pay_line(line, 5_000, key="lost"), f"pay:{line.line_id}:lost", Rail.ACH
    )
    return Case(command, ("line", line.line_id))


def line_lost_transfer(world: Deployment) -> Case:
    line = _billed_line(world)
    world.at(dt.date(2026, 4, 15), 10)
    command = _lost_in_a_restore(
        world,
        lambda: world.pay_line(line, 5_000, key="lost"),
        line.line_id,
        f"pay:{line.line_id}:lost:ach",
        5_000,
    )
    return Case(command, ("line", line.line_id))


def _billing_error_notice(world: Deployment) -> tuple[CreditLine, DisputeBillingError]:
    """On 04-10 the borrower disputes 10,000 of the $400.00 draw on the 04-05 statement."""
    line = _billed_line(world)
    world.at(dt.date(2026, 4, 10), 10)
    (draw_id,) = world.line(line).draws
    notice = DisputeBillingError(
        "user-1",
        line.line_id,
        dt.date(2026, 4, 5),
        DisputedCharge.DRAW,
        10_000,
        "charged twice",
        "dispute-1",
        draw_id,
    )
    return line, notice


def line_billing_dispute(world: Deployment) -> Case:
    line, notice = _billing_error_notice(world)
    return Case(notice, ("line", line.line_id))


def line_billing_error_credited(world: Deployment) -> Case:
    """The borrower paid it all, then the error is found: a refund due, corrected books."""
    line, notice = _billing_error_notice(world)
    dispute_id = world.bus.handle(notice).dispute_id
    world.pay_line(line, 40_789)
    world.at(dt.date(2026, 4, 20), 10)
    command = ResolveBillingDispute(
        "user-1", line.line_id, dispute_id, error_found=True, explanation="charged twice"
    )
    return Case(command, ("line", line.line_id))


def line_fee_waived_after_payoff(world: Deployment) -> Case:
    """The 04-05 minimum missed, its fee paid with the payoff 04-29, waived 04-30: a refund."""
    line = _billed_line(world)
    world.at(dt.date(2026, 4, 28), 16)
    world.bus.handle(MarkOverdueLines())
    world.at(dt.date(2026, 4, 29), 10)
    world.pay_line(line, world.line(line).total_balance)
    world.at(dt.date(2026, 4, 30), 10)
    command = WaiveLineLateFee("user-1", line.line_id, dt.date(2026, 4, 5), "outage", "waive-1")
    return Case(command, ("line", line.line_id))


@attrs.frozen
class Row:
    """A case of the table: its world, and the commits its command makes."""

    setup: Callable[[Deployment], Case]
    now: dt.datetime
    """When the world starts."""
    seed: int
    """The simulated rail's seed."""
    commits: int
    """How many commits the command makes on the happy path: its commit boundaries."""
    lasting: int = 1
    """After how many written commits the recovery job alone finishes the work (before
    that, a process that died and was not run again leaves things as they were)."""
    closes_intent: bool = False
    """Whether the last commit closes a transfer intent after its events were published:
    a process that dies there makes the recovery job publish them once more, which the
    docs allow (docs/money-movements.md, "Notifications"): checked at least once."""


SETUPS: dict[str, Row] = {
    "loan_completed": Row(loan_completed, LOANS_OPENED, 0, 1),
    "loan_nsf_late_fee": Row(loan_nsf_after_its_late_fee, LOANS_OPENED, 0, 1),
    "loan_r10_autopay_stop": Row(loan_unauthorized_return, LOANS_OPENED, 0, 1),
    "loan_chargeback": Row(loan_chargeback, LOANS_OPENED, 0, 1),
    "disbursement_returned": Row(disbursement_returned, LOANS_OPENED, 0, 1),
    "loan_refund_paid": Row(loan_refund_paid, LOANS_OPENED, 0, 1),
    "loan_backdated_refund_due": Row(loan_backdated_overpayment, LOANS_OPENED, 0, 1),
    "loan_backdated_fee_undone": Row(loan_backdated_before_its_fee, LOANS_OPENED, 0, 1),
    "loan_fee_waived_refund_due": Row(loan_fee_waived_after_payoff, LOANS_OPENED, 0, 1),
    "loan_late_fee_job": Row(loan_late_fee, LOANS_OPENED, 0, 1),
    "loan_default_job": Row(loan_default, LOANS_OPENED, 0, 1),
    "loan_settled_by_hand": Row(
        loan_settled_by_hand, LOANS_OPENED, 0, 3, lasting=2, closes_intent=True
    ),
    "loan_lost_transfer": Row(loan_lost_transfer, LOANS_OPENED, 0, 3, closes_intent=True),
    "line_completed": Row(line_completed, LINES_OPENED, 11, 1),
    "line_r10_autopay_stop": Row(line_unauthorized_return, LINES_OPENED, 11, 1),
    "line_nsf_past_due": Row(line_nsf_after_its_due_date, LINES_OPENED, 11, 1),
    "draw_returned": Row(draw_returned, LINES_OPENED, 11, 1),
    "line_backdated_refund_due": Row(line_backdated_overpayment, LINES_OPENED, 11, 1),
    "line_refund_paid": Row(line_refund_paid, LINES_OPENED, 11, 1),
    "line_backdated_draw": Row(line_backdated_draw, LINES_OPENED, 11, 1),
    "line_billing_job": Row(line_billing, LINES_OPENED, 11, 1),
    "line_overdue_job": Row(line_past_due, LINES_OPENED, 11, 1),
    "line_billing_dispute": Row(line_billing_dispute, LINES_OPENED, 11, 1),
    "line_billing_error_credited": Row(line_billing_error_credited, LINES_OPENED, 11, 1),
    "line_fee_waived_refund_due": Row(line_fee_waived_after_payoff, LINES_OPENED, 11, 1),
    "line_settled_by_hand": Row(
        line_settled_by_hand, LINES_OPENED, 11, 3, lasting=2, closes_intent=True
    ),
    "line_lost_transfer": Row(line_lost_transfer, LINES_OPENED, 11, 3, closes_intent=True),
}


# --- what a case leaves behind ----------------------------------------------------------


def _plain(value: object) -> object:
    """`value` as plain data, without what only says when or how often it was saved."""
    if attrs.has(type(value)):
        value = attrs.asdict(cast("attrs.AttrsInstance", value), recurse=False)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in {"version", "updated_at"}}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@attrs.frozen
class Snapshot:
    """What a case left: books, aggregate, what is open, what everyone was told."""

    entries: list[str]
    problems: list[str]
    aggregate: object
    open_intents: list[str]
    kept_events: int
    notices: Counter[str]
    alerts: Counter[str]


def snapshot(world: Deployment, case: Case, sent: int, posted: int) -> Snapshot:
    kind, owner_id = case.account
    with world.bus.get(UnitOfWork) as uow:
        entries = uow.journal.entries_for(owner_id)
        open_intents = [ref.intent_id for ref in uow.intents.open_before(FAR_FUTURE)]
        aggregate: object
        if kind == "loan":
            loan = uow.loans.get("user-1", owner_id)
            aggregate, problems = loan, loan.problems()
        else:
            aggregate, problems = uow.lines.get("user-1", owner_id), []
    if kind == "loan":
        ledger = world.ledger(owner_id)
        problems += ledger_problems(loan, ledger)
    else:
        reconciled = world.bus.handle(ReconcileLine("user-1", owner_id))
        problems += [f"{name}: {pair}" for name, pair in reconciled.mismatches.items()]
    kept = world.bus.get(EventOutbox).undelivered(committed_before=FAR_FUTURE, limit=100)
    return Snapshot(
        entries=sorted(
            repr((e.entry_id, e.kind, e.effective_date, e.reference, e.postings)) for e in entries
        ),
        problems=problems,
        aggregate=_plain(aggregate),
        open_intents=open_intents,
        kept_events=len(kept.events) + len(kept.unreadable),
        notices=Counter(f"{e.type.value} {e.event_id}" for e in world.notifier.sent[sent:]),
        alerts=Counter(
            f"{a.severity.value} {a.title}"
            for a in world.alerter.posted[posted:]
            if not str(a.details.get("error", "")).startswith(_CRASHED)
        ),
    )


def recover(world: Deployment) -> None:
    world.clock.advance(PAST_RECOVERY)
    report = world.bus.handle(RecoverTransfers())
    assert report.busy == 0


def build(name: str) -> tuple[Deployment, Case]:
    row = SETUPS[name]
    world = Deployment.build(now=row.now, seed=row.seed)
    world.users.add("user-1")
    case = row.setup(world)
    return world, case


@functools.cache
def ended(name: str, *, ran: bool) -> Snapshot:
    """How the case ends with the command run once (or never), then the recovery job."""
    world, case = build(name)
    sent, posted = len(world.notifier.sent), len(world.alerter.posted)
    if ran:
        world.bus.handle(case.command)
    recover(world)
    return snapshot(world, case, sent, posted)


# --- the failure points and the recoveries ----------------------------------------------


class Point(enum.Enum):
    """Where the process dies."""

    BEFORE_WRITE = "before_write"
    """Its commit (the n-th) writes nothing."""
    AFTER_WRITE = "after_write"
    """Its commit (the n-th) wrote; the process dies before publishing anything."""
    LAST_MESSAGE = "last_message"
    """Everything committed; it dies on the last borrower notification it sends."""


class Recovery(enum.Enum):
    AGAIN = "again"
    """The same command (or event) delivered again, then the recovery job."""
    RECOVERY_JOB = "recovery_job"
    """Nothing delivered again: only the recovery job, after `RECOVERY_AFTER`."""


def _notices(name: str) -> int:
    return sum(ended(name, ran=True).notices.values())


def points(name: str) -> list[tuple[Point, int]]:
    commits = SETUPS[name].commits
    found = [(p, n) for n in range(1, commits + 1) for p in (Point.BEFORE_WRITE, Point.AFTER_WRITE)]
    # A command that tells the borrower nothing has no last message to die at.
    return [*found, (Point.LAST_MESSAGE, 0)] if _notices(name) else found


CASES = [
    pytest.param(name, point, n, recovery, id=f"{name}-{point.value}{n or ''}-{recovery.value}")
    for name in SETUPS
    for point, n in points(name)
    for recovery in Recovery
]


def die(world: Deployment, case: Case, point: Point, n: int) -> None:
    """Run the command on a bus that dies at `point` (the n-th commit, or the n-th
    notification); check the fault fired."""
    if point is Point.LAST_MESSAGE:
        notifier = CrashingNotifier(world.notifier, on=n)
        bus = world.replacing(Notifier, notifier)
        fired: Callable[[], bool] = lambda: notifier.crashed  # noqa: E731 - one line
    else:
        after_write = point is Point.AFTER_WRITE
        uow = CrashingUnitOfWork(world.database, on_commit=n, after_write=after_write)
        bus = world.replacing(UnitOfWork, uow)
        fired = lambda: uow.crashes == 0  # noqa: E731 - one line
    with contextlib.suppress(Crash):
        bus.handle(case.command)
    assert fired(), "the fault never fired: the case does not test what it names"


@pytest.mark.parametrize("name", SETUPS)
def test_the_happy_path_commits_as_the_table_says(name: str) -> None:
    """The control row: the command once makes the commits the table lists, and is sound."""
    world, case = build(name)
    counting = CrashingUnitOfWork(world.database, on_commit=10**6)
    world.replacing(UnitOfWork, counting).handle(case.command)
    assert 10**6 - counting.countdown == SETUPS[name].commits
    happy = ended(name, ran=True)
    assert (happy.problems, happy.open_intents, happy.kept_events) == ([], [], 0)
    assert happy.entries != ended(name, ran=False).entries or happy.notices


@pytest.mark.parametrize(("name", "point", "n", "recovery"), CASES)
def test_a_crash_at_every_commit_boundary_ends_as_the_happy_path(
    name: str, point: Point, n: int, recovery: Recovery
) -> None:
    world, case = build(name)
    sent, posted = len(world.notifier.sent), len(world.alerter.posted)
    die(world, case, point, _notices(name) if point is Point.LAST_MESSAGE else n)
    if recovery is Recovery.AGAIN:
        world.clock.advance(LEASE_RUN_OUT)
        # A repeat may be refused (a movement already open or booked): the job's then.
        with contextlib.suppress(LocError):
            world.bus.handle(case.command)
    recover(world)
    written = {Point.BEFORE_WRITE: n - 1, Point.AFTER_WRITE: n}.get(point, SETUPS[name].commits)
    as_if_never = recovery is Recovery.RECOVERY_JOB and written < SETUPS[name].lasting
    expected = ended(name, ran=not as_if_never)
    done = snapshot(world, case, sent, posted)
    assert done.problems == [], "the ledger equals the balances"
    assert done.entries == expected.entries, "each entry posted once, as the happy path"
    assert (done.open_intents, done.kept_events) == (expected.open_intents, 0)
    assert done.aggregate == expected.aggregate
    row = SETUPS[name]
    if row.closes_intent and point is Point.BEFORE_WRITE and n == row.commits:
        # Published, then died before the intent's close: sent again, never lost.
        assert set(done.notices) == set(expected.notices)
        assert set(done.alerts) == set(expected.alerts)
        return
    assert done.notices == expected.notices, "each notification as often as the happy path"
    assert done.alerts == expected.alerts, "each operations alert as often as the happy path"
