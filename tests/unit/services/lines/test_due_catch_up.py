"""The due job's first run after an outage presents the due dates it missed (docs/jobs.md).

EventBridge does not replay the days a rule was off: a line due on a day the due job did
not run (or whose run never reached its end) is debited by the next run, under that due
date's key, before the overdue job can charge a late fee for a debit never presented.
A day whose run finished is never presented again.
"""

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import declining, meanwhile

from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus
from loc_core.payments import Rail
from loc_core.services.commands import CollectDueMinimums, SetLineAutopay
from loc_core.services.lines import DUE_CATCH_UP_DAYS, JobReport, due_payment_id
from loc_core.services.messagebus import MessageBus

DUE = dt.date(2026, 4, 27)
"""The line's first statement (closed 04-05, 1,989 minimum) is due."""
MINIMUM = 1_989


@pytest.fixture(autouse=True)
def due_job_ran_before(world: Deployment) -> None:
    """The due job of this release ran before the gap: it has marked days since then."""
    assert world.clock.now() == LINES_OPENED
    world.due()


def billed_line(world: Deployment) -> CreditLine:
    """$400.00 drawn on 03-12, billed 04-05 08:00: 1,989 due 04-27."""
    return world.billed_line()


def due_debits(world: Deployment) -> list[tuple[str, int]]:
    """Every due-job transfer sent to a rail: its key and amount."""
    return [
        (sent.idempotency_key, sent.amount)
        for sent in world.sim.submitted
        if sent.idempotency_key.startswith("due:")
    ]


def test_a_due_date_the_job_missed_is_debited_by_its_next_run_before_the_overdue_job(
    world: Deployment,
) -> None:
    """No due run on 04-27 nor 04-28; the 04-29 run debits the 04-27 minimum: no late fee."""
    line = billed_line(world)
    world.at(DUE + dt.timedelta(days=2), 15)
    assert world.due().acted == (line.line_id,)
    assert due_debits(world) == [(due_payment_id(line.line_id, DUE, Rail.PINLESS), MINIMUM)]
    world.at(DUE + dt.timedelta(days=2), 16)
    assert world.overdue().acted == ()
    after = world.line(line)
    assert (after.status, after.fee_balance, after.minimum_payment_outstanding) == (
        LineStatus.ACTIVE,
        0,
        0,
    )
    assert "loc_past_due" not in world.sent()


def test_a_caught_up_due_date_is_debited_once(world: Deployment, billed: CreditLine) -> None:
    """The same run delivered twice, then the operator's ``--date`` run of the missed day."""
    world.at(DUE + dt.timedelta(days=2), 15)
    world.due()
    assert world.due().acted == ()
    assert world.bus.handle(CollectDueMinimums(as_of=DUE)).acted == ()
    world.at(DUE + dt.timedelta(days=3), 15)  # the next day's run
    assert world.due().acted == ()
    assert due_debits(world) == [(due_payment_id(billed.line_id, DUE, Rail.PINLESS), MINIMUM)]


def test_two_runs_of_one_day_catching_up_debit_a_missed_due_date_once(
    world: Deployment, billed: CreditLine, second_process: MessageBus
) -> None:
    """A delivery repeated while the first is at the rail: its lease held, the line waits."""
    world.at(DUE + dt.timedelta(days=2), 15)
    repeated: list[JobReport] = []
    world.rails.handler = meanwhile(
        world.sim, lambda _: repeated.append(second_process.handle(CollectDueMinimums()))
    )

    assert world.due().acted == (billed.line_id,)

    assert (repeated[0].acted, repeated[0].failed) == ((), (billed.line_id,))
    world.rails.handler = world.sim.submit
    world.at(DUE + dt.timedelta(days=3), 15)  # both runs marked the missed days done
    assert world.due().acted == ()
    assert due_debits(world) == [(due_payment_id(billed.line_id, DUE, Rail.PINLESS), MINIMUM)]


