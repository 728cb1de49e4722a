"""A small in-memory deployment for the loan use cases, and the faults tests inject into it.

`World` wires every port to an in-memory adapter and offers one-line shortcuts for the
use cases, so a test reads as what happens to the borrower. The fault injectors wrap real
adapters: a unit of work whose commit crashes once, rails that run something in the
middle of a transfer (a concurrent writer, a crash), thread-safe wrappers for races.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import attrs

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryIdempotencyStore,
    InMemoryLock,
    InMemoryMetrics,
    InMemoryQueue,
    InMemoryUnitOfWork,
    InMemoryUsers,
    ManualClock,
    RailBehaviour,
    RecordingAlerter,
    RecordingNotifier,
    SequentialIds,
    SimulatedRails,
    SimulatedUnderwriting,
)
from loc_core.events import DomainEvent
from loc_core.installment import InstallmentProduct, Loan, LoanApplication
from loc_core.ledger import Ledger
from loc_core.ports import (
    Lease,
    Lock,
    PaymentRails,
    SettlementEvent,
    TransferRequest,
    TransferResult,
    Underwriting,
    UnitOfWork,
)
from loc_core.services.loans import (
    AcceptOffer,
    ApplyForLoan,
    CollectInstallment,
    CollectionResult,
    MakePayment,
    PaymentReceipt,
    SettlementHandling,
    accept_offer,
    apply_for_loan,
    collect_installment,
    enqueue_due_installments,
    make_payment,
    settle_payment,
)

OPENED = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)
"""Monday 5 January 2026, 15:00 UTC: the docs' example loan is disbursed then."""
QUIET = RailBehaviour(
    decline_probability=0,
    nsf_return_probability=0,
    unauthorized_return_probability=0,
    chargeback_probability=0,
)
"""Rails that accept everything and never reverse: each test adds the trouble it needs."""

UowFactory = Callable[[], UnitOfWork]


def memory_uow_factory(clock: ManualClock) -> tuple[UowFactory, InMemoryDatabase]:
    """A fresh in-memory database and a factory of units of work over it."""
    database = InMemoryDatabase(clock)
    return (lambda: InMemoryUnitOfWork(database)), database


