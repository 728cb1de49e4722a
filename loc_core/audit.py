"""The audit change recorder both products use: what a command changed, entity by entity.

A command snapshots an entity before its first change and describes the difference
afterwards as one `Change` (entity, fields with old and new values, process, reason).
Only the entities a step touches are snapshotted, and only once each, so recording the
audit trail stays proportional to what changed. `Process` names what made a change; its
values are the strings stored as ``loc_process``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools
import operator
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any, Protocol

import attrs

from loc_core.events import AuditValue, Change, FieldChange, diff, render, renderer_for

__all__ = [
    "Audited",
    "ChangeRecorder",
    "Fields",
    "Process",
    "change",
    "fields",
    "render",
    "rendered",
    "snapshot",
    "snapshot_fields",
]


Fields = tuple[tuple[str, ...], tuple[Any, ...]]
"""An entity's audited field names (distinct) and their values as read.

`render` gives each value's stored form; the recorder renders at once a value that could
change in place, so an entity may give its lists as they are.
"""


class Process(enum.Enum):
    """What made a change (``loc_process``, and the process of every audit `Change`).

    One vocabulary for both products; each uses the members that name its processes, and
    the values are the stored strings, so existing items stay readable.
    """

    CREATION = "CREATION"
    """An installment loan (and its installments) was created from an application."""
    UNDERWRITING = "UNDERWRITING"
    """Underwriting answered an installment application."""
    OPEN = "OPEN"
    """A credit-line application was answered, or a line opened from it."""
    CONVERSION = "CONVERSION"
    """A credit-line application became a line."""
    EXPIRATION = "EXPIRATION"
    """An offer expired unaccepted."""
    AUTOPAY = "AUTOPAY"
    MANUAL = "MANUAL"
    AUTOPAY_SETTING = "AUTOPAY_SETTING"
    """A borrower (or support) switched a loan's autopay on or off."""
    DRAW = "DRAW"
    DISBURSEMENT = "DISBURSEMENT"
    BILLING = "BILLING"
    PAYMENT = "PAYMENT"
    SETTLEMENT = "SETTLEMENT"
    UNAPPLY = "UNAPPLY"
    """A payment's effect was removed because it was returned or charged back."""
    UPCOMING = "UPCOMING"
    LATE_FEE = "LATE_FEE"
    """The daily job found an amount late and assessed a late fee."""
    OVERDUE = "OVERDUE"
    """The daily job found an amount late (no fee: an installment loan's cap was reached)."""
    CURE = "CURE"
    DEFAULT = "DEFAULT"
    """The daily job defaulted (charged off) the loan or line."""
    CLOSE = "CLOSE"
    CORRECTION = "CORRECTION"
    """An effective-dated correction: history replayed as of its date, the replayed state taken."""
    BILLING_DISPUTE = "BILLING_DISPUTE"
    """A line's billing-error notice was received or resolved (Regulation Z 1026.13)."""
    FEE_WAIVER = "FEE_WAIVER"
    """An operator waived a late fee (an installment's, or a line's for a missed cycle): a
    correction as of the fee's day."""


class Audited(Protocol):
    """An entity whose state changes are audited."""

    @property
    def user_id(self) -> str:
        """The borrower the entity belongs to."""
        ...

    def audit_key(self) -> tuple[str, str]:
        """The entity type (``loan``, ``installment``, ...) and the entity's id."""
        ...

    def audit_fields(self) -> Fields:
        """The audited fields' names and their values as read, each stored as `render` gives it.

        Cheaper than `audit_snapshot`: nothing is rendered until it is known to differ.
        """
        ...

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered: `rendered(*self.audit_fields())`."""
        ...


def snapshot(entity: attrs.AttrsInstance, *, skip: Collection[str] = ()) -> dict[str, AuditValue]:
    """The fields of an attrs entity but `skip`, rendered as str/int/bool/None, in field order."""
    return rendered(*fields(entity, skip=skip))


def fields(entity: attrs.AttrsInstance, *, skip: Collection[str] = ()) -> Fields:
    """The names of an attrs entity's fields but `skip`, in field order, and their values."""
    names, values = _audited_fields(
        type(entity), skip if type(skip) is frozenset else frozenset(skip)
    )
    return names, values(entity)


