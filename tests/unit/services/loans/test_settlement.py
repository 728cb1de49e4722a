"""Settlement events: completions, returns and chargebacks, delivered twice and out of order."""

import datetime as dt

import attrs
import pytest
from deployment import Deployment
from fakes import InterferingUnitOfWork, settlement

from loc_core.errors import NotFound, PaymentError
from loc_core.installment import InstallmentStatus, Loan, LoanStatus
from loc_core.ledger import CLEARING
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, Severity, UnitOfWork
from loc_core.services.commands import SettlementHandling, SettleTransfer
from loc_core.services.loans import disbursement_key
from loc_core.testing.installment import ledger_problems

PAID_ON = dt.datetime(2026, 1, 12, 15, tzinfo=dt.UTC)


@pytest.fixture
def loan(world: Deployment) -> Loan:
    world.sim.down = {Rail.PINLESS}  # payments go by ACH, which can be returned
    made = world.open_loan()
    world.clock.set(PAID_ON)
    return made


def event(
    payment_id: str, outcome: SettlementOutcome, day: int = 14, rail: Rail = Rail.ACH
) -> SettlementEvent:
    return settlement(payment_id, outcome, dt.datetime(2026, 1, day, 12, tzinfo=dt.UTC), rail)


def test_a_completion_marks_the_payment_and_tells_the_borrower_once(
    world: Deployment, loan: Loan
) -> None:
    paid = world.pay_loan(loan, 5_250)
    completed = event(paid.payment_id, SettlementOutcome.COMPLETED)
    assert world.settle(completed) is SettlementHandling.SETTLED
    assert world.settle(completed) is SettlementHandling.DUPLICATE
    payment = world.loan(loan.loan_id).payments[paid.payment_id]
    assert (payment.status, payment.settled_on) == (PaymentStatus.COMPLETED, dt.date(2026, 1, 14))
    assert world.sent() == ["loan_disbursed", "payment_succeeded"]
    assert world.metrics.count("loc.loans.settlements.duplicate") == 1


def test_a_return_takes_back_exactly_what_the_payment_paid_once(
    world: Deployment, loan: Loan
) -> None:
    paid = world.pay_loan(loan, 31_500)
    assert world.loan(loan.loan_id).status is LoanStatus.CLOSED
    returned = event(paid.payment_id, SettlementOutcome.RETURNED)
    assert world.settle(returned) is SettlementHandling.REVERSED
    assert world.settle(returned) is SettlementHandling.DUPLICATE
    stored = world.loan(loan.loan_id)
    assert (stored.status, stored.outstanding_balance, stored.completion_date) == (
        LoanStatus.OPEN,
        31_500,
        None,
    )
    assert {i.status for i in stored.installments} == {InstallmentStatus.SCHEDULED}
    ledger = world.ledger(loan.loan_id)
    assert [e.kind for e in ledger] == ["disbursement", "payment", "unapply"]
    assert ledger.balance(CLEARING) == 0
    assert ledger_problems(stored, ledger) == []
    assert world.sent() == ["loan_disbursed", "loan_closed", "payment_failed"]


def test_a_completion_after_the_return_changes_nothing(world: Deployment, loan: Loan) -> None:
    paid = world.pay_loan(loan, 5_250)
    assert (
        world.settle(event(paid.payment_id, SettlementOutcome.RETURNED, 13))
        is SettlementHandling.REVERSED
    )
    late = event(paid.payment_id, SettlementOutcome.COMPLETED, 14)
    assert world.settle(late) is SettlementHandling.DUPLICATE
    assert world.loan(loan.loan_id).payments[paid.payment_id].status is PaymentStatus.RETURNED
    assert world.loan(loan.loan_id).outstanding_balance == 31_500


def test_an_event_for_an_unknown_payment_is_not_found_and_alerted(
    world: Deployment, loan: Loan
) -> None:
    with pytest.raises(NotFound, match="no loan or line records transfer 'manual:x'"):
        world.settle(event("manual:x", SettlementOutcome.COMPLETED))
    [alert] = world.alerts()
    assert (alert.severity, alert.title, alert.details["idempotency_key"]) == (
        Severity.CRITICAL,
        "settlement event for a transfer no loan or line records",
        "manual:x",
    )
    assert world.loan(loan.loan_id).version == 1


def test_an_outcome_the_rail_cannot_have_is_an_error(world: Deployment, loan: Loan) -> None:
    paid = world.pay_loan(loan, 5_250)
    with pytest.raises(PaymentError, match="it can be RETURNED, not CHARGED_BACK"):
        world.settle(event(paid.payment_id, SettlementOutcome.CHARGED_BACK))


