"""The loan jobs run as of an earlier business date decide as they would have that day.

The rule is `loc_core.services.scheduled`; the line jobs' side and the refusals are in
``tests/unit/services/lines/test_job_dates.py``.
"""

import datetime as dt

from deployment import Deployment

from loc_core.services.commands import DailyJobResult, EnqueueDueInstallments, RunDailyLoanJob

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
