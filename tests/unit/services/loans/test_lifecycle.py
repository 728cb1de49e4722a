"""A loan from application to payoff, driven only through the use cases and their ports.

The test body uses nothing but ports, so it can run against any `UnitOfWork`: the
`new_uow` fixture is the one thing another storage adapter's suite would replace.
"""

import datetime as dt

import pytest
from unit.services.loans.harness import OPENED, UowFactory, World, memory_uow_factory

from loc_adapters.memory import ManualClock, RailBehaviour, SimulatedRails
from loc_core.applications import ApplicationStatus
from loc_core.installment import Loan, LoanStatus
from loc_core.ledger import Ledger
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent
from loc_core.services.loans import (
    CheckEligibility,
    CollectionOutcome,
    CollectionResult,
    ReconcileLoan,
    autopay_payment_id,
    check_loan_eligibility,
    reconcile_loan,
    run_daily_loan_job,
)
from loc_core.testing.installment import ledger_problems

SEED = 8
"""A rail seed under which exactly one debit comes back: the first try at installment 2."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPENED)


@pytest.fixture
def new_uow(clock: ManualClock) -> UowFactory:
    factory, _ = memory_uow_factory(clock)
    return factory


def live_until_paid_off(
    world: World, loan: Loan
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
        run_daily_loan_job(
            uow=world.new_uow(), clock=world.clock, notifier=world.notifier, alerter=world.alerter
        )
        world.at(day, hour=13)
        events += world.settle_due()
        world.at(day, hour=15)
        results += world.run_collections()
        current = world.loan(loan.loan_id)
        pending = [p for p in current.payments.values() if p.status is PaymentStatus.PENDING]
        if current.status is LoanStatus.CLOSED and not pending:
            break
        if day == dt.date(2026, 3, 10):  # the borrower pays installment 5 early, by hand
            world.pay(current, 5_250, key="early")
        if day > last_due and not pending and current.outstanding_balance:
            world.pay(current, current.outstanding_balance, key=f"payoff-{day}")

    return day, events, results


def test_a_loan_from_application_to_payoff(clock: ManualClock, new_uow: UowFactory) -> None:
    rails = SimulatedRails(
        clock,
        seed=SEED,
        behaviour=RailBehaviour(
            decline_probability=0,
            nsf_return_probability=0.25,
            unauthorized_return_probability=0,
            chargeback_probability=0,
        ),
    )
    rails.down = {Rail.PINLESS}  # no debit card on file: every transfer goes by ACH
    world = World(clock=clock, new_uow=new_uow, rails=rails)
    world.users.add("user-1")
    eligibility = check_loan_eligibility(
        CheckEligibility("user-1"), uow=new_uow(), users=world.users, clock=clock
    )
    assert eligibility.eligible

    offer = world.apply()
    assert offer.status is ApplicationStatus.APPROVED
    loan = world.accept(offer.application_id)
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
    assert len(rails.submitted) == len(final.payments) + 1
    with new_uow() as uow:
        ledger = Ledger(uow.journal.entries_for(loan.loan_id))
    assert ledger_problems(final, ledger) == []
    assert ledger.trial_balance() == 0
    check = reconcile_loan(
        ReconcileLoan("user-1", loan.loan_id), uow=new_uow(), alerter=world.alerter
    )
    assert check.matches
    assert world.alerter.posted == []
    sent = world.sent()
    assert sent[0] == "loan_disbursed"
    assert sent.count("payment_failed") == 1
    assert sent[-1] in {"payment_succeeded", "loan_closed"}
    assert "loan_closed" in sent
    assert sent.count("payment_succeeded") == statuses.count("COMPLETED")
