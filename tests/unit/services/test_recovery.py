"""Transfer intents and the recovery job: money that moved is booked once, whoever finishes it.

Each test kills a process at one recovery point (`Crash`: whatever was not committed is
lost) and checks what a borrower and an auditor would see after the retry or the
recovery job: one transfer at the rail, one booking, nothing left open.
"""

from __future__ import annotations

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment
from fakes import (
    Crash,
    CrashingUnitOfWork,
    FakeRails,
    crash_after,
    declining,
    meanwhile,
    settlement,
)

from loc_core.creditline import CreditLine, DrawStatus
from loc_core.errors import ExternalServiceError, IdempotencyConflict, Overpayment
from loc_core.installment import Loan, LoanStatus
from loc_core.intents import INTENT_RETENTION, IntentStatus, TransferIntent
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import PaymentRails, Severity, TransferRequest, TransferResult, UnitOfWork
from loc_core.services.commands import (
    AcceptOffer,
    CollectionOutcome,
    MakePayment,
    RecoverTransfers,
    RecoveryReport,
    SettlementHandling,
)
from loc_core.services.lines import due_payment_id
from loc_core.services.loans import PAYMENT_LEASE
from loc_core.services.moving import RECOVERY_AFTER
from loc_core.testing.installment import ledger_problems

LATER = RECOVERY_AFTER + dt.timedelta(minutes=1)


@pytest.fixture
def world() -> Deployment:
    made = Deployment.build()
    made.users.add("user-1")
    return made


@pytest.fixture
def loan(world: Deployment) -> Loan:
    made = world.open_loan()
    world.at(dt.date(2026, 1, 12))
    return made


def intents(world: Deployment) -> list[TransferIntent]:
    """Every intent still open, whatever its age."""
    with world.bus.get(UnitOfWork) as uow:
        refs = uow.intents.open_before(dt.datetime.max.replace(tzinfo=dt.UTC))
        return [uow.intents.get(ref.user_id, ref.intent_id) for ref in refs]


def recover(world: Deployment) -> RecoveryReport:
    world.clock.advance(LATER)
    return world.bus.handle(RecoverTransfers())


def crash_paying(world: Deployment, loan: Loan, amount: int = 5_250) -> None:
    """The payment's process dies after pinless took the money, before the booking."""
    world.rails.handler = crash_after(world.sim, {Rail.PINLESS})
    with pytest.raises(Crash):
        world.pay_loan(loan, amount)
    world.rails.handler = world.sim.submit


# --- the command's retry --------------------------------------------------------------


def test_a_retry_a_day_after_a_crash_resumes_the_payment_and_never_pays_twice(
    world: Deployment, loan: Loan
) -> None:
    crash_paying(world, loan)
    assert world.loan(loan.loan_id).payments == {}
    world.clock.advance(dt.timedelta(days=1))
    receipt = world.pay_loan(loan, 5_250)  # not refused as "still running"
    assert receipt.loan_outstanding_balance == 31_500 - 5_250
    assert len(world.sim.submitted) == 2  # the disbursement and one debit
    assert intents(world) == []


def test_the_same_key_for_another_amount_after_a_crash_is_refused(
    world: Deployment, loan: Loan
) -> None:
    crash_paying(world, loan)
    with pytest.raises(IdempotencyConflict, match="not 9000"):
        world.pay_loan(loan, 9_000)
    assert world.loan(loan.loan_id).payments == {}
    assert recover(world).booked == 1
    (payment,) = world.loan(loan.loan_id).payments.values()
    assert payment.amount == 5_250  # what the rail took, not what the second request said


# --- the recovery job -----------------------------------------------------------------


def test_the_recovery_job_books_a_payment_whose_process_died_after_the_rail(
    world: Deployment, loan: Loan
) -> None:
    crash_paying(world, loan)
    assert world.bus.handle(RecoverTransfers()) == RecoveryReport()  # too young: a live attempt
    report = recover(world)
    assert (report.examined, report.booked, report.still_open) == (1, 1, 0)
    stored = world.loan(loan.loan_id)
    assert stored.outstanding_balance == 31_500 - 5_250
    assert ledger_problems(stored, world.ledger(loan.loan_id)) == []
    assert len(world.sim.submitted) == 2
    assert intents(world) == []
    assert recover(world) == RecoveryReport()  # a second run finds nothing
    assert world.pay_loan(loan, 5_250).loan_outstanding_balance == 31_500 - 5_250


