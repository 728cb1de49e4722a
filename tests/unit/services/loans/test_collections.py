"""The collections job and worker: autopay charges each installment at most once per attempt."""

import datetime as dt
import threading
from collections.abc import Sequence

import attrs
import pytest
from unit.services.loans.harness import (
    CommitDuring,
    CrashingUnitOfWork,
    RailsDuring,
    SerialLock,
    SerialRails,
    World,
)

from loc_adapters.memory import InMemoryQueue, RailBehaviour, SimulatedRails
from loc_core.errors import DomainError, ExternalServiceError, LockNotAcquired, NotFound
from loc_core.installment import InstallmentStatus, Loan, Process
from loc_core.payments import Direction, PaymentStatus, Rail
from loc_core.ports import (
    QueueMessage,
    ReceivedMessage,
    Severity,
    TransferRequest,
    TransferResult,
)
from loc_core.services.loans import (
    COLLECT_INSTALLMENT,
    CollectInstallment,
    CollectionOutcome,
    SetAutopay,
    autopay_payment_id,
    enqueue_due_installments,
    payment_lease_key,
    run_daily_loan_job,
    set_autopay,
)
from loc_core.testing.installment import ledger_problems

DUE = dt.date(2026, 1, 20)  # the first installment's due date


@pytest.fixture
def world() -> World:
    return World.in_memory()


@pytest.fixture
def loan(world: World) -> Loan:
    made = world.open_loan()
    world.at(DUE)
    return made


def first_id(loan: Loan) -> str:
    return loan.installments[0].installment_id


# --- the job ---------------------------------------------------------------------------


@attrs.define
class BatchRecordingQueue:
    queue: InMemoryQueue
    batches: list[int] = attrs.field(factory=list)

    def send(self, messages: Sequence[QueueMessage]) -> None:
        self.batches.append(len(messages))
        self.queue.send(messages)

    def receive(self, *, max_messages: int, visibility: dt.timedelta) -> list[ReceivedMessage]:
        return self.queue.receive(max_messages=max_messages, visibility=visibility)

    def ack(self, received: ReceivedMessage) -> None:
        self.queue.ack(received)


def test_the_job_enqueues_installments_due_today_and_past_due_in_batches_of_ten(
    world: World,
) -> None:
    loans = [world.open_loan(f"user-{n:02d}") for n in range(12)]
    world.at(dt.date(2026, 1, 19))
    world.pay(loans[0], 5_250, key="early")  # paid ahead: COMPLETED, not enqueued
    world.at(DUE)
    queue = BatchRecordingQueue(world.queue)
    sent = enqueue_due_installments(
        uow=world.new_uow(), queue=queue, clock=world.clock, metrics=world.metrics
    )
    assert sent == 11
    assert queue.batches == [10, 1]
    received = world.queue.receive(max_messages=20, visibility=dt.timedelta(minutes=1))
    first = received[0].message
    assert (first.kind, first.deduplication_id) == (
        COLLECT_INSTALLMENT,
        f"{first.body['installment_id']}:2026-01-20",
    )
    assert first.body == {
        "user_id": "user-01",
        "loan_id": loans[1].loan_id,
        "installment_id": first_id(loans[1]),
        "due_date": "2026-01-20",
    }
    assert world.metrics.gauges["loc.loans.collections.enqueued", ()] == 11


def test_past_due_installments_are_enqueued_again_until_overdue(world: World) -> None:
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 19))
    assert enqueue_due_installments(uow=world.new_uow(), queue=world.queue, clock=world.clock) == 0
    for day in (20, 23, 24):
        world.at(dt.date(2026, 1, day))
        assert (
            enqueue_due_installments(uow=world.new_uow(), queue=world.queue, clock=world.clock) == 1
        )
    world.at(dt.date(2026, 1, 25))
    run_daily_loan_job(
        uow=world.new_uow(), clock=world.clock, notifier=world.notifier, alerter=world.alerter
    )
    assert world.loan(loan.loan_id).installments[0].status is InstallmentStatus.OVERDUE
    assert enqueue_due_installments(uow=world.new_uow(), queue=world.queue, clock=world.clock) == 0


