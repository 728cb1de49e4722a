"""The in-memory deployment a simulation runs on: the bootstrap's, with the simulation's parts.

The simulation builds its world like every entrypoint does, through `bootstrap`, putting
its own adapters under a few ports: a manual clock, a store tuned for a whole book, the
simulated rail as borrowers experience it (borrowers in hardship are declined at the
rail, as a bank refuses a debit on an empty account), underwriting drawn from the
scenario, a notifier that lets borrowers react to what they are told, and process deaths
after a rail's answer at the scenario's rate (`crashes.CrashingRails`). Everything it
does afterwards goes through the bus.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable

import attrs

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryDocumentStore,
    InMemoryQueue,
    InMemoryUnitOfWork,
    InMemoryUsers,
    ManualClock,
    OwnerIds,
    RailBehaviour,
    RecordingAlerter,
    SimulatedRails,
    SimulatedUnderwriting,
)
from loc_core.events import DomainEvent, EventType
from loc_core.payments import Direction, Rail
from loc_core.ports import (
    Alerter,
    Clock,
    DocumentStore,
    IdGenerator,
    Notifier,
    PaymentRails,
    Tracer,
    TransferRequest,
    TransferResult,
    Underwriting,
    UnitOfWork,
    User,
    Users,
    WorkQueue,
)
from loc_core.services.filing import DocumentFiler
from loc_core.services.messagebus import MessageBus
from loc_entrypoints.bootstrap import bootstrap
from loc_entrypoints.simulation.crashes import CrashingRails
from loc_entrypoints.simulation.scenario import Scenario
from loc_entrypoints.simulation.store import SimulationDatabase

__all__ = ["BorrowerRails", "EventTap", "OwnerTracer", "World"]

_REMEMBER_KEYS = dt.timedelta(days=90)
"""How long the simulated rail remembers idempotency keys: a retry comes within days."""


@attrs.define
class BorrowerRails:
    """The payments service as borrowers experience it.

    Debits of borrowers in hardship are declined for insufficient funds, and pinless
    transfers of borrowers without an eligible debit card are declined; everything else
    goes to the simulated rail.
    """

    inner: SimulatedRails
    in_hardship: set[str] = attrs.field(factory=set)
    without_card: set[str] = attrs.field(factory=set)

    @property
    def timeout(self) -> dt.timedelta:
        """The simulated rail's timeout: declining here takes no time."""
        return self.inner.timeout

    def submit(self, request: TransferRequest) -> TransferResult:
        """Decline what the borrower's situation rules out; otherwise ask the rail."""
        if request.direction is Direction.DEBIT and request.user_id in self.in_hardship:
            return TransferResult(accepted=False, decline_reason="insufficient funds")
        if request.rail is Rail.PINLESS and request.user_id in self.without_card:
            return TransferResult(accepted=False, decline_reason="no eligible debit card")
        return self.inner.submit(request)

    def find(self, idempotency_key: str) -> TransferResult | None:
        """What the rail answered (a decline made here moved nothing: None)."""
        return self.inner.find(idempotency_key)


@attrs.define
class EventTap:
    """A `Notifier` that counts what borrowers are told and lets the simulation react."""

    listener: Callable[[DomainEvent], None] | None = None
    sent: collections.Counter[EventType] = attrs.field(factory=collections.Counter)

    def notify(self, event: DomainEvent) -> None:
        """Count the event and pass it to the listener (a borrower's reaction)."""
        self.sent[event.type] += 1
        if self.listener is not None:
            self.listener(event)


@attrs.define
class OwnerTracer:
    """A `Tracer` that records nothing and tells the id generator whose work is running.

    Every command or event the bus handles for a user makes that user the owner of the
    ids made while it runs (so a borrower's ids never depend on what other borrowers did
    before, in this partition or another). A job's span (no user) starts ownerless; the
    job's own ids (a lease owner) then come from the job counter, and ids the job makes for
    a borrower (the recovery job originating a crashed disbursement's loan) belong to the
    borrower it last looked up (`OwnerUsers`).
    """

    ids: OwnerIds
    in_job: bool = False
    """Whether the innermost span is a job's (it carries no user)."""

    def span(
        self,
        kind: str,
        name: str,
        *,
        user_id: str | None = None,
        correlation_id: str | None = None,
    ) -> _Owning:
        """Make `user_id` (or nobody) the owner while the span runs."""
        del kind, name, correlation_id  # nothing is recorded
        return _Owning(self, user_id or "")


