"""The collections job and worker: autopay charges each installment at most once per attempt."""

import datetime as dt
import threading
from collections.abc import Sequence

import attrs
import pytest
from deployment import Deployment
from fakes import (
    Crash,
    CrashingUnitOfWork,
    FakeRails,
    InterferingUnitOfWork,
    SerialLock,
    declining,
    meanwhile,
    serial,
)

from loc_adapters.memory import InMemoryQueue, RailBehaviour
from loc_core.errors import ExternalServiceError, LockNotAcquired, MalformedMessage, NotFound
from loc_core.installment import InstallmentStatus, Loan, Process
from loc_core.payments import Direction, PaymentStatus, Rail
from loc_core.ports import (
    Lock,
    QueueMessage,
    ReceivedMessage,
    Severity,
    TransferRequest,
    UnitOfWork,
    WorkQueue,
)
from loc_core.services.commands import (
    COLLECT_INSTALLMENT,
    CollectInstallment,
    CollectionOutcome,
    CollectionResult,
    EnqueueDueInstallments,
    SetAutopay,
)
from loc_core.services.loans import autopay_payment_id, payment_lease_key
from loc_core.testing.installment import ledger_problems

DUE = dt.date(2026, 1, 20)  # the first installment's due date


@pytest.fixture
def loan(world: Deployment) -> Loan:
    made = world.open_loan()
    world.at(DUE)
    return made


def first_id(loan: Loan) -> str:
    return loan.installments[0].installment_id


def collection(loan: Loan, worker: str) -> CollectInstallment:
    """The message for the loan's first installment, as `worker` takes it."""
    first = loan.installments[0]
    return CollectInstallment(
        loan.user_id, loan.loan_id, first.installment_id, first.due_date, worker_id=worker
    )


def enqueue(world: Deployment) -> int:
    return world.bus.handle(EnqueueDueInstallments())


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
    world: Deployment,
) -> None:
    loans = [world.open_loan(f"user-{n:02d}") for n in range(12)]
    world.at(dt.date(2026, 1, 19))
    world.pay_loan(loans[0], 5_250, key="early")  # paid ahead: COMPLETED, not enqueued
    world.at(DUE)
    queue = BatchRecordingQueue(world.queue)
    sent = world.replacing(WorkQueue, queue).handle(EnqueueDueInstallments())
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


def test_past_due_installments_are_enqueued_again_until_overdue(world: Deployment) -> None:
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 19))
    assert enqueue(world) == 0
    for day in (20, 23, 24):
        world.at(dt.date(2026, 1, day))
        assert enqueue(world) == 1
    world.at(dt.date(2026, 1, 25))
    world.run_daily_loan_job()
    assert world.loan(loan.loan_id).installments[0].status is InstallmentStatus.OVERDUE
    assert enqueue(world) == 0


@pytest.mark.usefixtures("loan")
def test_running_the_job_twice_charges_once(world: Deployment) -> None:
    enqueue(world)
    results = world.run_collections()
    assert [r.outcome for r in results] == [CollectionOutcome.CHARGED, CollectionOutcome.SKIPPED]
    assert results[1].reason == "PAID"
    assert len(world.sim.submitted) == 2


def test_a_message_is_read_back_and_a_malformed_one_is_refused() -> None:
    command = CollectInstallment("u", "l", "i", DUE)
    assert CollectInstallment.from_message(command.message(DUE)) == command
    with pytest.raises(MalformedMessage, match="not a collect_installment"):
        CollectInstallment.from_message(QueueMessage("reconcile_loan", {}, "x"))
    with pytest.raises(MalformedMessage, match="no loan_id"):
        CollectInstallment.from_message(QueueMessage(COLLECT_INSTALLMENT, {"user_id": "u"}, "x"))
    bad_date = {"user_id": "u", "loan_id": "l", "installment_id": "i", "due_date": "soon"}
    with pytest.raises(MalformedMessage, match="due_date must be a YYYY-MM-DD date"):
        CollectInstallment.from_message(QueueMessage(COLLECT_INSTALLMENT, bad_date, "x"))


# --- the worker ------------------------------------------------------------------------