def test_the_recovery_job_abandons_a_movement_no_rail_received(
    world: Deployment, loan: Loan
) -> None:
    def die_before_asking(_request: TransferRequest) -> TransferResult:
        raise Crash("the process died before the rail call")

    world.rails.handler = die_before_asking
    with pytest.raises(Crash):
        world.pay_loan(loan, 5_250)
    world.rails.handler = world.sim.submit
    report = recover(world)
    assert (report.abandoned, report.booked) == (1, 0)
    assert world.loan(loan.loan_id).payments == {}
    assert len(world.sim.submitted) == 1  # the recovery job never moves money itself
    assert intents(world) == []


def test_a_rail_that_cannot_tell_leaves_the_intent_open_and_alerts(
    world: Deployment, loan: Loan
) -> None:
    crash_paying(world, loan)

    class Silent(FakeRails):
        def find(self, idempotency_key: str) -> TransferResult | None:
            raise ExternalServiceError(f"the rail did not answer for {idempotency_key}")

    quiet = world.replacing(PaymentRails, Silent(world.sim.submit))
    world.clock.advance(LATER)
    report = quiet.handle(RecoverTransfers())
    assert (report.failed, report.still_open) == (1, 1)
    assert "money movement left open" in " ".join(
        alert.title for alert in world.alerts(Severity.CRITICAL)
    )
    assert [intent.status for intent in intents(world)] == [IntentStatus.PENDING]
    assert recover(world).booked == 1  # the next run, with the rail answering, books it


# --- settlement events that arrive before the booking ---------------------------------


