"""`ChangeRecorder` renders only what changed: it must describe every change as `diff` does.

The reference is the plain algorithm: render every field before and after, `diff` the two
snapshots. The recorder keeps the values read instead and skips a field whose value is
still the very same object, so these tests try what could fool that: values equal but
stored differently, lists changed in place, fields that come and go.
"""

import datetime as dt
import enum
import pickle
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from loc_core import audit
from loc_core.audit import ChangeRecorder, Fields, Process
from loc_core.events import AuditValue, Change, diff
from loc_entrypoints.simulation import Scenario, run_simulation


class _Colour(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


@attrs.define
class _Entity:
    user_id: str
    entity_id: str
    number: Any = 0
    """An int, a bool (``True == 1``: not reported, as `diff` compares), or None."""
    rate: Decimal | None = None
    day: dt.date | None = None
    at: dt.datetime | None = None
    colour: _Colour | None = None
    items: list[int] = attrs.field(factory=list)
    pair: tuple[int, ...] = ()
    extra: Decimal | None = None
    """Audited only while set, as a payment's refund is."""

    def audit_key(self) -> tuple[str, str]:
        return ("thing", self.entity_id)

    def audit_fields(self) -> Fields:
        names, values = audit.fields(self, skip={"user_id", "extra"})
        if self.extra is None:
            return names, values
        return (*names, "extra"), (*values, self.extra)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        return audit.rendered(*self.audit_fields())


_UTC = dt.UTC
_PLUS_ONE = dt.timezone(dt.timedelta(hours=1))
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "number": st.sampled_from([0, 1, True, False, None, 10**30]),
    "rate": st.sampled_from([None, Decimal(1), Decimal("1.0"), Decimal("1.00"), Decimal("2.5")]),
    "day": st.sampled_from([None, dt.date(2026, 1, 5), dt.date(2026, 1, 6)]),
    "at": st.sampled_from(
        [
            None,
            dt.datetime(2026, 1, 5, 12, tzinfo=_UTC),
            dt.datetime(2026, 1, 5, 13, tzinfo=_PLUS_ONE),  # the same instant
        ]
    ),
    "colour": st.sampled_from([None, _Colour.RED, _Colour.BLUE]),
    "items": st.lists(st.integers(0, 3), max_size=3),
    "pair": st.lists(st.integers(0, 3), max_size=3).map(tuple),
    "extra": st.sampled_from([None, Decimal("0.5"), Decimal("0.50")]),
}
_STEP = st.one_of(
    *(st.tuples(st.just(name), values) for name, values in _VALUES.items()),
    st.tuples(st.just("append"), st.integers(0, 3)),  # the list changes in place
    st.tuples(st.just("copy"), st.sampled_from(list(_VALUES))),  # an equal, new object
)


def _entity(data: st.DataObject, entity_id: str) -> _Entity:
    values = {name: data.draw(values) for name, values in _VALUES.items()}
    return _Entity("u1", entity_id, **values)


def _apply(entity: _Entity, step: tuple[str, Any]) -> None:
    name, value = step
    if name == "append":
        entity.items.append(value)
    elif name == "copy":
        copied = pickle.loads(pickle.dumps(getattr(entity, value)))  # noqa: S301 - our own bytes
        setattr(entity, value, copied)
    else:
        setattr(entity, name, value)


def _reference(entity: _Entity, before: dict[str, AuditValue], reason: str) -> list[Change]:
    fields = diff(before, entity.audit_snapshot())
    if not fields:
        return []
    return [Change("thing", entity.entity_id, "u1", "MANUAL", reason, fields)]


@given(st.data(), st.lists(_STEP, max_size=6), st.lists(_STEP, max_size=3))
def test_the_recorder_describes_each_change_as_diffing_rendered_snapshots_does(
    data: st.DataObject, steps: list[tuple[str, Any]], new_steps: list[tuple[str, Any]]
) -> None:
    touched = _entity(data, "t1")
    recorder = ChangeRecorder(process=Process.MANUAL, reason="step")
    recorder.touch(touched)
    before = touched.audit_snapshot()
    recorder.touch(touched, reason="ignored: touched already")
    new = _entity(data, "n1")
    recorder.created(new, reason="made")
    for step in steps:
        _apply(touched, step)
    for step in new_steps:
        _apply(new, step)
    assert recorder.changes() == _reference(touched, before, "step") + _reference(new, {}, "made")


def test_a_list_changed_in_place_is_reported() -> None:
    entity = _Entity("u1", "t1", items=[1])
    recorder = ChangeRecorder(process=Process.MANUAL, reason="step")
    recorder.touch(entity)
    entity.items.append(2)
    [described] = recorder.changes()
    assert [(f.field, f.old, f.new) for f in described.fields] == [("items", "1", "1,2")]


def test_a_list_changed_in_place_inside_a_tuple_is_reported() -> None:
    """A tuple is kept unrendered only when it holds settled values: this one holds a list."""
    inner = [1]
    entity = _Entity("u1", "t1", number=(inner,))
    recorder = ChangeRecorder(process=Process.MANUAL, reason="step")
    recorder.touch(entity)
    inner.append(2)
    [described] = recorder.changes()
    assert [(f.field, f.old, f.new) for f in described.fields] == [("number", "1", "1,2")]


def test_equal_decimals_stored_differently_are_reported() -> None:
    entity = _Entity("u1", "t1", rate=Decimal("1.0"))
    recorder = ChangeRecorder(process=Process.MANUAL, reason="step")
    recorder.touch(entity)
    entity.rate = Decimal("1.00")
    [described] = recorder.changes()
    assert [(f.field, f.old, f.new) for f in described.fields] == [("rate", "1.0", "1.00")]


def test_every_change_of_a_simulated_year_is_what_diffing_rendered_snapshots_gives(
    monkeypatch: Any,
) -> None:
    """Every product entity, as the simulation changes it: the same changes as the reference."""
    seen: list[tuple[str, ...]] = []
    checked = 0
    snapshots: dict[tuple[int, tuple[str, str]], dict[str, AuditValue]] = {}

    def touch(recorder: ChangeRecorder, entity: Any, *, reason: str | None = None) -> None:
        if entity.audit_key() not in recorder._before:
            snapshots[id(recorder), entity.audit_key()] = entity.audit_snapshot()
        original_touch(recorder, entity, reason=reason)

    def changes(recorder: ChangeRecorder) -> list[Change]:
        nonlocal checked
        expected = []
        for (kind, entity_id), (
            entity,
            before,
            reason,
        ) in recorder._before.items():  # the recorder's own record
            names, _ = entity.audit_fields()
            assert len(set(names)) == len(names)
            seen.append((kind, "created" if before is None else "touched"))
            old = {} if before is None else snapshots[id(recorder), (kind, entity_id)]
            fields = diff(old, entity.audit_snapshot())
            if fields:
                process = recorder._process.value
                expected.append(Change(kind, entity_id, entity.user_id, process, reason, fields))
        found = original(recorder)
        assert found == expected
        checked += len(found)
        return found

    original = ChangeRecorder.changes
    original_touch = ChangeRecorder.touch
    monkeypatch.setattr(ChangeRecorder, "changes", changes)
    monkeypatch.setattr(ChangeRecorder, "touch", touch)
    run_simulation(Scenario().resized(borrowers=20, days=365, seed=0))
    kinds = {"line", "installment", "payment", "draw", "loan", "application"}
    assert {kind for kind, _ in seen} == kinds
    assert {how for _, how in seen} == {"created", "touched"}
    assert checked > 100