def test_the_worker_charges_the_installment_by_pinless_and_records_the_attempt(
    world: Deployment, loan: Loan
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
    debit = world.sim.submitted[-1]
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


def test_the_same_message_twice_charges_once(world: Deployment, loan: Loan) -> None:
    assert world.collect(loan).outcome is CollectionOutcome.CHARGED
    again = world.collect(loan)
    assert (again.outcome, again.reason) == (CollectionOutcome.SKIPPED, "PAID")
    world.at(DUE, hour=16)
    world.settle_due()  # the pinless debit completes the same day
    assert len(world.sim.submitted) == 2
    assert world.sent() == ["loan_disbursed", "payment_succeeded"]


def test_guards_skip_without_charging(world: Deployment, loan: Loan) -> None:
    assert world.collect(loan, 2).reason == "NOT_DUE"
    world.pay_loan(loan, 100, key="a-little")  # pending until the rail settles it
    assert world.collect(loan).reason == "PAYMENT_PENDING"
    world.at(DUE, hour=16)
    world.settle_due()
    world.bus.handle(SetAutopay("user-1", loan.loan_id, enabled=False))
    assert world.collect(loan).reason == "AUTOPAY_OFF"
    assert len(world.sim.submitted) == 2  # the disbursement and the manual payment
    assert world.metrics.count("loc.loans.collections.skipped") == 3


def test_a_declined_charge_is_recorded_and_attempts_stop_at_three(
    world: Deployment, loan: Loan
) -> None:
    world.sim.behaviour = RailBehaviour(decline_probability=1)
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
    assert len(world.sim.submitted) == 1


def test_every_rail_down_records_no_attempt_and_is_alerted(world: Deployment, loan: Loan) -> None:
    world.sim.down = {Rail.PINLESS, Rail.ACH}
    with pytest.raises(ExternalServiceError):
        world.collect(loan)
    [alert] = world.alerts()
    assert (alert.severity, alert.title) == (
        Severity.CRITICAL,
        f"every payment rail is down: autopay of installment {first_id(loan)}",
    )
    assert world.loan(loan.loan_id).installments[0].collection_attempts == 0
    world.sim.down = {Rail.PINLESS}
    result = world.collect(loan)  # the redelivery, once ACH is back
    assert (result.outcome, result.rail, result.attempt) == (CollectionOutcome.CHARGED, Rail.ACH, 1)


def test_a_worker_waits_while_another_holds_the_loan(world: Deployment, loan: Loan) -> None:
    world.lock.acquire(
        payment_lease_key("user-1", loan.loan_id), owner="worker-2", ttl=dt.timedelta(minutes=2)
    )
    with pytest.raises(LockNotAcquired):
        world.collect(loan)
    assert len(world.sim.submitted) == 1
    assert world.loan(loan.loan_id).installments[0].collection_attempts == 0


def test_an_unknown_loan_is_not_found(world: Deployment, loan: Loan) -> None:
    with pytest.raises(NotFound):
        world.bus.handle(CollectInstallment("user-1", "loan-x", "i-1", DUE))
    with pytest.raises(NotFound):
        world.bus.handle(CollectInstallment("user-1", loan.loan_id, "i-x", DUE))


def in_another_process(
    world: Deployment, loan: Loan, worker: str, lock: Lock
) -> CollectionOutcome | LockNotAcquired:
    """`worker` takes the message in a process (a thread) of its own that shares `lock`."""
    try:
        return world.another_process({Lock: lock}).handle(collection(loan, worker)).outcome
    except LockNotAcquired as exc:
        return exc


def test_two_workers_racing_on_one_installment_charge_it_once(
    world: Deployment, loan: Loan
) -> None:
    """Two threads take the same message; the first holds the lease inside the rail call."""
    lock = SerialLock(world.lock)
    inside_rail, let_go = threading.Event(), threading.Event()

    def slow(_: TransferRequest) -> None:
        inside_rail.set()
        assert let_go.wait(5)

    world.rails.handler = meanwhile(FakeRails(serial(world.sim)), slow)
    outcomes: dict[str, object] = {}

    def worker(name: str) -> None:
        outcomes[name] = in_another_process(world, loan, name, lock)

    first = threading.Thread(target=worker, args=("worker-a",))
    first.start()
    assert inside_rail.wait(5)
    second = threading.Thread(target=worker, args=("worker-b",))
    second.start()
    second.join(5)
    let_go.set()
    first.join(5)
    assert outcomes["worker-a"] is CollectionOutcome.CHARGED
    assert isinstance(outcomes["worker-b"], LockNotAcquired)
    assert world.collect(loan, worker="worker-b").reason == "PAID"  # redelivered
    assert len(world.sim.submitted) == 2
    assert world.loan(loan.loan_id).outstanding_balance == 26_250


def test_two_threads_released_together_charge_once(world: Deployment, loan: Loan) -> None:
    lock = SerialLock(world.lock)
    world.rails.handler = serial(world.sim)
    start = threading.Barrier(8)
    outcomes: list[object] = []

    def worker(name: str) -> None:
        start.wait(5)
        outcomes.append(in_another_process(world, loan, name, lock))

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert outcomes.count(CollectionOutcome.CHARGED) == 1
    assert len(outcomes) == 8
    assert len(world.sim.submitted) == 2
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, stored.installments[0].collection_attempts) == (26_250, 1)


