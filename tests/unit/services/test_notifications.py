import datetime as dt

import attrs
import pytest
from deployment import Deployment

from loc_core.errors import DomainError, ExternalServiceError
from loc_core.events import DomainEvent, EventType
from loc_core.ports import QueueMessage, Severity, WorkQueue
from loc_core.services.commands import RESEND_NOTIFICATION, ResendNotification

VISIBILITY = dt.timedelta(minutes=5)
CLOSED = DomainEvent(
    EventType.LOAN_CLOSED, "u1", "loan-1", dt.date(2026, 1, 5), {"amount": 5_000, "note": None}
)


def work(world: Deployment) -> list[Exception]:
    """One pass of a worker over the queue: ack what succeeds, leave what raises."""
    failures: list[Exception] = []
    for delivery in world.queue.receive(max_messages=10, visibility=VISIBILITY):
        try:
            world.bus.handle_message(delivery.message)
        except ExternalServiceError as exc:
            failures.append(exc)
            continue
        world.queue.ack(delivery)
    return failures


def test_a_failed_notification_is_alerted_queued_and_sent_once_by_the_resend_worker() -> None:
    world = Deployment.build()
    world.notifier.failing = True
    world.bus.publish([CLOSED])
    (alert,) = world.alerts()
    assert alert.severity is Severity.WARNING
    assert alert.title == "notification loan_closed not sent; queued for a resend"
    assert (alert.details["user_id"], alert.details["subject_id"]) == ("u1", "loan-1")
    assert world.notifier.sent == []
    world.notifier.failing = False
    assert work(world) == []
    assert world.notifier.sent == [CLOSED]
    assert world.notifier.sent[0].event_id == CLOSED.event_id  # Iterable keys the event by it
    assert work(world) == []  # acked: nothing is sent again
    assert world.notifier.sent == [CLOSED]


def test_a_resend_that_fails_again_stays_on_the_queue_until_it_succeeds() -> None:
    world = Deployment.build()
    world.notifier.failing = True
    world.bus.publish([CLOSED])
    (failure,) = work(world)
    assert isinstance(failure, ExternalServiceError)
    world.clock.advance(VISIBILITY)
    world.notifier.failing = False
    assert work(world) == []
    assert world.notifier.sent == [CLOSED]


def test_the_next_event_still_goes_out_after_a_failure() -> None:
    world = Deployment.build()
    world.notifier.failing = True
    world.bus.publish([CLOSED])
    world.notifier.failing = False
    opened = attrs.evolve(CLOSED, type=EventType.LOAN_DISBURSED)
    world.bus.publish([opened])
    assert world.notifier.sent == [opened]


@attrs.define
class DownQueue:
    """A work queue that refuses every send (SQS down)."""

    def send(self, messages: object) -> None:
        raise ExternalServiceError(f"SQS is down; {messages!r} not sent")


def test_a_notification_neither_sent_nor_queued_is_a_critical_alert() -> None:
    world = Deployment.build(overrides={WorkQueue: DownQueue()})
    world.notifier.failing = True
    world.bus.publish([CLOSED])
    (alert,) = world.alerts()
    assert alert.severity is Severity.CRITICAL
    assert "not queued for a resend" in alert.title
    assert alert.details["event_id"] == CLOSED.event_id


def test_the_message_round_trips_the_event_exactly() -> None:
    message = ResendNotification(CLOSED).message()
    assert (message.kind, message.deduplication_id) == (RESEND_NOTIFICATION, CLOSED.event_id)
    assert ResendNotification.from_message(message).event == CLOSED


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "collect_installment"},
        {"body": {}},
        {"deduplication_id": "not-the-event-id"},
        {"body": {**ResendNotification(CLOSED).message().body, "type": "no_such_event"}},
        {"body": {**ResendNotification(CLOSED).message().body, "data": "[1, 2]"}},
        {"body": {**ResendNotification(CLOSED).message().body, "data": '{"x": [1]}'}},
        {"body": {**ResendNotification(CLOSED).message().body, "occurred_on": "yesterday"}},
    ],
    ids=["kind", "empty", "id", "type", "data-list", "data-nested", "date"],
)
def test_a_malformed_resend_message_is_refused_and_sends_nothing(change: dict[str, object]) -> None:
    world = Deployment.build()
    message = attrs.evolve(ResendNotification(CLOSED).message(), **change)  # type: ignore[arg-type]  # a test's hostile fields
    with pytest.raises(DomainError):
        ResendNotification.from_message(message)
    if isinstance(message, QueueMessage) and message.kind == RESEND_NOTIFICATION:
        with pytest.raises(DomainError):
            world.bus.handle_message(message)
    assert world.notifier.sent == []