class _Owning:
    """An `OwnerTracer` span: its owner set on entering, the outer one back on leaving.

    A class, not a generator context manager: every command and event enters one.
    """

    __slots__ = ("_outer", "_owner", "_tracer")

    def __init__(self, tracer: OwnerTracer, owner: str) -> None:
        self._tracer, self._owner = tracer, owner
        self._outer = ("", False)

    def __enter__(self) -> None:
        tracer, owner = self._tracer, self._owner
        ids = tracer.ids
        self._outer = ids.owner, tracer.in_job
        ids.owner, tracer.in_job = owner, not owner

    def __exit__(self, *_exc: object) -> None:
        tracer = self._tracer
        tracer.ids.owner, tracer.in_job = self._outer


@attrs.define
class OwnerUsers(InMemoryUsers):
    """`InMemoryUsers` that, inside a job, make the user looked up the owner of the next ids.

    A job that makes ids for a borrower looks the borrower up first (an origination
    reads the user's account): those ids are the borrower's.
    """

    tracer: OwnerTracer = attrs.field(factory=lambda: OwnerTracer(OwnerIds()), kw_only=True)

    def get(self, user_id: str) -> User:
        """The user; inside a job, the owner of the ids made next."""
        if self.tracer.in_job:
            self.tracer.ids.owner = user_id
        return super().get(user_id)


@attrs.define
class World:
    """One simulated deployment: its bus, and the adapters the simulation looks into."""

    scenario: Scenario
    bus: MessageBus
    clock: ManualClock
    database: SimulationDatabase
    sim_rails: SimulatedRails
    rails: BorrowerRails
    notifier: EventTap
    alerter: RecordingAlerter
    users: InMemoryUsers
    queue: WorkQueue
    crashes: CrashingRails
    """The rails the use cases call: process deaths after an accepted transfer."""

    @classmethod
    def build(cls, scenario: Scenario, borrowers: int | None = None) -> World:
        """Wire every port for `scenario`, the clock at midnight UTC of its first day.

        `borrowers`: how many of the book's borrowers live here (None: all of them).
        """
        clock = ManualClock(dt.datetime.combine(scenario.start, dt.time(0, tzinfo=dt.UTC)))
        database = SimulationDatabase.for_book(
            clock, borrowers=scenario.borrowers if borrowers is None else borrowers
        )
        sim_rails = SimulatedRails(
            clock,
            seed=scenario.seed,
            remember=_REMEMBER_KEYS,
            behaviour=RailBehaviour(
                decline_probability=scenario.decline_probability,
                nsf_return_probability=scenario.nsf_return_probability,
                unauthorized_return_probability=scenario.unauthorized_return_probability,
                chargeback_probability=scenario.chargeback_probability,
                credit_return_probability=scenario.credit_return_probability,
            ),
        )
        ids = OwnerIds(prefix="sim")
        tracer = OwnerTracer(ids)
        rails, notifier, alerter, users = (
            BorrowerRails(sim_rails),
            EventTap(),
            RecordingAlerter(),
            OwnerUsers(tracer=tracer),
        )
        crashes = CrashingRails(rails, scenario.seed, scenario.crash_probability)
        queue, store = InMemoryQueue(clock), InMemoryDocumentStore()
        bus = bootstrap(
            overrides={
                Clock: clock,
                InMemoryDatabase: database,
                UnitOfWork: InMemoryUnitOfWork(database),
                PaymentRails: crashes,
                Notifier: notifier,
                Alerter: alerter,
                Users: users,
                WorkQueue: queue,
                DocumentStore: store,
                # Documents are outside the ledger: the run renders none (`--documents N`
                # renders a sample afterwards, `simulation.documents`).
                DocumentFiler: DocumentFiler(store, users, alerter, queue),
                # The report is the simulation's output: a log line per command of a
                # million borrower-days would cost time and tell nothing more.
                # Spans say whose work is running, so ids derive from the borrower.
                Tracer: tracer,
                IdGenerator: ids,
                Underwriting: SimulatedUnderwriting(
                    seed=scenario.seed,
                    loan_approval_probability=scenario.loan_approval_probability,
                    line_approval_probability=scenario.line_approval_probability,
                    max_loan_amount=scenario.loan_request[1],
                    fee_percent=scenario.origination_fee_percent,
                    apr=scenario.line_apr,
                    minimum_payment_percent=scenario.line_minimum_payment_percent,
                ),
            }
        )
        return cls(
            scenario,
            bus,
            clock,
            database,
            sim_rails,
            rails,
            notifier,
            alerter,
            users,
            bus.get(WorkQueue),
            crashes,
        )

    def at(self, day: dt.date, hour: int, minute: int = 0) -> None:
        """Move the clock to `hour`:`minute` UTC on `day`."""
        self.clock.set(dt.datetime.combine(day, dt.time(hour, minute, tzinfo=dt.UTC)))
