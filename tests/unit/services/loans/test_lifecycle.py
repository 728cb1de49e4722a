"""A loan from application to payoff, driven only through the bus.

The test body asks its storage of the `storage` fixture, so it can run against any
`UnitOfWork`: another storage adapter's suite overrides that fixture and imports the test.
"""

import datetime as dt
from collections.abc import Callable, Mapping

import pytest
from deployment import Deployment

from loc_adapters.memory import RailBehaviour
from loc_core.applications import ApplicationStatus
from loc_core.installment import Loan, LoanStatus
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent
from loc_core.services.commands import (
    CheckEligibility,
    CollectionOutcome,
    CollectionResult,
    ReconcileLoan,
)
from loc_core.services.loans import autopay_payment_id
from loc_core.testing.installment import ledger_problems

SEED = 8
"""A rail seed under which exactly one debit comes back: the first try at installment 2."""

Storage = Callable[[Deployment], Mapping[type, object]]
"""The adapters a deployment stores in, by port (`{UnitOfWork: ...}`); none: in memory."""


@pytest.fixture
def storage() -> Storage:
    """The deployment's own in-memory storage; a storage adapter's suite overrides this."""
    return lambda _world: {}


def live_until_paid_off(
    world: Deployment, loan: Loan
) -> tuple[dt.date, list[SettlementEvent], list[CollectionResult]]:
    """Day by day: the daily job at 06:00, settlements at 13:00, autopay at 15:00.

    The borrower pays installment 5 early by hand, and pays whatever is left once the
    schedule has run out. Returns the last day, the events delivered and autopay's results.
    """
    events: list[SettlementEvent] = []
    results: list[CollectionResult] = []
    day = loan.disbursement_date
    last_due = loan.installments[-1].due_date
    while True:
        day += dt.timedelta(days=1)
        assert day < last_due + dt.timedelta(days=60), "the loan never paid off"
        world.at(day, hour=6)
        world.run_daily_loan_job()
        world.at(day, hour=13)
        events += world.settle_due()
        world.at(day, hour=15)
        results += world.run_collections()
        current = world.loan(loan.loan_id)
        pending = [p for p in current.payments.values() if p.status is PaymentStatus.PENDING]
        if current.status is LoanStatus.CLOSED and not pending:
            break
        if day == dt.date(2026, 3, 10):  # the borrower pays installment 5 early, by hand
            world.pay_loan(current, 5_250, key="early")
        if day > last_due and not pending and current.outstanding_balance:
            world.pay_loan(current, current.outstanding_balance, key=f"payoff-{day}")

    return day, events, results


def test_a_loan_from_application_to_payoff(storage: Storage) -> None:
    world = Deployment.build(
        seed=SEED,
        behaviour=RailBehaviour(
            decline_probability=0,
            nsf_return_probability=0.25,
            unauthorized_return_probability=0,
            chargeback_probability=0,
        ),
    )
    world.bus = world.bus.replacing(storage(world))
    world.sim.down = {Rail.PINLESS}  # no debit card on file: every transfer goes by ACH
    world.users.add("user-1")
    assert world.bus.handle(CheckEligibility("user-1")).eligible

    offer = world.apply_loan()
    assert offer.status is ApplicationStatus.APPROVED
    loan = world.accept_loan(offer.application_id)
    assert (loan.disbursement_method, loan.outstanding_balance) == (Rail.ACH, 31_500)

    day, events, results = live_until_paid_off(world, loan)
    world.at(day + dt.timedelta(days=5))
    events += world.settle_due()
    final = world.loan(loan.loan_id)
    assert (final.status, final.outstanding_balance) == (LoanStatus.CLOSED, 0)
    second = final.installments[1]
    [returned] = [e for e in events if e.outcome is SettlementOutcome.RETURNED]
    assert returned.idempotency_key == autopay_payment_id(second.installment_id, 1, Rail.ACH)
    assert second.collection_attempts == 2  # autopay tried it again after the return
    assert final.payments[autopay_payment_id(second.installment_id, 2, Rail.ACH)].status is (
        PaymentStatus.COMPLETED
    )
    statuses = sorted(p.status.value for p in final.payments.values())
    assert statuses == ["COMPLETED"] * 6 + ["RETURNED"]
    # the prepaid installment 5 was never enqueued, so autopay only ever charged
    assert [r.outcome for r in results] == [CollectionOutcome.CHARGED] * 6
    assert final.installments[4].collection_attempts == 0
    # exactly once: one transfer per payment booked, plus the disbursement
    assert len(world.sim.submitted) == len(final.payments) + 1
    assert ledger_problems(final, world.ledger(loan.loan_id)) == []
    assert world.bus.handle(ReconcileLoan("user-1", loan.loan_id)).matches
    assert world.alerts() == []
    sent = world.sent()
    assert sent[0] == "loan_disbursed"
    assert sent.count("payment_failed") == 1
    assert sent[-1] in {"payment_succeeded", "loan_closed"}
    assert "loan_closed" in sent
    assert sent.count("payment_succeeded") == statuses.count("COMPLETED")