def rendered(names: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, AuditValue]:
    """The snapshot of `fields`: each name with its value rendered, in order."""
    # `render` returns the plain types as they are: test them here and spare the call
    return {
        name: value if type(value) in _PLAIN else render(value)
        for name, value in zip(names, values, strict=True)
    }


def snapshot_fields(snapshot: Mapping[str, AuditValue]) -> Fields:
    """A rendered snapshot as `Fields`, for an entity that renders its fields itself."""
    return tuple(snapshot), tuple(snapshot.values())


_PLAIN = frozenset({str, int, bool, type(None)})
"""The types `render` returns unchanged."""


_new = object.__new__
_set_field, _set_old, _set_new = (
    vars(FieldChange)[name].__set__ for name in ("field", "old", "new")
)
"""`FieldChange(field, old, new)` is built by setting its slots directly (in `_changed` and
`_created`, inline: they make several per command). The frozen class's own `__init__`
fetches a bound setter and calls it per field, and a FieldChange has no validator to
skip, so setting the slots themselves builds the very same object (`==`, hash, repr)."""


@functools.cache
def _audited_fields(
    kind: type[attrs.AttrsInstance], skip: frozenset[str]
) -> tuple[tuple[str, ...], Callable[[object], tuple[Any, ...]]]:
    """The names of `kind`'s fields but `skip`, in field order, and a getter of their values.

    Computed once per class; the getter reads every value in one call.
    """
    names = tuple(field.name for field in attrs.fields(kind) if field.name not in skip)
    if len(names) > 1:
        return names, operator.attrgetter(*names)
    return names, lambda entity: tuple(getattr(entity, name) for name in names)


def change(
    *,
    entity: str,
    entity_id: str,
    user_id: str,
    before: Mapping[str, AuditValue],
    after: Mapping[str, AuditValue],
    process: Process,
    reason: str,
) -> Change | None:
    """The `Change` from `before` to `after`, or None when no field differs."""
    fields = diff(before, after)
    if not fields:
        return None
    return Change(entity, entity_id, user_id, process.value, reason, fields)


_SETTLED: set[type] = {str, int, bool, type(None), dt.date, dt.datetime, Decimal}
"""Renderable types whose values never change in place (enums join as they are met)."""