def test_a_chargeback_of_a_pinless_payment_reverses_it(world: Deployment, loan: Loan) -> None:
    world.sim.down = set()
    paid = world.pay_loan(loan, 5_250)
    assert paid.rail is Rail.PINLESS
    world.settle(event(paid.payment_id, SettlementOutcome.COMPLETED, rail=Rail.PINLESS))
    chargeback = event(paid.payment_id, SettlementOutcome.CHARGED_BACK, 20, Rail.PINLESS)
    assert world.settle(chargeback) is SettlementHandling.REVERSED
    assert world.settle(chargeback) is SettlementHandling.DUPLICATE
    assert world.loan(loan.loan_id).payments[paid.payment_id].status is PaymentStatus.CHARGED_BACK


def test_a_failing_notifier_never_undoes_the_settlement(world: Deployment, loan: Loan) -> None:
    paid = world.pay_loan(loan, 5_250)
    world.notifier.failing = True
    world.settle(event(paid.payment_id, SettlementOutcome.RETURNED))
    assert world.loan(loan.loan_id).outstanding_balance == 31_500
    assert world.alert_titles() == ["notification payment_failed not sent; queued for a resend"]


def test_a_concurrent_writer_makes_the_handler_settle_on_a_fresh_read(
    world: Deployment, loan: Loan
) -> None:
    paid = world.pay_loan(loan, 5_250)
    racing = InterferingUnitOfWork(
        world.database, lambda: world.pay_loan(loan, 100, key="meanwhile")
    )
    returned = event(paid.payment_id, SettlementOutcome.RETURNED)
    settled = world.replacing(UnitOfWork, racing).handle(SettleTransfer(returned))
    assert settled.handling is SettlementHandling.REVERSED
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, len(stored.payments)) == (31_400, 2)


def test_disbursement_events_book_nothing_but_surprises_are_alerted(
    world: Deployment, loan: Loan
) -> None:
    """A completion books nothing; a return cancels the loan (test_returned_disbursement)."""
    key = disbursement_key("user-1", loan.application_id, Rail.ACH)
    ok = attrs.evolve(event(key, SettlementOutcome.COMPLETED), confirmation_id=loan.confirmation_id)
    assert world.settle(ok) is SettlementHandling.DISBURSEMENT
    assert world.alerts() == []
    assert (
        world.settle(attrs.evolve(ok, confirmation_id="another")) is SettlementHandling.DISBURSEMENT
    )
    assert (
        world.settle(attrs.evolve(ok, outcome=SettlementOutcome.RETURNED))
        is SettlementHandling.REVERSED
    )
    assert world.alert_titles() == [
        f"disbursement loan {loan.loan_id} does not record",
        f"disbursement of loan {loan.loan_id} came back: the loan is cancelled",
    ]
    with pytest.raises(NotFound):
        world.settle(
            event(disbursement_key("user-1", "app-x", Rail.ACH), SettlementOutcome.COMPLETED)
        )


@pytest.mark.parametrize(
    "occurred_at",
    [
        pytest.param(dt.datetime(2026, 3, 14, 12, tzinfo=dt.UTC), id="two months ahead"),
        pytest.param(dt.datetime(2030, 1, 14, 12, tzinfo=dt.UTC), id="years ahead"),
    ],
)
def test_a_return_dated_after_the_clock_is_booked_as_of_now_and_alerted(
    world: Deployment, loan: Loan, occurred_at: dt.datetime
) -> None:
    """A rail's wrong date never books money on a day that has not come: two months
    ahead it charged late fees as of then; years ahead the return was refused as a
    correction too old and dropped, and the payment stayed PENDING."""
    paid = world.pay_loan(loan, 5_250)
    ahead = settlement(paid.payment_id, SettlementOutcome.RETURNED, occurred_at, Rail.ACH)

    settled = world.bus.handle(SettleTransfer(ahead))

    assert settled.handling is SettlementHandling.REVERSED
    stored = world.loan(loan.loan_id)
    payment = stored.payments[paid.payment_id]
    assert (payment.status, stored.outstanding_balance) == (PaymentStatus.RETURNED, 31_500)
    assert [e.effective_date for e in world.ledger(loan.loan_id)][-1] == PAID_ON.date()
    [alert] = world.alerts()
    assert (alert.severity, alert.title, alert.details["occurred_at"]) == (
        Severity.WARNING,
        "settlement event dated after the clock: booked as of now",
        occurred_at.isoformat(),
    )


def test_an_event_a_few_minutes_ahead_of_the_clock_is_not_alerted(
    world: Deployment, loan: Loan
) -> None:
    paid = world.pay_loan(loan, 5_250)
    ahead = PAID_ON + dt.timedelta(minutes=4)
    completed = settlement(paid.payment_id, SettlementOutcome.COMPLETED, ahead, Rail.ACH)
    assert world.bus.handle(SettleTransfer(completed)).handling is SettlementHandling.SETTLED
    assert world.loan(loan.loan_id).payments[paid.payment_id].settled_on == PAID_ON.date()
    assert world.alerts() == []