@attrs.define
class World:
    """Every port of the loan use cases, in memory, around one manual clock."""

    clock: ManualClock
    new_uow: UowFactory
    rails: SimulatedRails
    database: InMemoryDatabase | None = None
    lock: Lock = attrs.field(
        default=attrs.Factory(lambda world: InMemoryLock(world.clock), takes_self=True)
    )
    users: InMemoryUsers = attrs.field(factory=InMemoryUsers)
    underwriting: Underwriting = attrs.field(
        factory=lambda: SimulatedUnderwriting(loan_approval_probability=1, fee_percent=Decimal(5))
    )
    ids: SequentialIds = attrs.field(factory=SequentialIds)
    idempotency: InMemoryIdempotencyStore = attrs.field(factory=InMemoryIdempotencyStore)
    queue: InMemoryQueue = attrs.field(
        default=attrs.Factory(lambda world: InMemoryQueue(world.clock), takes_self=True)
    )
    notifier: RecordingNotifier = attrs.field(factory=RecordingNotifier)
    alerter: RecordingAlerter = attrs.field(factory=RecordingAlerter)
    metrics: InMemoryMetrics = attrs.field(factory=InMemoryMetrics)
    product: InstallmentProduct = attrs.field(factory=InstallmentProduct)

    @classmethod
    def in_memory(cls, *, behaviour: RailBehaviour = QUIET, seed: int = 0) -> World:
        clock = ManualClock(OPENED)
        new_uow, database = memory_uow_factory(clock)
        rails = SimulatedRails(clock, seed=seed, behaviour=behaviour)
        return cls(clock=clock, new_uow=new_uow, rails=rails, database=database)

    # --- time -----------------------------------------------------------------------

    def at(self, day: dt.date, hour: int = 15) -> dt.date:
        """Move the clock to `hour`:00 UTC on `day`."""
        self.clock.set(dt.datetime.combine(day, dt.time(hour, tzinfo=dt.UTC)))
        return day

    @property
    def today(self) -> dt.date:
        return self.clock.now().date()

    # --- reads ----------------------------------------------------------------------

    def loan(self, loan_id: str, user_id: str = "user-1") -> Loan:
        with self.new_uow() as uow:
            return uow.loans.get(user_id, loan_id)

    def application(self, application_id: str, user_id: str = "user-1") -> LoanApplication:
        with self.new_uow() as uow:
            return uow.loan_applications.get(user_id, application_id)

    def ledger(self, loan_id: str) -> Ledger:
        with self.new_uow() as uow:
            return Ledger(uow.journal.entries_for(loan_id))

    def audit_processes(self, entity: str, entity_id: str) -> list[str]:
        with self.new_uow() as uow:
            return [r.change.process for r in uow.audit.records_for(entity, entity_id)]

    def sent(self) -> list[str]:
        """The notifications sent, by type."""
        return [event.type.value for event in self.notifier.sent]

    def alerts(self) -> list[str]:
        return [alert.title for alert in self.alerter.posted]

    # --- use cases ------------------------------------------------------------------

    def apply(
        self, user_id: str = "user-1", amount: int = 30_000, key: str = "apply-1"
    ) -> LoanApplication:
        return apply_for_loan(
            ApplyForLoan(user_id, amount, key),
            uow=self.new_uow(),
            users=self.users,
            underwriting=self.underwriting,
            ids=self.ids,
            lock=self.lock,
            idempotency=self.idempotency,
            clock=self.clock,
            product=self.product,
            metrics=self.metrics,
        )

    def accept(
        self,
        application_id: str,
        user_id: str = "user-1",
        *,
        autopay: bool = True,
        uow: UnitOfWork | None = None,
        rails: PaymentRails | None = None,
    ) -> Loan:
        return accept_offer(
            AcceptOffer(user_id, application_id, autopay_enabled=autopay),
            uow=uow or self.new_uow(),
            rails=rails or self.rails,
            users=self.users,
            ids=self.ids,
            clock=self.clock,
            notifier=self.notifier,
            alerter=self.alerter,
            product=self.product,
            metrics=self.metrics,
        )

    def open_loan(
        self, user_id: str = "user-1", amount: int = 30_000, *, autopay: bool = True
    ) -> Loan:
        """A borrower applies and accepts at once: the loan is disbursed now."""
        if user_id not in self.users.users:
            self.users.add(user_id)
        application = self.apply(user_id, amount, key=f"apply-{user_id}")
        return self.accept(application.application_id, user_id, autopay=autopay)

    def pay(
        self,
        loan: Loan,
        amount: int,
        key: str = "pay-1",
        *,
        uow: UnitOfWork | None = None,
        rails: PaymentRails | None = None,
    ) -> PaymentReceipt:
        return make_payment(
            MakePayment(loan.user_id, loan.loan_id, amount, key),
            uow=uow or self.new_uow(),
            rails=rails or self.rails,
            lock=self.lock,
            idempotency=self.idempotency,
            clock=self.clock,
            notifier=self.notifier,
            alerter=self.alerter,
            metrics=self.metrics,
        )

    def collect(
        self,
        loan: Loan,
        number: int = 1,
        *,
        worker: str = "worker-1",
        uow: UnitOfWork | None = None,
        rails: PaymentRails | None = None,
    ) -> CollectionResult:
        """The collections worker on the loan's installment `number`."""
        installment = loan.installments[number - 1]
        command = CollectInstallment(
            loan.user_id, loan.loan_id, installment.installment_id, installment.due_date
        )
        return self.work(command, worker=worker, uow=uow, rails=rails)

    def work(
        self,
        command: CollectInstallment,
        *,
        worker: str = "worker-1",
        uow: UnitOfWork | None = None,
        rails: PaymentRails | None = None,
    ) -> CollectionResult:
        return collect_installment(
            command,
            uow=uow or self.new_uow(),
            rails=rails or self.rails,
            lock=self.lock,
            clock=self.clock,
            notifier=self.notifier,
            alerter=self.alerter,
            worker_id=worker,
            metrics=self.metrics,
        )

    def run_collections(self) -> list[CollectionResult]:
        """The job, then the worker on every message it enqueued (each acked once done)."""
        enqueue_due_installments(
            uow=self.new_uow(), queue=self.queue, clock=self.clock, metrics=self.metrics
        )
        results = []
        while received := self.queue.receive(max_messages=10, visibility=dt.timedelta(minutes=5)):
            for delivery in received:
                results.append(self.work(CollectInstallment.from_message(delivery.message)))
                self.queue.ack(delivery)
        return results

    def settle(self, event: SettlementEvent) -> SettlementHandling:
        return settle_payment(
            event,
            uow=self.new_uow(),
            notifier=self.notifier,
            alerter=self.alerter,
            metrics=self.metrics,
        )

    def settle_due(self) -> list[SettlementEvent]:
        """Deliver every settlement event now due, twice each (delivery is at least once)."""
        events = self.rails.due_events()
        for event in events:
            self.settle(event)
            assert self.settle(event) in {
                SettlementHandling.DUPLICATE,
                SettlementHandling.DISBURSEMENT,
            }
        return events


