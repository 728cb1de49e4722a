"""The `Notifier` contract: every notifier, seen from the service that receives the events.

Fixtures: `notifier`, the adapter under test; `tracked`, the events the service holds
(event id -> event name; a service keys events by id, so a resend updates, never adds);
`refuse`, making the service refuse whatever comes next.
"""

import datetime as dt
from collections.abc import Callable

import pytest

from loc_core.errors import ExternalServiceError
from loc_core.events import DomainEvent, EventType
from loc_core.ports import Notifier

Tracked = Callable[[], dict[str, str]]


def event(subject: str = "pay-1", amount: int = 5000) -> DomainEvent:
    return DomainEvent(
        EventType.PAYMENT_SUCCEEDED,
        "user-1",
        subject,
        dt.date(2026, 1, 5),
        {"amount": amount, "loan_id": "loan-1"},
    )


class NotifierContract:
    def test_an_event_is_tracked_under_its_id_and_name(
        self, notifier: Notifier, tracked: Tracked
    ) -> None:
        notifier.notify(event())
        assert tracked() == {event().event_id: "payment_succeeded"}

    def test_a_resend_makes_no_second_event_but_another_event_does(
        self, notifier: Notifier, tracked: Tracked
    ) -> None:
        notifier.notify(event())
        notifier.notify(event())
        notifier.notify(event("pay-2"))
        assert set(tracked()) == {event().event_id, event("pay-2").event_id}

    def test_a_refused_event_raises_external_service_error(
        self, notifier: Notifier, tracked: Tracked, refuse: Callable[[], None]
    ) -> None:
        refuse()
        with pytest.raises(ExternalServiceError):
            notifier.notify(event())
        assert tracked() == {}
