"""The in-memory deployment a simulation runs on: every port wired once, on one clock.

This is the simulation's bootstrap: the same use cases production runs, over the
in-memory adapters. Borrowers in hardship are modelled at the rail: their debits are
declined, as a bank refuses a debit on an empty account.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable

import attrs

from loc_adapters.memory import (
    InMemoryIdempotencyStore,
    InMemoryLock,
    InMemoryMetrics,
    InMemoryQueue,
    InMemoryUnitOfWork,
    InMemoryUsers,
    ManualClock,
    RailBehaviour,
    RecordingAlerter,
    SequentialIds,
    SimulatedRails,
    SimulatedUnderwriting,
    StaticFeatureFlags,
)
from loc_core.creditline import CreditLineProduct
from loc_core.events import DomainEvent, EventType
from loc_core.installment import InstallmentProduct
from loc_core.payments import Direction, Rail
from loc_core.ports import TransferRequest, TransferResult
from loc_entrypoints.simulation.scenario import Scenario
from loc_entrypoints.simulation.store import SimulationDatabase

__all__ = ["BorrowerRails", "EventTap", "World"]

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

    def submit(self, request: TransferRequest) -> TransferResult:
        """Decline what the borrower's situation rules out; otherwise ask the rail."""
        if request.direction is Direction.DEBIT and request.user_id in self.in_hardship:
            return TransferResult(accepted=False, decline_reason="insufficient funds")
        if request.rail is Rail.PINLESS and request.user_id in self.without_card:
            return TransferResult(accepted=False, decline_reason="no eligible debit card")
        return self.inner.submit(request)


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
class World:
    """Every adapter of one simulated deployment."""

    scenario: Scenario
    clock: ManualClock
    database: SimulationDatabase
    uow: InMemoryUnitOfWork
    sim_rails: SimulatedRails
    rails: BorrowerRails
    ids: SequentialIds
    lock: InMemoryLock
    queue: InMemoryQueue
    idempotency: InMemoryIdempotencyStore
    notifier: EventTap
    alerter: RecordingAlerter
    flags: StaticFeatureFlags
    metrics: InMemoryMetrics
    users: InMemoryUsers
    underwriting: SimulatedUnderwriting
    loan_product: InstallmentProduct
    line_product: CreditLineProduct

    @classmethod
    def build(cls, scenario: Scenario) -> World:
        """Wire every port for `scenario`, the clock at midnight UTC of its first day."""
        clock = ManualClock(dt.datetime.combine(scenario.start, dt.time(0, tzinfo=dt.UTC)))
        database = SimulationDatabase.for_book(clock, borrowers=scenario.borrowers)
        sim_rails = SimulatedRails(
            clock,
            seed=scenario.seed,
            remember=_REMEMBER_KEYS,
            behaviour=RailBehaviour(
                decline_probability=scenario.decline_probability,
                nsf_return_probability=scenario.nsf_return_probability,
                unauthorized_return_probability=scenario.unauthorized_return_probability,
                chargeback_probability=scenario.chargeback_probability,
            ),
        )
        return cls(
            scenario=scenario,
            clock=clock,
            database=database,
            uow=InMemoryUnitOfWork(database),
            sim_rails=sim_rails,
            rails=BorrowerRails(sim_rails),
            ids=SequentialIds(prefix="sim"),
            lock=InMemoryLock(clock),
            queue=InMemoryQueue(clock),
            idempotency=InMemoryIdempotencyStore(),
            notifier=EventTap(),
            alerter=RecordingAlerter(),
            flags=StaticFeatureFlags(),
            metrics=InMemoryMetrics(),
            users=InMemoryUsers(),
            underwriting=SimulatedUnderwriting(
                seed=scenario.seed,
                loan_approval_probability=scenario.loan_approval_probability,
                line_approval_probability=scenario.line_approval_probability,
                max_loan_amount=scenario.loan_request[1],
                fee_percent=scenario.origination_fee_percent,
                apr=scenario.line_apr,
                minimum_payment_percent=scenario.line_minimum_payment_percent,
            ),
            loan_product=InstallmentProduct(),
            line_product=CreditLineProduct(),
        )

    def at(self, day: dt.date, hour: int, minute: int = 0) -> None:
        """Move the clock to `hour`:`minute` UTC on `day`."""
        self.clock.set(dt.datetime.combine(day, dt.time(hour, minute, tzinfo=dt.UTC)))