def _settled(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """`values` with each value that could change in place (a list, a tuple) rendered now.

    What is left is immutable: a value still `is` the one read later means an unchanged field.
    A tuple of settled values (an empty one, a tuple of enum members) is immutable too, so
    it is kept as it is; an enum is learned the first time it is met, not at every touch.
    """
    if _SETTLED.issuperset(map(type, values)):  # the common case, tested at C speed
        return values
    unsettled = set(map(type, values)).difference(_SETTLED)
    for kind in unsettled:
        if issubclass(kind, enum.Enum) and all(type(m.value) in _PLAIN for m in kind):
            _SETTLED.add(kind)  # members are singletons with plain values: never change
    # The next common case: the only other values are tuples of settled values (a line's
    # empty `withheld_statements`, a draw's `declined_rails`). Kept as they are, the very
    # tuple read is returned, with no new one built value by value.
    if _SETTLED.issuperset(unsettled.difference(_TUPLE)) and all(
        _settled_tuple(value) for value in values if type(value) is tuple
    ):
        return values
    return tuple(
        value if type(value) in _SETTLED or _settled_tuple(value) else render(value)
        for value in values
    )


_TUPLE = (tuple,)


def _settled_tuple(value: object) -> bool:
    """Is `value` a tuple of settled values (so it can never change in place either)?"""
    return type(value) is tuple and _SETTLED.issuperset(map(type, value))


def _changed(
    names: tuple[str, ...], before: tuple[Any, ...], after: tuple[Any, ...]
) -> tuple[FieldChange, ...]:
    """`diff` of the two snapshots of the same fields, rendering only values not identical.

    An identical value is immutable (`_settled`), so it renders the same on both sides; any
    other pair is rendered and compared as `diff` compares it (Decimal("1.0") equals
    Decimal("1.00") but is stored differently, so equal values are not skipped).
    """
    found: list[FieldChange] = []
    for index in itertools.compress(range(len(after)), map(operator.is_not, before, after)):
        old = before[index]
        new = after[index]
        if type(old) not in _PLAIN:  # as `rendered` does: spare the call for plain values
            old = renderer_for(type(old), render)(old)  # see `renderer_for`
        if type(new) not in _PLAIN:
            new = renderer_for(type(new), render)(new)
        if old != new:
            made = _new(FieldChange)  # FieldChange(names[index], old, new): see `_new`
            _set_field(made, names[index])
            _set_old(made, old)
            _set_new(made, new)
            found.append(made)
    return tuple(found)


def _created(names: tuple[str, ...], values: tuple[Any, ...]) -> tuple[FieldChange, ...]:
    """`diff` from nothing to the snapshot of these fields: each field that is not None."""
    found: list[FieldChange] = []
    for name, value in zip(names, values, strict=True):
        new = value if type(value) in _PLAIN else renderer_for(type(value), render)(value)
        if new is not None:
            made = _new(FieldChange)  # FieldChange(name, None, new): see `_new`
            _set_field(made, name)
            _set_old(made, None)
            _set_new(made, new)
            found.append(made)
    return tuple(found)


_set_entity, _set_entity_id, _set_user_id, _set_process, _set_reason, _set_fields = (
    vars(Change)[name].__set__
    for name in ("entity", "entity_id", "user_id", "process", "reason", "fields")
)
"""`ChangeRecorder.changes` builds each `Change` by setting its slots, as `_changed` builds a
`FieldChange` (`_new`): constructing an attrs class calls its `__init__` from C (a second
evaluation loop), and that sets each field through a bound setter; `Change` has no
validator or converter to skip, so this builds the very same object (`==`, hash, repr)."""


class ChangeRecorder:
    """Remembers entities before one step changes them, then describes what changed.

    It keeps the values the fields hold (`Audited.audit_fields`), not their rendered
    forms, and renders only the fields that are no longer the very same value.
    """

    __slots__ = ("_before", "_process", "_reason")

    def __init__(self, *, process: Process, reason: str) -> None:
        self._process = process
        self._reason = reason
        self._before: dict[tuple[str, str], tuple[Audited, Fields | None, str]] = {}
        """Each entity, its fields before the step (None: created in it), and its reason."""

    def touch(self, entity: Audited, *, reason: str | None = None) -> None:
        """Snapshot `entity` before its first change in this step.

        `reason`, when given, says why this entity changed instead of the step's reason.
        """
        key = entity.audit_key()
        if key not in self._before:
            names, values = entity.audit_fields()
            self._before[key] = (
                entity,
                (names, _settled(values)),
                self._reason if reason is None else reason,
            )

    def created(self, entity: Audited, *, reason: str | None = None) -> None:
        """Note a new entity: every field changes from nothing (`reason` as for `touch`)."""
        self._before[entity.audit_key()] = (
            entity,
            None,
            self._reason if reason is None else reason,
        )

    def changes(self) -> list[Change]:
        """One `Change` per touched entity whose fields differ, in the order touched."""
        found: list[Change] = []
        process = self._process._value_  # `.value` without the enum property's two calls
        for (kind, entity_id), (entity, before, reason) in self._before.items():
            names, after = entity.audit_fields()
            if before is None:
                fields = _created(names, after)
            elif before[0] == names:
                fields = _changed(names, before[1], after)
            else:  # a field came or went: compare the snapshots
                fields = diff(rendered(*before), rendered(names, after))
            if fields:
                made = _new(Change)  # Change(kind, entity_id, ...): see `_set_entity`
                _set_entity(made, kind)
                _set_entity_id(made, entity_id)
                _set_user_id(made, entity.user_id)
                _set_process(made, process)
                _set_reason(made, reason)
                _set_fields(made, fields)
                found.append(made)
        return found