@pytest.mark.usefixtures("loan")
def test_running_the_job_twice_charges_once(world: World) -> None:
    enqueue_due_installments(uow=world.new_uow(), queue=world.queue, clock=world.clock)
    results = world.run_collections()
    assert [r.outcome for r in results] == [CollectionOutcome.CHARGED, CollectionOutcome.SKIPPED]
    assert results[1].reason == "PAID"
    assert len(world.rails.submitted) == 2


def test_a_message_is_read_back_and_a_malformed_one_is_refused() -> None:
    command = CollectInstallment("u", "l", "i", DUE)
    assert CollectInstallment.from_message(command.message(DUE)) == command
    with pytest.raises(DomainError, match="not a collect_installment"):
        CollectInstallment.from_message(QueueMessage("reconcile_loan", {}, "x"))
    with pytest.raises(DomainError, match="needs a loan_id"):
        CollectInstallment.from_message(QueueMessage(COLLECT_INSTALLMENT, {"user_id": "u"}, "x"))
    bad_date = {"user_id": "u", "loan_id": "l", "installment_id": "i", "due_date": "soon"}
    with pytest.raises(DomainError, match="malformed"):
        CollectInstallment.from_message(QueueMessage(COLLECT_INSTALLMENT, bad_date, "x"))


# --- the worker ------------------------------------------------------------------------


def test_the_worker_charges_the_installment_by_pinless_and_records_the_attempt(
    world: World, loan: Loan
) -> None:
    result = world.collect(loan)
    payment_id = autopay_payment_id(first_id(loan), 1, Rail.PINLESS)
    assert (result.outcome, result.payment_id, result.amount, result.rail, result.attempt) == (
        CollectionOutcome.CHARGED,
        payment_id,
        5_250,
        Rail.PINLESS,
        1,
    )
    debit = world.rails.submitted[-1]
    assert (debit.direction, debit.amount, debit.idempotency_key) == (
        Direction.DEBIT,
        5_250,
        payment_id,
    )
    stored = world.loan(loan.loan_id)
    first = stored.installments[0]
    assert (first.status, first.collection_attempts, first.last_collection_attempt_on) == (
        InstallmentStatus.COMPLETED,
        1,
        DUE,
    )
    assert stored.payments[payment_id].process is Process.AUTOPAY
    assert world.audit_processes("installment", first.installment_id) == [
        "CREATION",
        "AUTOPAY",
        "AUTOPAY",
    ]
    assert ledger_problems(stored, world.ledger(loan.loan_id)) == []
    assert world.metrics.count("loc.loans.collections.charged") == 1
    assert world.lock.acquire(  # the lease was released
        payment_lease_key("user-1", loan.loan_id), owner="someone", ttl=dt.timedelta(seconds=1)
    )


def test_the_same_message_twice_charges_once(world: World, loan: Loan) -> None:
    assert world.collect(loan).outcome is CollectionOutcome.CHARGED
    again = world.collect(loan)
    assert (again.outcome, again.reason) == (CollectionOutcome.SKIPPED, "PAID")
    world.at(DUE, hour=16)
    world.settle_due()  # the pinless debit completes the same day
    assert len(world.rails.submitted) == 2
    assert world.sent() == ["loan_disbursed", "payment_succeeded"]


def test_guards_skip_without_charging(world: World, loan: Loan) -> None:
    assert world.collect(loan, 2).reason == "NOT_DUE"
    world.pay(loan, 100, key="a-little")  # pending until the rail settles it
    assert world.collect(loan).reason == "PAYMENT_PENDING"
    world.at(DUE, hour=16)
    world.settle_due()
    set_autopay(
        SetAutopay("user-1", loan.loan_id, enabled=False), uow=world.new_uow(), clock=world.clock
    )
    assert world.collect(loan).reason == "AUTOPAY_OFF"
    assert len(world.rails.submitted) == 2  # the disbursement and the manual payment
    assert world.metrics.count("loc.loans.collections.skipped") == 3


