"""One in-memory deployment for the service tests, built by the bootstrap like production's.

`Deployment.build()` asks `loc_entrypoints.bootstrap` for the embedded default with a
manual clock, a quiet simulated rail behind a `FakeRails` (so a test can change what the
rail answers), recording notifier and alerter, and in-memory users. Tests send commands
through `deployment.bus`; the shortcuts below (`open_loan`, `pay_line`, `bill`, ...) are
one-line commands that read as what happens to the borrower. A test that needs one
adapter swapped for one call (a unit of work that crashes at commit) uses `replacing`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs
from fakes import FakeRails

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryDocumentStore,
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
    SimulatedRails,
    SimulatedUnderwriting,
    StaticFeatureFlags,
)
from loc_core.creditline import CreditLine, CreditLineApplication, Draw
from loc_core.events import AuditRecord
from loc_core.installment import Loan, LoanApplication
from loc_core.ledger import Ledger
from loc_core.ports import (
    Alert,
    Alerter,
    Clock,
    DocumentStore,
    FeatureFlags,
    IdempotencyStore,
    Lock,
    Metrics,
    Notifier,
    PaymentRails,
    QueueMessage,
    SettlementEvent,
    Severity,
    Underwriting,
    UnitOfWork,
    Users,
    WorkQueue,
)
from loc_core.services.commands import (
    AbandonExpiredLineApplication,
    AcceptLineOffer,
    AcceptOffer,
    ApplyForLine,
    ApplyForLoan,
    BillClosedCycles,
    CloseLine,
    CollectDueMinimums,
    CollectInstallment,
    CollectionResult,
    DrawFromLine,
    EnqueueDueInstallments,
    GetLine,
    GetLoan,
    JobReport,
    LinePaymentReceipt,
    MakePayment,
    MarkOverdueLines,
    PayLine,
    PaymentReceipt,
    ReconcileLoan,
    RunDailyLoanJob,
    SendUpcomingNotices,
    SettlementHandling,
    SettleTransfer,
)
from loc_core.services.filing import DocumentFiler
from loc_core.services.messagebus import MessageBus
from loc_core.testing.installment import ledger_problems
from loc_entrypoints.bootstrap import bootstrap

__all__ = ["LINES_OPENED", "LOANS_OPENED", "QUIET", "Deployment"]

LOANS_OPENED = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)
"""Monday 5 January 2026, 15:00 UTC: the docs' example loan is disbursed then."""
LINES_OPENED = dt.datetime(2026, 3, 5, 14, tzinfo=dt.UTC)
"""Thursday 2026-03-05: lines opened now have cycle day 5, like docs/credit-lines.md."""
QUIET = RailBehaviour(
    decline_probability=0,
    nsf_return_probability=0,
    unauthorized_return_probability=0,
    chargeback_probability=0,
)
"""Rails that accept everything and never reverse: each test adds the trouble it needs."""
_VISIBILITY = dt.timedelta(minutes=5)


