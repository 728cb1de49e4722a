import datetime as dt
import enum
from decimal import Decimal

import attrs
import pytest

from loc_core.audit import Process, snapshot
from loc_core.events import (
    AuditValue,
    DomainEvent,
    EventType,
    FieldChange,
    Outbox,
    diff,
    render,
)


def test_diff_lists_only_changed_fields_with_old_and_new_values() -> None:
    before: dict[str, AuditValue] = {
        "status": "SCHEDULED",
        "outstanding": 5000,
        "due": "2026-01-05",
    }
    after: dict[str, AuditValue] = {
        "status": "COMPLETED",
        "outstanding": 0,
        "due": "2026-01-05",
        "paid_on": "2026-01-05",
    }
    assert diff(before, after) == (
        FieldChange("status", "SCHEDULED", "COMPLETED"),
        FieldChange("outstanding", 5000, 0),
        FieldChange("paid_on", None, "2026-01-05"),
    )


def test_drain_hands_over_once() -> None:
    outbox = Outbox()
    event = DomainEvent(EventType.LOAN_CLOSED, "u1", "loan-1", dt.date(2026, 1, 5))
    outbox.events.append(event)
    assert outbox
    taken = outbox.drain()
    assert taken.events == [event]
    assert not outbox
    assert outbox.drain().events == []


def test_an_event_id_is_the_same_for_a_resend_and_differs_for_another_event() -> None:
    first = DomainEvent(
        EventType.PAYMENT_SUCCEEDED,
        "u1",
        "pay-1",
        dt.date(2026, 1, 5),
        {"amount": 5000, "loan_id": "loan-1"},
    )
    resend = attrs.evolve(first, data={"loan_id": "loan-1", "amount": 5000})
    assert resend.event_id == first.event_id
    others = [
        attrs.evolve(first, type=EventType.PAYMENT_FAILED),
        attrs.evolve(first, user_id="u2"),
        attrs.evolve(first, subject_id="pay-2"),
        attrs.evolve(first, occurred_on=dt.date(2026, 1, 6)),
        attrs.evolve(first, data={"amount": 5001, "loan_id": "loan-1"}),
    ]
    assert len({first.event_id, *(other.event_id for other in others)}) == 6


@attrs.define
class _Kinds:
    text: str
    amount: int
    flag: bool
    nothing: None
    process: Process
    day: dt.date
    at: dt.datetime
    rate: Decimal
    days: tuple[int, ...]


@attrs.define
class _One:
    only: dt.date


def test_snapshot_renders_every_field_as_render_does_in_field_order() -> None:
    entity = _Kinds(
        "a",
        5,
        True,  # noqa: FBT003 - a positional field value, not a flag argument
        None,
        Process.MANUAL,
        dt.date(2026, 1, 5),
        dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC),
        Decimal("0.1250"),
        (1, 2),
    )
    rendered = {field.name: render(getattr(entity, field.name)) for field in attrs.fields(_Kinds)}
    assert list(snapshot(entity).items()) == list(rendered.items())
    without = {name: value for name, value in rendered.items() if name not in {"flag", "rate"}}
    assert snapshot(entity, skip={"flag", "rate"}) == without
    assert snapshot(entity, skip=frozenset({"flag", "rate"})) == without
    assert snapshot(_One(dt.date(2026, 1, 5))) == {"only": "2026-01-05"}
    assert snapshot(_One(dt.date(2026, 1, 5)), skip={"only"}) == {}


class _Plain(enum.Enum):
    A = "a"
    ONE = 1
    NONE = None


class _Dated(enum.Enum):
    START = dt.date(2026, 1, 5)
    RATE = Decimal("1.50")


class _Text(enum.StrEnum):
    A = "a"


class _Odd(enum.Enum):
    FLOAT = 1.5


def test_an_enum_renders_as_its_value_the_first_time_and_after() -> None:
    for _ in range(2):  # the first render teaches `render` the class; the second uses that
        assert [render(member) for member in _Plain] == ["a", 1, None]
        assert [render(member) for member in _Dated] == ["2026-01-05", "1.50"]
        assert render(_Text.A) is _Text.A  # a str subclass is stored as it is
        with pytest.raises(TypeError, match="cannot audit a float"):
            render(_Odd.FLOAT)
