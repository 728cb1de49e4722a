"""What a loan's borrower is told when autopay cannot collect an installment.

Kept with the line notification audit: the same fact (every rail declined) was untold
for loans until the late fee, five days later.
"""

import datetime as dt

from deployment import Deployment
from fakes import declining

from loc_adapters.iterable import contract
from loc_core.events import EventType
from loc_core.payments import Rail
from loc_core.services.loans import CollectionOutcome


def test_a_declined_autopay_is_told_at_once_once_a_day_with_the_last_day_to_pay() -> None:
    world = Deployment.build()
    loan = world.open_loan()
    world.settle_due()
    world.rails.handler = declining(world.sim, set(Rail))
    first = loan.installments[0]
    world.at(first.due_date)
    results = [world.collect(loan), world.collect(loan, worker="worker-2")]  # redelivered
    results += world.run_collections()  # the day's job enqueues it again
    assert [r.outcome for r in results][:1] == [CollectionOutcome.DECLINED]
    assert {r.outcome for r in results[1:]} == {CollectionOutcome.SKIPPED}
    declined = [e for e in world.notifier.sent if e.type is EventType.AUTOPAY_DECLINED]
    assert len(declined) == 1
    [notice] = declined
    assert set(notice.data) == contract.DATA_FIELDS[EventType.AUTOPAY_DECLINED]
    assert (notice.subject_id, notice.occurred_on) == (first.installment_id, first.due_date)
    assert dict(notice.data) == {
        "loan_id": loan.loan_id,
        "installment_number": 1,
        "amount": first.outstanding_balance,
        "due_date": first.due_date.isoformat(),
        "pay_by": (first.due_date + dt.timedelta(days=4)).isoformat(),  # fee on day 5
        "attempt": 1,
    }
    world.at(first.due_date + dt.timedelta(days=1))  # the next day's attempt: told again
    assert world.collect(loan).outcome is CollectionOutcome.DECLINED
    later = [e for e in world.notifier.sent if e.type is EventType.AUTOPAY_DECLINED]
    assert [e.data["attempt"] for e in later] == [1, 2]
