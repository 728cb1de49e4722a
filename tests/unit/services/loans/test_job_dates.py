"""The loan jobs run as of an earlier business date decide as they would have that day.

The rule is `loc_core.services.scheduled`; the line jobs' side and the refusals are in
``tests/unit/services/lines/test_job_dates.py``.
"""

import datetime as dt

from deployment import Deployment

from loc_core.services.commands import (
    BookBackdatedLoanPayment,
    DailyJobResult,
    EnqueueDueInstallments,
    RunDailyLoanJob,
)

INSTALLMENT_DUE = dt.date(2026, 1, 20)
"""The docs' loan's first installment falls due."""


def test_the_collections_job_as_of_a_past_day_enqueues_what_was_due_then(
    world: Deployment,
) -> None:
    loan = world.open_loan()
    world.at(INSTALLMENT_DUE + dt.timedelta(days=2))
    day_before = INSTALLMENT_DUE - dt.timedelta(days=1)
    assert world.bus.handle(EnqueueDueInstallments(as_of=day_before)) == 0
    for _ in range(2):  # a rerun sends the same message again: same deduplication id
        assert world.bus.handle(EnqueueDueInstallments(as_of=INSTALLMENT_DUE)) == 1
    received = world.queue.receive(max_messages=10, visibility=dt.timedelta(0))
    first = loan.installments[0].installment_id
    assert {m.message.deduplication_id for m in received} == {
        f"{first}:{INSTALLMENT_DUE.isoformat()}"
    }


def test_the_daily_loan_job_as_of_a_past_day_charges_the_late_fee_of_that_day(
    world: Deployment,
) -> None:
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 30))
    late = dt.date(2026, 1, 25)  # the first day after the grace period
    result = world.bus.handle(RunDailyLoanJob(as_of=late - dt.timedelta(days=1)))
    assert result == DailyJobResult(loans_checked=1, loans_changed=0)
    assert world.bus.handle(RunDailyLoanJob(as_of=late)).loans_changed == 1
    assert world.bus.handle(RunDailyLoanJob(as_of=late)).loans_changed == 0
    assert world.bus.handle(RunDailyLoanJob()).loans_changed == 0  # today's run: done already
    first = world.loan(loan.loan_id).installments[0]
    assert first.late_fee == 263
    assert world.sent().count("installment_overdue") == 1


# --- after an outage: the first runs after days the jobs missed (docs/jobs.md) -----------


def test_a_default_found_after_missed_days_is_dated_the_day_the_loan_defaulted(
    world: Deployment,
) -> None:
    """Installment 1 is OVERDUE from 01-25; day 60 is 03-26, and the job is off till 03-29."""
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 25), 17)
    world.run_daily_loan_job()
    world.at(dt.date(2026, 3, 29), 17)
    world.run_daily_loan_job()
    defaulted = world.sound_loan(loan.loan_id)
    assert (defaulted.status.value, defaulted.defaulted_on) == ("DEFAULTED", dt.date(2026, 3, 26))
    [told] = [event for event in world.notifier.sent if event.type.value == "loan_defaulted"]
    assert told.data["charged_off_on"] == "2026-03-26"
    world.at(dt.date(2026, 3, 30), 10)  # an unrelated correction replays the same date
    world.bus.handle(
        BookBackdatedLoanPayment("user-1", loan.loan_id, 100, world.today, "check", "chk-1")
    )
    assert world.sound_loan(loan.loan_id).defaulted_on == dt.date(2026, 3, 26)


def test_the_first_runs_after_a_gap_collect_a_missed_installment_once_without_a_fee(
    world: Deployment,
) -> None:
    """The jobs are off 01-19 to 01-22 over the 01-20 due date; they run again on 01-23."""
    loan = world.open_loan()
    world.settle_due()
    world.at(dt.date(2026, 1, 23), 15)
    [charged] = world.run_collections()
    assert (charged.outcome.value, charged.amount) == ("charged", 5250)
    world.at(dt.date(2026, 1, 23), 17)
    world.run_daily_loan_job()
    assert [outcome.outcome.value for outcome in world.run_collections()] == []  # paid: not listed
    assert world.sound_loan(loan.loan_id).installments[0].late_fee == 0
    assert "installment_overdue" not in world.sent()
