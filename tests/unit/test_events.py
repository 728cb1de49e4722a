import datetime as dt

from loc_core.events import AuditValue, DomainEvent, EventType, FieldChange, Outbox, diff


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