def test_a_declined_charge_is_recorded_and_attempts_stop_at_three(world: World, loan: Loan) -> None:
    world.rails.behaviour = RailBehaviour(decline_probability=1)
    for day in (20, 21, 22):
        world.at(dt.date(2026, 1, day))
        result = world.collect(loan)
        assert result.outcome is CollectionOutcome.DECLINED
        assert result.reason.startswith("pinless: declined by the simulated rail; ach: ")
        again = "ATTEMPTED_TODAY" if day < 22 else "ATTEMPTS_EXHAUSTED"
        assert world.collect(loan).reason == again
    world.at(dt.date(2026, 1, 23))
    assert world.collect(loan).reason == "ATTEMPTS_EXHAUSTED"
    first = world.loan(loan.loan_id).installments[0]
    assert (first.collection_attempts, first.outstanding_balance) == (3, 5_250)
    assert first.update_reason.startswith("autopay attempt 3: declined (pinless: ")
    assert world.loan(loan.loan_id).payments == {}
    assert len(world.rails.submitted) == 1


def test_every_rail_down_records_no_attempt_and_is_alerted(world: World, loan: Loan) -> None:
    world.rails.down = {Rail.PINLESS, Rail.ACH}
    with pytest.raises(ExternalServiceError):
        world.collect(loan)
    [alert] = world.alerter.posted
    assert (alert.severity, alert.title) == (
        Severity.CRITICAL,
        f"every payment rail is down: autopay of installment {first_id(loan)}",
    )
    assert world.loan(loan.loan_id).installments[0].collection_attempts == 0
    world.rails.down = {Rail.PINLESS}
    result = world.collect(loan)  # the redelivery, once ACH is back
    assert (result.outcome, result.rail, result.attempt) == (CollectionOutcome.CHARGED, Rail.ACH, 1)


def test_a_worker_waits_while_another_holds_the_loan(world: World, loan: Loan) -> None:
    world.lock.acquire(
        payment_lease_key("user-1", loan.loan_id), owner="worker-2", ttl=dt.timedelta(minutes=2)
    )
    with pytest.raises(LockNotAcquired):
        world.collect(loan)
    assert len(world.rails.submitted) == 1
    assert world.loan(loan.loan_id).installments[0].collection_attempts == 0


def test_an_unknown_loan_is_not_found(world: World, loan: Loan) -> None:
    with pytest.raises(NotFound):
        world.work(CollectInstallment("user-1", "loan-x", "i-1", DUE))
    with pytest.raises(NotFound):
        world.work(CollectInstallment("user-1", loan.loan_id, "i-x", DUE))


def test_two_workers_racing_on_one_installment_charge_it_once(world: World, loan: Loan) -> None:
    """Two threads take the same message; the first holds the lease inside the rail call."""
    lock, rails = SerialLock(world.lock), SerialRails(world.rails)
    world.lock = lock
    inside_rail, let_go = threading.Event(), threading.Event()

    def slow(_: TransferRequest) -> None:
        inside_rail.set()
        assert let_go.wait(5)

    outcomes: dict[str, object] = {}

    def worker(name: str, via: object) -> None:
        try:
            outcomes[name] = world.collect(loan, worker=name, rails=via).outcome  # type: ignore[arg-type]
        except LockNotAcquired as exc:
            outcomes[name] = exc

    first = threading.Thread(target=worker, args=("worker-a", RailsDuring(rails, during=slow)))
    first.start()
    assert inside_rail.wait(5)
    second = threading.Thread(target=worker, args=("worker-b", rails))
    second.start()
    second.join(5)
    let_go.set()
    first.join(5)
    assert outcomes["worker-a"] is CollectionOutcome.CHARGED
    assert isinstance(outcomes["worker-b"], LockNotAcquired)
    assert world.collect(loan, worker="worker-b").reason == "PAID"  # redelivered
    assert len(world.rails.submitted) == 2
    assert world.loan(loan.loan_id).outstanding_balance == 26_250


def test_two_threads_released_together_charge_once(world: World, loan: Loan) -> None:
    world.lock = SerialLock(world.lock)
    rails = SerialRails(world.rails)
    start = threading.Barrier(8)
    outcomes: list[object] = []

    def worker(name: str) -> None:
        start.wait(5)
        try:
            outcomes.append(world.collect(loan, worker=name, rails=rails).outcome)
        except LockNotAcquired:
            outcomes.append("lock held")

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert outcomes.count(CollectionOutcome.CHARGED) == 1
    assert len(outcomes) == 8
    assert len(world.rails.submitted) == 2
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, stored.installments[0].collection_attempts) == (26_250, 1)