def test_a_due_run_cut_short_leaves_its_day_to_the_next_run(world: Deployment) -> None:
    """The 04-27 run dies after its first page; the 04-28 run collects the line it missed."""
    first, second = world.open_line(), world.open_line(user_id="user-2")
    world.at(dt.date(2026, 3, 12))
    for line in (first, second):
        world.draw(line, 40_000)
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    world.at(DUE, 15)
    cut_short = world.bus.handle(CollectDueMinimums(page_size=1))
    assert cut_short.cursor is not None  # and no page after it ran
    world.at(DUE + dt.timedelta(days=1), 15)

    assert world.due().acted == tuple(sorted({first.line_id, second.line_id} - {*cut_short.acted}))

    assert sorted(key for key, _ in due_debits(world)) == sorted(
        due_payment_id(line.line_id, DUE, Rail.PINLESS) for line in (first, second)
    )


@pytest.mark.parametrize("gap", ["paid by hand", "autopay off"])
def test_a_missed_due_date_is_not_debited_when_paid_or_autopay_is_off(
    world: Deployment, billed: CreditLine, gap: str
) -> None:
    world.at(DUE + dt.timedelta(days=1), 10)
    if gap == "paid by hand":
        world.pay_line(billed, MINIMUM)
    else:
        world.bus.handle(SetLineAutopay(billed.user_id, billed.line_id, enabled=False))
    world.at(DUE + dt.timedelta(days=2), 15)
    assert world.due().acted == ()
    assert due_debits(world) == []


@pytest.mark.parametrize("on_the_due_date", ["autopay off", "every rail declined"])
def test_a_due_date_whose_run_finished_is_not_presented_again(
    world: Deployment, billed: CreditLine, on_the_due_date: str
) -> None:
    """Only days no run finished are caught up: what a finished run decided stands."""
    world.at(DUE, 10)
    if on_the_due_date == "autopay off":
        world.bus.handle(SetLineAutopay(billed.user_id, billed.line_id, enabled=False))
    else:
        world.rails.handler = declining(world.sim, {Rail.PINLESS, Rail.ACH})
    world.at(DUE, 15)
    assert world.due().acted == ()
    presented = due_debits(world)
    world.at(DUE + dt.timedelta(days=1), 10)
    world.rails.handler = world.sim.submit
    world.bus.handle(SetLineAutopay(billed.user_id, billed.line_id, enabled=True))
    world.at(DUE + dt.timedelta(days=1), 15)
    assert world.due().acted == ()
    assert due_debits(world) == presented


def test_a_line_the_overdue_job_marked_in_the_gap_is_still_debited_and_cured(
    world: Deployment, billed: CreditLine
) -> None:
    """Only the due rule was off: the late fee charged on 04-28 stays, the debit cures."""
    world.at(DUE + dt.timedelta(days=1), 16)
    world.overdue()
    assert (world.line(billed).status, world.line(billed).fee_balance) == (
        LineStatus.SUSPENDED,
        500,
    )
    world.at(DUE + dt.timedelta(days=2), 15)
    assert world.due().acted == (billed.line_id,)
    assert due_debits(world) == [(due_payment_id(billed.line_id, DUE, Rail.PINLESS), MINIMUM)]
    world.at(DUE + dt.timedelta(days=2), 16)
    world.overdue()
    cured = world.line(billed)
    assert (cured.status, cured.fee_balance, cured.minimum_payment_outstanding) == (
        LineStatus.ACTIVE,
        0,  # the debit paid the fee first
        0,
    )


def test_a_due_date_older_than_the_catch_up_window_is_left_to_the_overdue_job() -> None:
    """A product due 14 days after the statement: its due date can age past the window."""
    world = Deployment.build(
        now=LINES_OPENED,
        seed=11,
        overrides={CreditLineProduct: CreditLineProduct(statement_to_due_days=14)},
    )
    line = billed_line(world)
    due = world.line(line).next_due_date
    assert due is not None
    late = due + dt.timedelta(days=DUE_CATCH_UP_DAYS + 1)
    world.at(late, 15)
    assert world.due().acted == ()
    assert due_debits(world) == []
    world.at(late, 16)
    world.overdue()
    assert (world.line(line).status, world.line(line).fee_balance) == (LineStatus.SUSPENDED, 500)
    # The operator's run for the due date (within the look-back) still presents it, once.
    assert world.bus.handle(CollectDueMinimums(as_of=due)).acted == (line.line_id,)
    assert [key for key, _ in due_debits(world)] == [
        due_payment_id(line.line_id, due, Rail.PINLESS)
    ]