def test_a_return_that_arrives_before_the_booking_is_applied_once_it_lands(
    world: Deployment, loan: Loan
) -> None:
    no_card = FakeRails(declining(world.sim, {Rail.PINLESS}))
    world.rails.handler = crash_after(no_card, {Rail.ACH})
    with pytest.raises(Crash):
        world.pay_loan(loan, 5_250)
    world.rails.handler = no_card.submit
    key = f"manual:{loan.loan_id}:pay-1:ach"
    returned = settlement(key, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    assert world.settle(returned) is SettlementHandling.HELD
    assert world.settle(returned) is SettlementHandling.HELD  # a repeat is kept once
    assert recover(world).booked == 1
    stored = world.loan(loan.loan_id)
    assert stored.payments[key].status is PaymentStatus.RETURNED
    assert stored.outstanding_balance == 31_500  # the return undid exactly the payment
    assert ledger_problems(stored, world.ledger(loan.loan_id)) == []
    assert world.settle(returned) is SettlementHandling.DUPLICATE
    assert intents(world) == []


# --- the other movements ----------------------------------------------------------------


def test_a_disbursement_recovered_keeps_the_borrowers_autopay_choice() -> None:
    world = Deployment.build()
    world.users.add("user-1")
    offer = world.apply_loan()
    world.rails.handler = crash_after(world.sim, {Rail.PINLESS})
    with pytest.raises(Crash):
        world.bus.handle(AcceptOffer("user-1", offer.application_id, autopay_enabled=False))
    world.clock.advance(dt.timedelta(days=2))  # the offer lapses meanwhile
    assert recover(world).booked == 1
    with world.bus.get(UnitOfWork) as uow:
        (loan,) = uow.loans.for_user("user-1")
    assert (loan.status, loan.autopay_enabled, loan.amount_disbursed) == (
        LoanStatus.OPEN,
        False,
        30_000,
    )
    assert world.sent() == ["loan_disbursed"]
    assert len(world.sim.submitted) == 1


def test_a_draw_whose_process_died_before_any_rail_fails_and_releases_its_hold() -> None:
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()

    def die_before_asking(_request: TransferRequest) -> TransferResult:
        raise Crash("the process died before the rail call")

    world.rails.handler = die_before_asking
    with pytest.raises(Crash):
        world.draw(line, 30_000)
    assert world.line(line).available_credit == 70_000
    world.rails.handler = world.sim.submit
    assert recover(world).abandoned == 1
    stored = world.line(line)
    (draw,) = stored.draws.values()
    assert (draw.status, stored.available_credit) == (DrawStatus.FAILED, 100_000)
    assert world.sim.submitted == []
    assert world.sent() == ["loc_draw_failed"]  # told by this run, not the job's next one
    recover(world)
    assert world.sent() == ["loc_draw_failed"]


def test_a_due_debit_whose_commit_failed_is_booked_before_the_overdue_job_runs() -> None:
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line: CreditLine = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    due = dt.date(2026, 4, 27)
    world.at(due, 15)
    crashing = world.using(UnitOfWork, CrashingUnitOfWork(world.database, on_commit=2))
    assert crashing.due().failed == (line.line_id,)
    assert world.line(line).payments == {}
    world.at(due, 15)
    report = recover(world)  # 15:45 in the schedule, before the overdue job at 16:00
    assert report.booked == 1
    key = due_payment_id(line.line_id, due, Rail.PINLESS)
    assert world.line(line).payments[key].amount == 1_989
    world.at(due + dt.timedelta(days=1), 16)
    world.overdue()
    stored = world.line(line)
    assert (stored.fee_balance, stored.status.value) == (0, "ACTIVE")  # no late fee


def test_an_autopay_answer_that_outlasts_its_lease_is_booked_by_the_payoff_that_took_it_over(
    world: Deployment,
) -> None:
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 20))  # the first installment is due
    refused: list[Overpayment] = []

    def slow_rail_then_payoff(_request: TransferRequest) -> None:
        world.clock.advance(PAYMENT_LEASE + dt.timedelta(seconds=1))  # the lease ran out
        owed = world.loan(loan.loan_id).outstanding_balance
        try:  # the payoff takes the lease over and books the autopay the rail took first
            world.another_process().handle(MakePayment("user-1", loan.loan_id, owed, "payoff"))
        except Overpayment as exc:  # so the quote it was sized by is stale
            refused.append(exc)

    world.rails.handler = meanwhile(world.sim, slow_rail_then_payoff)
    charged = world.collect(loan)  # its own booking finds it booked: nothing twice
    assert charged.outcome is CollectionOutcome.CHARGED
    world.rails.handler = world.sim.submit
    assert len(refused) == 1
    assert recover(world).booked == 0
    stored = world.loan(loan.loan_id)
    assert (stored.status, stored.refunds_due) == (LoanStatus.OPEN, 0)
    assert [p.amount for p in stored.payments.values()] == [stored.installments[0].total_amount]
    assert ledger_problems(stored, world.ledger(loan.loan_id)) == []
    assert intents(world) == []


def test_a_finished_intent_is_forgotten_after_its_retention_an_open_one_never(
    world: Deployment, loan: Loan
) -> None:
    other = world.open_loan("user-2")
    crash_paying(world, other, 5_250)  # left open (another loan: it holds back this one's debits)
    world.pay_loan(loan, 1_000, key="pay-2")  # finished
    with world.bus.get(UnitOfWork) as uow:
        assert uow.intents.find(f"manual:{loan.loan_id}:pay-2") is not None
    world.clock.advance(INTENT_RETENTION + dt.timedelta(days=1))
    world.pay_loan(loan, 1_000, key="pay-3")  # any later write expires what is due
    with world.bus.get(UnitOfWork) as uow:
        assert uow.intents.find(f"manual:{loan.loan_id}:pay-2") is None
        assert uow.intents.find(f"manual:{loan.loan_id}:pay-3") is not None
    (still_open,) = intents(world)
    assert still_open.intent_id == f"manual:{other.loan_id}:pay-1"
    assert recover(world).booked == 1  # an open intent outlives any retention
