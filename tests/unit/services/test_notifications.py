import datetime as dt

from deployment import Deployment

from loc_core.events import DomainEvent, EventType


def test_a_notifier_failure_is_alerted_and_the_next_event_still_goes_out() -> None:
    world = Deployment.build()
    closed = DomainEvent(EventType.LOAN_CLOSED, "u1", "loan-1", dt.date(2026, 1, 5))
    world.notifier.failing = True
    world.bus.publish([closed])
    (alert,) = world.alerts()
    assert alert.title == "notification loan_closed not sent"
    assert (alert.details["user_id"], alert.details["subject_id"]) == ("u1", "loan-1")
    assert world.notifier.sent == []
    world.notifier.failing = False
    world.bus.publish([closed])
    assert world.notifier.sent == [closed]