def crash_collecting(world: Deployment, loan: Loan) -> None:
    """The worker's process dies after the rail accepted, before its commit."""
    with pytest.raises(Crash, match="died"):
        world.crashing_uow(lambda db: CrashingUnitOfWork(db, on_commit=2)).handle(
            collection(loan, "worker-1")
        )


def test_a_crash_after_the_rail_accepted_is_finished_by_the_retry_without_a_second_charge(
    world: Deployment, loan: Loan
) -> None:
    crash_collecting(world, loan)
    assert world.alert_titles() == ["money moved but not booked: autopay"]
    assert world.loan(loan.loan_id).payments == {}
    result = world.collect(loan)  # the queue delivers the message again
    assert (result.outcome, result.attempt) == (CollectionOutcome.CHARGED, 1)
    assert len(world.sim.submitted) == 2
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, stored.installments[0].collection_attempts) == (26_250, 1)
    assert ledger_problems(stored, world.ledger(loan.loan_id)) == []


def test_a_crash_retried_the_next_day_still_charges_once(world: Deployment, loan: Loan) -> None:
    crash_collecting(world, loan)
    world.at(DUE + dt.timedelta(days=1))
    result = world.collect(loan)
    assert (result.outcome, result.payment_id) == (
        CollectionOutcome.CHARGED,
        autopay_payment_id(first_id(loan), 1, Rail.PINLESS),
    )
    assert len(world.sim.submitted) == 2


def test_a_worker_whose_lease_ran_out_mid_charge_does_not_book_twice(
    world: Deployment, loan: Loan
) -> None:
    """Worker A stalls in the rail call past its lease; B takes over, then A wakes up."""
    taken_over: list[CollectionResult] = []

    def stall_then_b_runs(_: TransferRequest) -> None:
        world.clock.advance(dt.timedelta(minutes=3))
        taken_over.append(world.another_process().handle(collection(loan, "worker-b")))

    world.rails.handler = meanwhile(world.sim, stall_then_b_runs)
    result = world.collect(loan, worker="worker-a")
    assert [r.outcome for r in taken_over] == [CollectionOutcome.CHARGED]
    assert result.outcome is CollectionOutcome.CHARGED  # A finds its payment already booked
    assert len(world.sim.submitted) == 2
    stored = world.loan(loan.loan_id)
    assert (len(stored.payments), stored.installments[0].collection_attempts) == (1, 1)
    assert world.sent() == ["loan_disbursed"]


def test_a_concurrent_writer_before_the_commit_does_not_lose_the_charge(
    world: Deployment, loan: Loan
) -> None:
    def autopay_off() -> None:  # a writer holding no lease (not SetAutopay: refused)
        world.edit_loan(
            loan,
            lambda stored: stored.set_autopay(False, today=world.today, reason="another writer"),
        )

    racing = InterferingUnitOfWork(world.database, autopay_off)
    charged = world.replacing(UnitOfWork, racing).handle(collection(loan, "worker-1"))
    assert charged.outcome is CollectionOutcome.CHARGED
    stored = world.loan(loan.loan_id)
    assert (stored.outstanding_balance, stored.autopay_enabled) == (26_250, False)
    assert stored.installments[0].collection_attempts == 1
    assert all(p.status is PaymentStatus.PENDING for p in stored.payments.values())


def test_a_decline_and_an_unreachable_rail_is_retried_later_not_counted(
    world: Deployment, loan: Loan
) -> None:
    """The borrower's card declines and ACH cannot be reached."""
    world.rails.handler = declining(world.sim, {Rail.PINLESS}, "card declined")
    world.sim.down = {Rail.ACH}
    with pytest.raises(
        ExternalServiceError, match="pinless declined: pinless card declined; ach unreachable"
    ):
        world.collect(loan)
    assert world.alerts() == []  # one rail answered: not an outage
    assert world.loan(loan.loan_id).installments[0].collection_attempts == 0
    world.sim.down = set()
    result = world.collect(loan)
    assert (result.outcome, result.rail, result.attempt) == (CollectionOutcome.CHARGED, Rail.ACH, 1)
    assert world.metrics.counters["loc.loans.collections.charged", ("rail:ach",)] == 1
