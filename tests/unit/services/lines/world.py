"""A world of in-memory adapters to drive the credit-line services through.

`World` holds every port and calls each service the way an entrypoint would. The unit of
work comes from the `new_uow` fixture (see conftest.py), so the same tests can run
against another store.
"""

import datetime as dt
from collections.abc import Callable

import attrs

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryIdempotencyStore,
    InMemoryLock,
    InMemoryMetrics,
    InMemoryUnitOfWork,
    InMemoryUsers,
    ManualClock,
    RailBehaviour,
    RecordingAlerter,
    RecordingNotifier,
    SequentialIds,
    SimulatedRails,
    SimulatedUnderwriting,
    StaticFeatureFlags,
)
from loc_core.creditline import CreditLine, CreditLineApplication, CreditLineProduct, Draw
from loc_core.errors import ExternalServiceError
from loc_core.events import AuditRecord, DomainEvent
from loc_core.ledger import Ledger
from loc_core.payments import Rail
from loc_core.ports import (
    Alert,
    SettlementEvent,
    Severity,
    TransferRequest,
    TransferResult,
    UnitOfWork,
)
from loc_core.services.lines import (
    AbandonExpiredLineApplication,
    AcceptLineOffer,
    ApplyForLine,
    CloseLine,
    DrawFromLine,
    JobReport,
    LinePaymentReceipt,
    PayLine,
    SettlementHandling,
    abandon_expired_line_application,
    accept_line_offer,
    apply_for_line,
    bill_closed_cycles,
    close_credit_line,
    collect_due_minimum_payments,
    draw_from_line,
    handle_line_settlement,
    mark_overdue_lines,
    pay_line,
    send_upcoming_payment_notices,
)

UowFactory = Callable[[], UnitOfWork]

OPENED = dt.datetime(2026, 3, 5, 14, tzinfo=dt.UTC)
"""Thursday 2026-03-05: lines opened now have cycle day 5, like docs/credit-lines.md."""
QUIET = RailBehaviour(
    decline_probability=0,
    nsf_return_probability=0,
    unauthorized_return_probability=0,
    chargeback_probability=0,
)


class Crash(Exception):
    """The process died: whatever was not committed is lost."""


@attrs.define
class ScriptedRails:
    """`PaymentRails` over the simulated rail, with declines and crashes on demand.

    A rail in `declining` declines new transfers (a repeated key keeps its first answer,
    as a real rail does). A rail in `crash_after` answers, then the caller "crashes"
    once: the rail moved the money, the service never saw the answer. A rail in
    `timing_out` takes the transfer, then fails once with an `ExternalServiceError`: the
    caller cannot know whether money moved.
    """

    inner: SimulatedRails
    declining: set[Rail] = attrs.field(factory=set)
    crash_after: set[Rail] = attrs.field(factory=set)
    timing_out: set[Rail] = attrs.field(factory=set)
    calls: list[TransferRequest] = attrs.field(factory=list)
    _declined: dict[str, TransferResult] = attrs.field(factory=dict)

    def submit(self, request: TransferRequest) -> TransferResult:
        self.calls.append(request)
        result = self._declined.get(request.idempotency_key)
        if (
            result is None
            and request.rail in self.declining
            and request.rail not in self.inner.down
        ):
            result = TransferResult(accepted=False, decline_reason=f"{request.rail.value} said no")
            self._declined[request.idempotency_key] = result
        if result is None:
            result = self.inner.submit(request)
        if request.rail in self.crash_after:
            self.crash_after.discard(request.rail)
            raise Crash(f"crashed after {request.rail.value} answered")
        if request.rail in self.timing_out:
            self.timing_out.discard(request.rail)
            raise ExternalServiceError(f"{request.rail.value} timed out after the request was sent")
        return result

    @property
    def submitted(self) -> list[TransferRequest]:
        """Transfers that moved money, once each."""
        return self.inner.submitted