@attrs.define
class Deployment:
    """The bus of an in-memory deployment and the adapters a test looks into."""

    clock: ManualClock
    database: InMemoryDatabase
    sim: SimulatedRails
    """The simulated rail behind `rails`: settlement events, `down`, `submitted`."""
    rails: FakeRails
    """What the use cases call: `sim` unless a test gives it another handler."""
    users: InMemoryUsers
    notifier: RecordingNotifier
    alerter: RecordingAlerter
    flags: StaticFeatureFlags
    metrics: InMemoryMetrics
    lock: InMemoryLock
    queue: InMemoryQueue
    idempotency: InMemoryIdempotencyStore
    bus: MessageBus = attrs.field(init=False)
    """The bootstrap's bus over the adapters above (set by `build`)."""
    repeats_jobs: bool = attrs.field(default=True, init=False)
    """Whether `run_day(twice=True)` runs each job and delivery again: a slower store's
    lifecycle (DynamoDB over HTTP) leaves the repeats to the in-memory run of the same test."""

    @classmethod
    def build(
        cls,
        *,
        now: dt.datetime = LOANS_OPENED,
        seed: int = 0,
        behaviour: RailBehaviour = QUIET,
        underwriting: Underwriting | None = None,
        overrides: Mapping[type, object] | None = None,
    ) -> Deployment:
        """A fresh deployment at `now`; `overrides` put a test's adapter under a port."""
        clock = ManualClock(now)
        database = InMemoryDatabase(clock)
        sim = SimulatedRails(clock, seed=seed, behaviour=behaviour)
        world = cls(
            clock=clock,
            database=database,
            sim=sim,
            rails=FakeRails(sim.submit, behind=sim),
            users=InMemoryUsers(),
            notifier=RecordingNotifier(),
            alerter=RecordingAlerter(),
            flags=StaticFeatureFlags(),
            metrics=InMemoryMetrics(),
            lock=InMemoryLock(clock, leases=database.leases),
            queue=InMemoryQueue(clock),
            idempotency=InMemoryIdempotencyStore(),
        )
        documents = InMemoryDocumentStore()
        world.bus = bootstrap(
            overrides={
                Clock: clock,
                InMemoryDatabase: database,
                UnitOfWork: InMemoryUnitOfWork(database),
                PaymentRails: world.rails,
                Users: world.users,
                Notifier: world.notifier,
                Alerter: world.alerter,
                FeatureFlags: world.flags,
                Metrics: world.metrics,
                Lock: world.lock,
                WorkQueue: world.queue,
                IdempotencyStore: world.idempotency,
                DocumentStore: documents,
                # Whatever is installed, nothing is rendered unless a test gives a renderer
                # (test_document_flow.rendering): a PDF per approval would slow every test.
                DocumentFiler: DocumentFiler(documents, world.users, world.alerter, world.queue),
                Underwriting: underwriting
                or SimulatedUnderwriting(
                    loan_approval_probability=1,
                    line_approval_probability=1,
                    fee_percent=Decimal(5),
                    line_limits=(100_000,),
                ),
                **(overrides or {}),
            }
        )
        return world

    def replacing(self, port: type, adapter: object) -> MessageBus:
        """This deployment's bus with `adapter` under `port`, everything else shared."""
        return self.bus.replacing({port: adapter})

    def crashing_uow(self, factory: Callable[[InMemoryDatabase], UnitOfWork]) -> MessageBus:
        """The bus with a unit of work over this database built by `factory` (a fault)."""
        return self.replacing(UnitOfWork, factory(self.database))

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
        return self.bus.handle(GetLoan(user_id, loan_id))

    def sound_loan(self, loan_id: str, user_id: str = "user-1") -> Loan:
        """The stored loan, once it verifies, its books agree and reconciliation is clean."""
        stored = self.loan(loan_id, user_id)
        assert stored.problems() == []
        assert ledger_problems(stored, self.ledger(loan_id)) == []
        assert self.bus.handle(ReconcileLoan(stored.user_id, loan_id)).problems == ()
        return stored

    def line(self, line: CreditLine) -> CreditLine:
        return self.bus.handle(GetLine(line.user_id, line.line_id))

    def loan_application(self, application_id: str, user_id: str = "user-1") -> LoanApplication:
        with self.bus.get(UnitOfWork) as uow:
            return uow.loan_applications.get(user_id, application_id)

    def ledger(self, owner_id: str) -> Ledger:
        """Every entry posted for a loan or line."""
        with self.bus.get(UnitOfWork) as uow:
            return Ledger(uow.journal.entries_for(owner_id))

    def audit(self, entity: str, entity_id: str) -> list[AuditRecord]:
        with self.bus.get(UnitOfWork) as uow:
            return uow.audit.records_for(entity, entity_id)

    def audit_processes(self, entity: str, entity_id: str) -> list[str]:
        return [record.change.process for record in self.audit(entity, entity_id)]

    def sent(self) -> list[str]:
        """The notifications sent, by type."""
        return [event.type.value for event in self.notifier.sent]

    def alerts(self, severity: Severity | None = None) -> list[Alert]:
        """The alerts posted, of `severity` when given."""
        return [a for a in self.alerter.posted if severity is None or a.severity is severity]

    # --- installment loans ------------------------------------------------------------

    def apply_loan(
        self, user_id: str = "user-1", amount: int = 30_000, key: str = "apply-1"
    ) -> LoanApplication:
        return self.bus.handle(ApplyForLoan(user_id, amount, key))

    def accept_loan(
        self, application_id: str, user_id: str = "user-1", *, autopay: bool = True
    ) -> Loan:
        return self.bus.handle(AcceptOffer(user_id, application_id, autopay_enabled=autopay))

    def open_loan(
        self, user_id: str = "user-1", amount: int = 30_000, *, autopay: bool = True
    ) -> Loan:
        """A borrower applies and accepts at once: the loan is disbursed now."""
        if user_id not in self.users.users:
            self.users.add(user_id)
        application = self.apply_loan(user_id, amount, key=f"apply-{user_id}")
        return self.accept_loan(application.application_id, user_id, autopay=autopay)

    def pay_loan(self, loan: Loan, amount: int, key: str = "pay-1") -> PaymentReceipt:
        return self.bus.handle(MakePayment(loan.user_id, loan.loan_id, amount, key))

    def collect(self, loan: Loan, number: int = 1, *, worker: str = "worker-1") -> CollectionResult:
        """The collections worker on the loan's installment `number`."""
        installment = loan.installments[number - 1]
        return self.bus.handle(
            CollectInstallment(
                loan.user_id,
                loan.loan_id,
                installment.installment_id,
                installment.due_date,
                worker_id=worker,
            )
        )

    def due_collection(self) -> tuple[Loan, QueueMessage]:
        """A loan, disbursed, whose first installment is due today, and its queue message."""
        loan = self.open_loan()
        self.settle_due()
        installment = loan.installments[0]
        self.at(installment.due_date)
        message = CollectInstallment(
            loan.user_id, loan.loan_id, installment.installment_id, installment.due_date
        ).message(self.today)
        return loan, message

    def run_collections(self) -> list[CollectionResult]:
        """The job, then the worker on every message it enqueued (each acked once done)."""
        self.bus.handle(EnqueueDueInstallments())
        results = []
        while received := self.queue.receive(max_messages=10, visibility=_VISIBILITY):
            for delivery in received:
                result = self.bus.handle_message(delivery.message)
                assert isinstance(result, CollectionResult)
                results.append(result)
                self.queue.ack(delivery)
        return results

    def run_daily_loan_job(self) -> None:
        self.bus.handle(RunDailyLoanJob())

    def run_daily_loan_jobs(self, first: dt.date, last: dt.date) -> None:
        """The daily loan job at its hour (17:00) on every day from `first` to `last`."""
        day = first
        while day <= last:
            self.at(day, 17)
            self.run_daily_loan_job()
            day += dt.timedelta(days=1)

    # --- settlement (both products) ---------------------------------------------------

    def settle(self, event: SettlementEvent) -> SettlementHandling:
        """Deliver `event` as a rail does: not before it happened (the clock moves to it)."""
        if event.occurred_at > self.clock.now():
            self.clock.set(event.occurred_at)
        return self.bus.handle(SettleTransfer(event)).handling

    def settle_due(self, *, twice: bool = True) -> list[SettlementEvent]:
        """Deliver every settlement event now due; with `twice`, each again at once.

        Delivery is at least once, so the repeat must change nothing.
        """
        events = self.sim.due_events()
        for event in events:
            self.settle(event)
            if twice:
                assert self.settle(event) in {
                    SettlementHandling.DUPLICATE,
                    SettlementHandling.DISBURSEMENT,
                }
        return events

    # --- lines of credit --------------------------------------------------------------

    def apply_line(self, user_id: str = "user-1", key: str = "apply-1") -> CreditLineApplication:
        return self.bus.handle(ApplyForLine(user_id, key))

    def accept_line(
        self, application_id: str, user_id: str = "user-1", cycle_day: int | None = None
    ) -> CreditLine:
        return self.bus.handle(AcceptLineOffer(user_id, application_id, cycle_day))

    def expire_line_offer(
        self,
        application_id: str,
        user_id: str = "user-1",
        removed: CreditLineApplication | None = None,
    ) -> bool:
        return self.bus.handle(AbandonExpiredLineApplication(user_id, application_id, removed))

    def open_line(self, user_id: str = "user-1") -> CreditLine:
        """A new user, approved for $1,000.00 at 29.99% with a 3% minimum, and their line."""
        self.users.add(user_id)
        application = self.apply_line(user_id, key=f"apply-{user_id}")
        return self.accept_line(application.application_id, user_id)

    def draw(self, line: CreditLine, amount: int, key: str = "draw-1") -> Draw:
        return self.bus.handle(DrawFromLine(line.user_id, line.line_id, amount, key))

    def billed_line(self) -> CreditLine:
        """A line opened now (`LINES_OPENED`: cycle day 5), $400.00 drawn on 2026-03-12,
        billed 04-05 at 08:00: 1,989 due 04-27."""
        line = self.open_line()
        self.at(dt.date(2026, 3, 12))
        self.draw(line, 40_000)
        self.at(dt.date(2026, 4, 5), 8)
        self.bill()
        return line

    def pay_line(self, line: CreditLine, amount: int, key: str = "pay-1") -> LinePaymentReceipt:
        return self.bus.handle(PayLine(line.user_id, line.line_id, amount, key))

    def close(self, line: CreditLine) -> CreditLine:
        return self.bus.handle(CloseLine(line.user_id, line.line_id))

    def bill(self) -> JobReport:
        return self.bus.handle(BillClosedCycles())

    def upcoming(self) -> JobReport:
        return self.bus.handle(SendUpcomingNotices())

    def due(self) -> JobReport:
        return self.bus.handle(CollectDueMinimums())

    def overdue(self) -> JobReport:
        return self.bus.handle(MarkOverdueLines())

    def run_day(self, day: dt.date, *, twice: bool = False) -> dict[str, JobReport]:
        """A line's day: billing at 08:00, settlements at noon, then the three jobs.

        With `twice`, every job runs again at once and every event is delivered again,
        and the repeats must change nothing.
        """
        twice = twice and self.repeats_jobs
        jobs: list[tuple[str, int, Callable[[], JobReport]]] = [
            ("billing", 8, self.bill),
            ("upcoming", 14, self.upcoming),
            ("due", 15, self.due),
            ("overdue", 16, self.overdue),
        ]
        reports = {}
        for name, hour, job in jobs:
            if hour == 14:
                self.at(day, 12)
                self.settle_due(twice=twice)
            self.at(day, hour)
            reports[name] = job()
            if twice:
                repeat = job()
                assert repeat.acted == (), f"{name} changed something again on {day}"
        return reports

    def run_days(self, first: dt.date, last: dt.date, *, twice: bool = False) -> None:
        day = first
        while day <= last:
            self.run_day(day, twice=twice)
            day += dt.timedelta(days=1)

    # --- more -------------------------------------------------------------------------

    def another_process(self, overrides: Mapping[type, object] | None = None) -> MessageBus:
        """The bus of a second process on the same database: its own unit of work.

        For a writer that runs while a command is in flight (inside its rail call, in
        another thread): sharing the in-flight command's unit of work would reset it.
        """
        return self.bus.replacing(
            {UnitOfWork: InMemoryUnitOfWork(self.database), **(overrides or {})}
        )

    def alert_titles(self) -> list[str]:
        """The titles of the alerts posted, in order."""
        return [alert.title for alert in self.alerter.posted]

    def using(self, port: type, adapter: object) -> Deployment:
        """This deployment with `adapter` under `port`, so a shortcut runs once with it."""
        other = copy.copy(self)
        other.bus = self.replacing(port, adapter)
        return other

    def edit_loan(self, loan: Loan, change: Callable[[Loan], object]) -> None:
        """Change a stored loan behind the services' back, in a unit of work of its own.

        Another writer that holds no lease (a settlement, the daily job), so it may run
        while a command is in flight (inside its rail call or its commit).
        """
        with InMemoryUnitOfWork(self.database) as uow:
            stored = uow.loans.get(loan.user_id, loan.loan_id)
            change(stored)
            uow.loans.save(stored)
            uow.commit(actor="test", request_id="edit")

    def edit_line(self, line: CreditLine, change: Callable[[CreditLine], object]) -> None:
        """Change a stored line behind the services' back (another writer, a bad record)."""
        with self.bus.get(UnitOfWork) as uow:
            stored = uow.lines.get(line.user_id, line.line_id)
            change(stored)
            uow.lines.save(stored)
            uow.commit(actor="test", request_id="edit")