# --- faults -----------------------------------------------------------------------------


class CrashingUnitOfWork(InMemoryUnitOfWork):
    """An in-memory unit of work whose next `crashes` commits die before writing anything."""

    def __init__(self, database: InMemoryDatabase, *, crashes: int = 1) -> None:
        super().__init__(database)
        self.crashes = crashes

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("the process died before the commit")
        return super().commit(actor=actor, request_id=request_id)


class CommitDuring(InMemoryUnitOfWork):
    """An in-memory unit of work that runs `during` just before its first commit.

    `during` is a concurrent writer that commits first, so this commit meets a version
    it did not read.
    """

    def __init__(self, database: InMemoryDatabase, during: Callable[[], object]) -> None:
        super().__init__(database)
        self.during: Callable[[], object] | None = during

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        during, self.during = self.during, None
        if during is not None:
            during()
        return super().commit(actor=actor, request_id=request_id)


@attrs.define
class RailsDuring:
    """Rails that run `during` (once) right after the real rail accepted a transfer.

    `during` is what happens between a worker's rail call and its commit: another
    writer's commit, or a crash.
    """

    rails: PaymentRails
    during: Callable[[TransferRequest], None]
    calls: int = 0

    def submit(self, request: TransferRequest) -> TransferResult:
        result = self.rails.submit(request)
        if result.accepted and self.calls == 0:
            self.calls += 1
            self.during(request)
        return result


@attrs.define
class SerialRails:
    """Rails safe to share between threads (a real rail is one remote service)."""

    rails: PaymentRails
    guard: threading.Lock = attrs.field(factory=threading.Lock)

    def submit(self, request: TransferRequest) -> TransferResult:
        with self.guard:
            return self.rails.submit(request)


@attrs.define
class SerialLock:
    """A lock adapter safe to share between threads (DynamoDB's conditional put is atomic)."""

    lock: Lock
    guard: threading.Lock = attrs.field(factory=threading.Lock)

    def acquire(self, key: str, *, owner: str, ttl: dt.timedelta) -> Lease:
        with self.guard:
            return self.lock.acquire(key, owner=owner, ttl=ttl)

    def heartbeat(self, lease: Lease, *, ttl: dt.timedelta) -> Lease:
        with self.guard:
            return self.lock.heartbeat(lease, ttl=ttl)

    def release(self, lease: Lease) -> bool:
        with self.guard:
            return self.lock.release(lease)
