"""A process that dies between its commit and its publish loses no notification.

Every commit keeps its domain events in the event outbox, atomically with the records
that made them; publishing clears them. What a dead process never published, the
recovery job publishes once it is older than `RECOVERY_AFTER`. Before the outbox, only a
booking's events (kept on its transfer intent) survived such a death: a settlement's, a
line's and a job's were lost, and a redelivery is answered as a duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import attrs
import pytest
from deployment import Deployment
from fakes import Crash, CrashingNotifier, settlement

from loc_core.errors import ExternalServiceError
from loc_core.events import DomainEvent, EventType
from loc_core.installment import Loan
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import EventOutbox, KeptEvent, Notifier, Severity
from loc_core.services import recovery
from loc_core.services.commands import RecoverTransfers, SettlementHandling, SettleTransfer
from loc_core.services.moving import RECOVERY_AFTER
from loc_core.services.recovery import RecoveryReport

FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
Storage = Callable[[Deployment], Mapping[type, object]]


def kept(world: Deployment) -> list[str]:
    """The types of the events the outbox still keeps."""
    outbox = world.bus.get(EventOutbox)
    return [k.event.type.value for k in outbox.undelivered(committed_before=FAR_FUTURE, limit=100)]


def recover(world: Deployment) -> RecoveryReport:
    world.clock.advance(RECOVERY_AFTER + dt.timedelta(minutes=1))
    return world.bus.handle(RecoverTransfers())


def sent(world: Deployment, kind: EventType) -> list[DomainEvent]:
    return [event for event in world.notifier.sent if event.type is kind]


@pytest.fixture
def storage() -> Storage:
    """The deployment's own in-memory storage; the DynamoDB suite overrides this."""
    return lambda _world: {}


@pytest.fixture
def world(storage: Storage) -> Deployment:
    made = Deployment.build()
    made.bus = made.bus.replacing(storage(made))
    return made


@pytest.fixture
def returned(world: Deployment) -> tuple[Loan, SettleTransfer]:
    """An ACH payment on a loan, and the rail's return of it, delivered a day later."""
    world.sim.down = {Rail.PINLESS}
    loan = world.open_loan()
    world.settle_due()
    paid = world.pay_loan(loan, 5_250)
    world.clock.advance(dt.timedelta(days=1))
    event = settlement(paid.payment_id, SettlementOutcome.RETURNED, world.clock.now(), Rail.ACH)
    return loan, SettleTransfer(event)


@pytest.fixture
def died_notifying(world: Deployment, returned: tuple[Loan, SettleTransfer]) -> SettleTransfer:
    """The return is committed, and its process dies telling the borrower."""
    _, settle = returned
    with pytest.raises(Crash):
        world.replacing(Notifier, CrashingNotifier(world.notifier)).handle(settle)
    return settle


def test_published_events_leave_nothing_kept(world: Deployment) -> None:
    loan = world.open_loan()
    world.settle_due()
    world.pay_loan(loan, 5_250)
    assert {e.type for e in world.notifier.sent} >= {EventType.LOAN_DISBURSED}
    assert kept(world) == []


def test_a_return_whose_process_died_notifying_is_told_by_the_recovery_job(
    world: Deployment, returned: tuple[Loan, SettleTransfer], died_notifying: SettleTransfer
) -> None:
    loan, settle = returned[0], died_notifying

    assert world.loan(loan.loan_id).outstanding_balance == 31_500  # the return committed
    assert world.bus.handle(settle).handling is SettlementHandling.DUPLICATE  # redelivered
    assert sent(world, EventType.PAYMENT_FAILED) == []
    assert kept(world) == ["payment_failed"]

    report = recover(world)

    assert (report.republished, report.unpublished) == (1, 0)
    [notice] = sent(world, EventType.PAYMENT_FAILED)
    assert (notice.user_id, notice.subject_id) == ("user-1", settle.event.idempotency_key)
    assert kept(world) == []
    assert recover(world).republished == 0  # told once


@pytest.mark.usefixtures("died_notifying")
def test_the_recovery_job_leaves_events_a_live_process_may_still_publish(world: Deployment) -> None:
    world.clock.advance(RECOVERY_AFTER - dt.timedelta(seconds=1))
    assert world.bus.handle(RecoverTransfers()).republished == 0
    assert kept(world) == ["payment_failed"]


@pytest.mark.usefixtures("died_notifying")
def test_an_event_whose_handler_fails_again_is_alerted_and_kept_for_the_next_run(
    world: Deployment,
) -> None:
    world.clock.advance(RECOVERY_AFTER + dt.timedelta(minutes=1))
    failing = world.replacing(Notifier, CrashingNotifier(world.notifier))

    report = failing.handle(RecoverTransfers())

    assert (report.republished, report.unpublished) == (0, 1)
    assert kept(world) == ["payment_failed"]
    [alert] = [a for a in world.alerts(Severity.CRITICAL) if "could not be published" in a.title]
    assert alert.details["user_id"] == "user-1"
    assert recover(world).republished == 1
    assert len(sent(world, EventType.PAYMENT_FAILED)) == 1


@attrs.frozen
class _ClearingDown:
    """The deployment's outbox, but clearing fails: its store is down."""

    inner: EventOutbox

    def undelivered(self, *, committed_before: dt.datetime, limit: int) -> list[KeptEvent]:
        return self.inner.undelivered(committed_before=committed_before, limit=limit)

    def delivered(self, events: Sequence[DomainEvent]) -> None:
        raise ExternalServiceError(f"DeleteItem of {len(events)} kept events: Throttling")


@pytest.mark.usefixtures("died_notifying")
def test_while_the_outbox_cannot_clear_the_recovery_job_sends_each_event_once_a_run(
    world: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a full page never cleared it used to send the same events again, forever."""
    monkeypatch.setattr(recovery, "_REPUBLISH_PAGE", 1)  # the one kept event fills a page
    world.clock.advance(RECOVERY_AFTER + dt.timedelta(minutes=1))
    down = world.bus.replacing({EventOutbox: _ClearingDown(world.bus.get(EventOutbox))})

    report = down.handle(RecoverTransfers())

    assert (report.republished, report.unpublished) == (1, 0)
    assert len(sent(world, EventType.PAYMENT_FAILED)) == 1
    assert world.metrics.count("loc.outbox.not_cleared") == 1
    assert kept(world) == ["payment_failed"]  # the next run, with the store back, clears it
    assert recover(world).republished == 1
    assert kept(world) == []