def test_a_crash_after_the_rail_accepted_is_finished_by_the_retry_without_a_second_charge(
    world: World, loan: Loan
) -> None:
    assert world.database is not None
    with pytest.raises(RuntimeError, match="died"):
        world.collect(loan, uow=CrashingUnitOfWork(world.database))
    assert world.alerts() == ["money moved but not booked: autopay"]
    assert world.loan(loan.loan_id).payments == {}
    result = world.collect(loan)  # the queue delivers the message again
    assert (result.outcome, result.attempt) == (CollectionOutcome.CHARGED, 1)
    assert len(world.rails.submitted) == 2
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, stored.installments[0].collection_attempts) == (26_250, 1)
    assert ledger_problems(stored, world.ledger(loan.loan_id)) == []


def test_a_crash_retried_the_next_day_still_charges_once(world: World, loan: Loan) -> None:
    assert world.database is not None
    with pytest.raises(RuntimeError):
        world.collect(loan, uow=CrashingUnitOfWork(world.database))
    world.at(DUE + dt.timedelta(days=1))
    result = world.collect(loan)
    assert (result.outcome, result.payment_id) == (
        CollectionOutcome.CHARGED,
        autopay_payment_id(first_id(loan), 1, Rail.PINLESS),
    )
    assert len(world.rails.submitted) == 2


def test_a_worker_whose_lease_ran_out_mid_charge_does_not_book_twice(
    world: World, loan: Loan
) -> None:
    """Worker A stalls in the rail call past its lease; B takes over, then A wakes up."""
    taken_over: list[object] = []

    def stall_then_b_runs(_: TransferRequest) -> None:
        world.clock.advance(dt.timedelta(minutes=3))
        taken_over.append(world.collect(loan, worker="worker-b").outcome)

    result = world.collect(
        loan, worker="worker-a", rails=RailsDuring(world.rails, during=stall_then_b_runs)
    )
    assert taken_over == [CollectionOutcome.CHARGED]
    assert result.outcome is CollectionOutcome.CHARGED  # A finds its payment already booked
    assert len(world.rails.submitted) == 2
    stored = world.loan(loan.loan_id)
    assert (len(stored.payments), stored.installments[0].collection_attempts) == (1, 1)
    assert world.sent() == ["loan_disbursed"]


def test_a_concurrent_writer_before_the_commit_does_not_lose_the_charge(
    world: World, loan: Loan
) -> None:
    assert world.database is not None
    uow = CommitDuring(
        world.database,
        during=lambda: set_autopay(
            SetAutopay("user-1", loan.loan_id, enabled=False),
            uow=world.new_uow(),
            clock=world.clock,
        ),
    )
    assert world.collect(loan, uow=uow).outcome is CollectionOutcome.CHARGED
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, stored.autopay_enabled) == (26_250, False)
    assert stored.installments[0].collection_attempts == 1
    assert all(p.status is PaymentStatus.PENDING for p in stored.payments.values())


@attrs.define
class PinlessDeclines:
    """Rails where the borrower's card declines and ACH cannot be reached."""

    rails: SimulatedRails

    def submit(self, request: TransferRequest) -> TransferResult:
        if request.rail is Rail.PINLESS:
            return TransferResult(accepted=False, decline_reason="card declined")
        return self.rails.submit(request)


def test_a_decline_and_an_unreachable_rail_is_retried_later_not_counted(
    world: World, loan: Loan
) -> None:
    world.rails.down = {Rail.ACH}
    with pytest.raises(
        ExternalServiceError, match="pinless declined: card declined; ach unreachable"
    ):
        world.collect(loan, rails=PinlessDeclines(world.rails))
    assert world.alerts() == []  # one rail answered: not an outage
    assert world.loan(loan.loan_id).installments[0].collection_attempts == 0
    world.rails.down = set()
    result = world.collect(loan, rails=PinlessDeclines(world.rails))
    assert (result.outcome, result.rail, result.attempt) == (CollectionOutcome.CHARGED, Rail.ACH, 1)
    assert world.metrics.counters["loc.loans.collections.charged", ("rail:ach",)] == 1