class InterferingUnitOfWork(InMemoryUnitOfWork):
    """Runs `interfere` (another writer) just before its first `times` commits."""

    def __init__(
        self, database: InMemoryDatabase, interfere: Callable[[], object], times: int = 1
    ) -> None:
        super().__init__(database)
        self.interfere = interfere
        self.times = times

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        if self.times > 0:
            self.times -= 1
            self.interfere()
        return super().commit(actor=actor, request_id=request_id)


class CrashingUnitOfWork(InMemoryUnitOfWork):
    """Dies instead of writing on its `on_commit`-th commit: nothing of it is stored."""

    def __init__(self, database: InMemoryDatabase, *, on_commit: int) -> None:
        super().__init__(database)
        self.countdown = on_commit

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        self.countdown -= 1
        if self.countdown == 0:
            raise Crash("crashed before the commit")
        return super().commit(actor=actor, request_id=request_id)


@attrs.define
class World:
    """Every port, in memory, and the services called the way entrypoints call them."""

    clock: ManualClock
    new_uow: UowFactory
    sim: SimulatedRails
    rails: ScriptedRails
    users: InMemoryUsers
    underwriting: SimulatedUnderwriting
    notifier: RecordingNotifier
    alerter: RecordingAlerter
    flags: dict[str, bool]
    lock: InMemoryLock
    ids: SequentialIds
    idempotency: InMemoryIdempotencyStore
    metrics: InMemoryMetrics
    product: CreditLineProduct = attrs.field(factory=CreditLineProduct)

    # --- time -----------------------------------------------------------------------

    def at(self, day: dt.date, hour: int = 12) -> None:
        self.clock.set(dt.datetime.combine(day, dt.time(hour, tzinfo=dt.UTC)))

    @property
    def today(self) -> dt.date:
        return self.clock.now().date()

    # --- commands -------------------------------------------------------------------

    def apply(
        self, user_id: str = "user-1", key: str = "apply-1", uow: UnitOfWork | None = None
    ) -> CreditLineApplication:
        return apply_for_line(
            ApplyForLine(user_id, key),
            uow=uow or self.new_uow(),
            users=self.users,
            underwriting=self.underwriting,
            ids=self.ids,
            lock=self.lock,
            idempotency=self.idempotency,
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
        )

    def accept(
        self,
        application_id: str,
        user_id: str = "user-1",
        cycle_day: int | None = None,
        uow: UnitOfWork | None = None,
    ) -> CreditLine:
        return accept_line_offer(
            AcceptLineOffer(user_id, application_id, cycle_day),
            uow=uow or self.new_uow(),
            users=self.users,
            ids=self.ids,
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
        )

    def expire(
        self,
        application_id: str,
        user_id: str = "user-1",
        removed: CreditLineApplication | None = None,
    ) -> bool:
        return abandon_expired_line_application(
            AbandonExpiredLineApplication(user_id, application_id, removed),
            uow=self.new_uow(),
            clock=self.clock,
            notifier=self.notifier,
            alerter=self.alerter,
        )

    def open_line(self, user_id: str = "user-1") -> CreditLine:
        """A new user, approved for $1,000.00 at 29.99% with a 3% minimum, and their line."""
        self.users.add(user_id)
        application = self.apply(user_id, key=f"apply-{user_id}")
        return self.accept(application.application_id, user_id)

    def draw(
        self, line: CreditLine, amount: int, key: str = "draw-1", uow: UnitOfWork | None = None
    ) -> Draw:
        return draw_from_line(
            DrawFromLine(line.user_id, line.line_id, amount, key),
            uow=uow or self.new_uow(),
            rails=self.rails,
            flags=StaticFeatureFlags(self.flags),
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
            metrics=self.metrics,
        )

    def pay(
        self, line: CreditLine, amount: int, key: str = "pay-1", uow: UnitOfWork | None = None
    ) -> LinePaymentReceipt:
        return pay_line(
            PayLine(line.user_id, line.line_id, amount, key),
            uow=uow or self.new_uow(),
            rails=self.rails,
            lock=self.lock,
            ids=self.ids,
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
        )

    def settle(self, event: SettlementEvent) -> SettlementHandling:
        return handle_line_settlement(
            event,
            uow=self.new_uow(),
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
        )

    def settle_due_events(self, *, twice: bool = False) -> list[SettlementHandling]:
        """Deliver every settlement event whose time has come, as the webhook would.

        With `twice`, each event is delivered again at once, and the repeat must change
        nothing.
        """
        handled = []
        for event in self.sim.due_events():
            handled.append(self.settle(event))
            if twice:
                repeat = self.settle(event)
                assert repeat in {SettlementHandling.DUPLICATE, SettlementHandling.DRAW}
        return handled

    def close(self, line: CreditLine) -> CreditLine:
        return close_credit_line(
            CloseLine(line.user_id, line.line_id),
            uow=self.new_uow(),
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
        )

    # --- jobs -----------------------------------------------------------------------

    def bill(self, uow: UnitOfWork | None = None) -> JobReport:
        return bill_closed_cycles(
            uow=uow or self.new_uow(),
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
            metrics=self.metrics,
        )

    def upcoming(self) -> JobReport:
        return send_upcoming_payment_notices(
            uow=self.new_uow(),
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
            metrics=self.metrics,
        )

    def due(self, uow: UnitOfWork | None = None) -> JobReport:
        return collect_due_minimum_payments(
            uow=uow or self.new_uow(),
            rails=self.rails,
            lock=self.lock,
            ids=self.ids,
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
            metrics=self.metrics,
        )

    def overdue(self) -> JobReport:
        return mark_overdue_lines(
            uow=self.new_uow(),
            clock=self.clock,
            product=self.product,
            notifier=self.notifier,
            alerter=self.alerter,
            metrics=self.metrics,
        )

    def run_day(self, day: dt.date, *, twice: bool = False) -> dict[str, JobReport]:
        """One day: billing at 08:00, settlements at noon, then the three jobs.

        With `twice`, every job runs again at once and every event is delivered again,
        and the repeats must change nothing.
        """
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
                self.settle_due_events(twice=twice)
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

    # --- what happened --------------------------------------------------------------

    def line(self, line: CreditLine) -> CreditLine:
        with self.new_uow() as uow:
            return uow.lines.get(line.user_id, line.line_id)

    def ledger(self, line: CreditLine) -> Ledger:
        with self.new_uow() as uow:
            return Ledger(entries=uow.journal.entries_for(line.line_id))

    def audit(self, entity: str, entity_id: str) -> list[AuditRecord]:
        with self.new_uow() as uow:
            return uow.audit.records_for(entity, entity_id)

    def sent(self) -> list[str]:
        return [event.type.value for event in self.notifier.sent]

    def alerts(self, severity: Severity = Severity.CRITICAL) -> list[Alert]:
        return [alert for alert in self.alerter.posted if alert.severity is severity]


def build_world(clock: ManualClock, new_uow: UowFactory) -> World:
    """Every port but storage in memory, on `clock`; storage is whatever `new_uow` makes."""
    sim = SimulatedRails(clock, seed=11, behaviour=QUIET)
    return World(
        clock=clock,
        new_uow=new_uow,
        sim=sim,
        rails=ScriptedRails(sim),
        users=InMemoryUsers(),
        underwriting=SimulatedUnderwriting(line_approval_probability=1, line_limits=(100_000,)),
        notifier=RecordingNotifier(),
        alerter=RecordingAlerter(),
        flags={},
        lock=InMemoryLock(clock),
        ids=SequentialIds(),
        idempotency=InMemoryIdempotencyStore(),
        metrics=InMemoryMetrics(),
    )
