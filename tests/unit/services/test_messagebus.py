"""The message bus: one handler per command, ports injected, events after the commit."""

import datetime as dt
from collections.abc import Sequence

import attrs
import pytest

from loc_adapters.memory import InMemoryDatabase, InMemoryMetrics, ManualClock, RecordingNotifier
from loc_core.errors import ExternalServiceError, InvalidConfiguration, NotFound
from loc_core.events import DomainEvent, EventType
from loc_core.ports import Clock, EventOutbox, Metrics, Notifier, QueueMessage
from loc_core.services.handlers import HANDLERS
from loc_core.services.messagebus import Command, MessageBus, Publisher
from loc_entrypoints.bootstrap import bootstrap

NOW = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)


@attrs.frozen
class WhatTimeIsIt(Command[dt.datetime]):
    pass


@attrs.frozen
class Announce(Command[int]):
    user_id: str


@attrs.frozen
class Fail(Command[None]):
    pass


def what_time_is_it(_command: WhatTimeIsIt, *, clock: Clock) -> dt.datetime:
    return clock.now()


def announce(command: Announce, *, publish: Publisher) -> int:
    event = DomainEvent(EventType.LOAN_CLOSED, command.user_id, "loan-1", NOW.date(), {})
    return publish([event, event])


def fail(_command: Fail) -> None:
    raise NotFound("no such loan")


def tell(event: DomainEvent, *, notifier: Notifier) -> None:
    notifier.notify(event)


def make_bus() -> tuple[MessageBus, RecordingNotifier, InMemoryMetrics]:
    notifier, metrics = RecordingNotifier(), InMemoryMetrics()
    bus = MessageBus(
        dependencies={Clock: ManualClock(NOW), Notifier: notifier, Metrics: metrics},
        handlers={WhatTimeIsIt: what_time_is_it, Announce: announce, Fail: fail},
        event_handlers={DomainEvent: [tell]},
        messages={"announce": lambda message: Announce(str(message.body["user_id"]))},
    )
    return bus, notifier, metrics


def test_the_bus_injects_the_ports_a_handler_declares_and_returns_its_answer() -> None:
    bus, _, _ = make_bus()
    assert bus.handle(WhatTimeIsIt()) == NOW


def test_published_events_reach_their_event_handlers_in_order() -> None:
    bus, notifier, _ = make_bus()
    assert bus.handle(Announce("user-7")) == 2
    assert [e.user_id for e in notifier.sent] == ["user-7", "user-7"]


class _OutboxDown(InMemoryDatabase):
    """An outbox that keeps events but cannot clear them: its store is down."""

    def delivered(self, events: Sequence[DomainEvent]) -> None:
        raise ExternalServiceError(f"DynamoDB DeleteItem of {len(events)} failed: Throttling")


def test_an_outbox_that_cannot_clear_what_went_out_fails_nothing() -> None:
    """The borrower was told; only the record of it failed. The command succeeds (no 503
    for a payment that was made), and the events stay kept for the recovery job."""
    bus, notifier, metrics = make_bus()
    outbox = _OutboxDown(ManualClock(NOW))
    outbox.keep_events(
        [DomainEvent(EventType.LOAN_CLOSED, "user-7", "loan-1", NOW.date(), {})], at=NOW
    )
    down = bus.replacing({EventOutbox: outbox})
    assert down.handle(Announce("user-7")) == 2
    assert [e.user_id for e in notifier.sent] == ["user-7", "user-7"]
    assert metrics.count("loc.outbox.not_cleared") == 2
    assert (
        len(outbox.undelivered(committed_before=NOW + dt.timedelta(days=1), limit=10).events) == 1
    )


def test_a_queue_message_becomes_its_command() -> None:
    bus, notifier, _ = make_bus()
    message = QueueMessage(kind="announce", body={"user_id": "user-3"}, deduplication_id="d")
    assert bus.handle_message(message) == 2
    assert notifier.sent[0].user_id == "user-3"
    with pytest.raises(InvalidConfiguration, match="'collect'"):
        bus.handle_message(attrs.evolve(message, kind="collect"))


def test_a_handler_error_reaches_the_caller_and_is_counted() -> None:
    bus, _, metrics = make_bus()
    with pytest.raises(NotFound, match="no such loan"):
        bus.handle(Fail())
    bus.handle(WhatTimeIsIt())
    assert metrics.counters["loc.command.Fail", ("outcome:error",)] == 1
    assert metrics.counters["loc.command.WhatTimeIsIt", ("outcome:ok",)] == 1


def test_a_command_without_a_handler_is_refused_by_name() -> None:
    bus, _, _ = make_bus()

    @attrs.frozen
    class Unknown(Command[None]):
        pass

    with pytest.raises(InvalidConfiguration, match="Unknown"):
        bus.handle(Unknown())


def _bus_without_a_clock() -> MessageBus:
    return MessageBus(
        dependencies={},
        handlers={WhatTimeIsIt: what_time_is_it},
        event_handlers={},
        messages={},
    )


def test_a_missing_port_is_refused_when_the_bus_is_built_not_mid_payment() -> None:
    with pytest.raises(InvalidConfiguration, match=r"what_time_is_it needs clock"):
        _bus_without_a_clock()


def test_a_later_bus_missing_a_port_an_earlier_bus_had_is_still_refused() -> None:
    """A handler's parameters are read once per process; each bus still binds its own."""
    first, _, _ = make_bus()
    assert first.handle(WhatTimeIsIt()) == NOW
    with pytest.raises(InvalidConfiguration, match=r"what_time_is_it needs clock"):
        _bus_without_a_clock()
    later = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    second = first.replacing({Clock: ManualClock(later)})
    assert (first.handle(WhatTimeIsIt()), second.handle(WhatTimeIsIt())) == (NOW, later)


def test_replacing_one_adapter_keeps_the_others() -> None:
    bus, notifier, _ = make_bus()
    later = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    other = bus.replacing({Clock: ManualClock(later)})
    assert other.handle(WhatTimeIsIt()) == later
    assert bus.handle(WhatTimeIsIt()) == NOW
    other.handle(Announce("user-9"))
    assert notifier.sent[-1].user_id == "user-9"


def test_every_command_has_exactly_one_handler_taking_it_first() -> None:
    for command, handler in HANDLERS.items():
        first = next(iter(handler.__annotations__))
        assert first in {"command", "query", "_command"}, handler.__qualname__
        assert issubclass(command, Command)
    names = [command.__name__ for command in HANDLERS]
    assert len(names) == len(set(names))


def test_the_embedded_default_wires_every_handler_without_settings() -> None:
    bus = bootstrap()
    assert isinstance(bus.get(Clock).now(), dt.datetime)
