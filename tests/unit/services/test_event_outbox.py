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
from loc_core.events import DomainEvent, EventType, event_fields
from loc_core.installment import Loan
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import EventOutbox, KeptEvents, Notifier, Severity, UnreadableEvent
from loc_core.services import recovery
from loc_core.services.commands import RecoverTransfers, SettlementHandling, SettleTransfer
from loc_core.services.moving import RECOVERY_AFTER
from loc_core.services.recovery import RecoveryReport

FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
Storage = Callable[[Deployment], Mapping[type, object]]
KeepUnknown = Callable[[Deployment], str]
"""Keep, now, an event of a type this release does not know; answers its event id."""
NEWER_TYPE = "loan_restructured"


def kept(world: Deployment) -> list[str]:
    """The types of the events the outbox still keeps."""
    outbox = world.bus.get(EventOutbox)
    page = outbox.undelivered(committed_before=FAR_FUTURE, limit=100)
    return [k.event.type.value for k in page.events]


def recover(world: Deployment) -> RecoveryReport:
    world.clock.advance(RECOVERY_AFTER + dt.timedelta(minutes=1))
    return world.bus.handle(RecoverTransfers())


def sent(world: Deployment, kind: EventType) -> list[DomainEvent]:
    return [event for event in world.notifier.sent if event.type is kind]


@pytest.fixture
def storage() -> Storage:
    """The deployment's own in-memory storage; the DynamoDB suite overrides this."""
    return lambda _world: {}


def newer_release_event(world: Deployment) -> DomainEvent:
    """An event a newer release kept, as it is stored but for its type (`NEWER_TYPE`)."""
    return DomainEvent(EventType.LOAN_CLOSED, "user-1", "loan-9", world.today, {"term": 8})


@pytest.fixture
def keep_unknown() -> KeepUnknown:
    """In the deployment's memory outbox; the DynamoDB suite puts the item in its table."""

    def keep(world: Deployment) -> str:
        event = newer_release_event(world)
        fields = {**event_fields(event), "type": NEWER_TYPE}
        world.database.keep_stored_event(event.event_id, fields, at=world.clock.now())
        return event.event_id

    return keep


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


@pytest.mark.usefixtures("died_notifying")
def test_a_kept_event_of_a_type_this_release_does_not_know_holds_back_no_other(
    world: Deployment, keep_unknown: KeepUnknown
) -> None:
    """A newer release's event (a rolling deploy, then a rollback) made the outbox's read
    raise: the job republished nothing while it was kept, every notice waiting held back."""
    unknown = keep_unknown(world)

    report = recover(world)

    assert (report.republished, report.unpublished, report.unreadable) == (1, 0, 1)
    assert len(sent(world, EventType.PAYMENT_FAILED)) == 1
    [alert] = [a for a in world.alerts(Severity.WARNING) if a.details.get("event_id") == unknown]
    assert alert.details["type"] == NEWER_TYPE
    page = world.bus.get(EventOutbox).undelivered(committed_before=FAR_FUTURE, limit=100)
    assert page.events == []  # the readable one went out and left
    assert [(item.event_id, item.type) for item in page.unreadable] == [(unknown, NEWER_TYPE)]

    again = recover(world)

    assert (again.republished, again.unreadable) == (0, 1)  # still kept, for a newer release
    assert len(sent(world, EventType.PAYMENT_FAILED)) == 1
    assert [a for a in world.alerts() if a.details.get("event_id") == unknown] == [alert]


@attrs.frozen
class _ClearingDown:
    """The deployment's outbox, but clearing fails: its store is down."""

    inner: EventOutbox

    def undelivered(self, *, committed_before: dt.datetime, limit: int) -> KeptEvents:
        return self.inner.undelivered(committed_before=committed_before, limit=limit)

    def reported(self, unreadable: Sequence[UnreadableEvent], *, at: dt.datetime) -> None:
        self.inner.reported(unreadable, at=at)

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
