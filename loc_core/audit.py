"""The audit change recorder both products use: what a command changed, entity by entity.

A command snapshots an entity before its first change and describes the difference
afterwards as one `Change` (entity, fields with old and new values, process, reason).
Only the entities a step touches are snapshotted, and only once each, so recording the
audit trail stays proportional to what changed. `Process` names what made a change; its
values are the strings stored as ``loc_process``.
"""

from __future__ import annotations

import enum
import functools
import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

import attrs

from loc_core.events import AuditValue, Change, diff, render

__all__ = [
    "Audited",
    "ChangeRecorder",
    "Process",
    "change",
    "render",
    "snapshot",
]


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


class Audited(Protocol):
    """An entity whose state changes are audited."""

    @property
    def user_id(self) -> str:
        """The borrower the entity belongs to."""
        ...

    def audit_key(self) -> tuple[str, str]:
        """The entity type (``loan``, ``installment``, ...) and the entity's id."""
        ...

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered."""
        ...


def snapshot(entity: attrs.AttrsInstance, *, skip: Collection[str] = ()) -> dict[str, AuditValue]:
    """The fields of an attrs entity but `skip`, rendered as str/int/bool/None, in field order."""
    names, values = _audited_fields(
        type(entity), skip if type(skip) is frozenset else frozenset(skip)
    )
    # `render` returns the plain types as they are: test them here and spare the call
    return {
        name: value if type(value) in _PLAIN else render(value)
        for name, value in zip(names, values(entity), strict=True)
    }


_PLAIN = frozenset({str, int, bool, type(None)})
"""The types `render` returns unchanged."""


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


class ChangeRecorder:
    """Remembers entities before one step changes them, then describes what changed."""

    __slots__ = ("_before", "_process", "_reason")

    def __init__(self, *, process: Process, reason: str) -> None:
        self._process = process
        self._reason = reason
        self._before: dict[tuple[str, str], tuple[Audited, dict[str, AuditValue], str]] = {}

    def touch(self, entity: Audited, *, reason: str | None = None) -> None:
        """Snapshot `entity` before its first change in this step.

        `reason`, when given, says why this entity changed instead of the step's reason.
        """
        key = entity.audit_key()
        if key not in self._before:
            self._before[key] = (
                entity,
                entity.audit_snapshot(),
                self._reason if reason is None else reason,
            )

    def created(self, entity: Audited, *, reason: str | None = None) -> None:
        """Note a new entity: every field changes from nothing (`reason` as for `touch`)."""
        self._before[entity.audit_key()] = (entity, {}, self._reason if reason is None else reason)

    def changes(self) -> list[Change]:
        """One `Change` per touched entity whose fields differ, in the order touched."""
        found: list[Change] = []
        for (kind, entity_id), (entity, before, reason) in self._before.items():
            described = change(
                entity=kind,
                entity_id=entity_id,
                user_id=entity.user_id,
                before=before,
                after=entity.audit_snapshot(),
                process=self._process,
                reason=reason,
            )
            if described is not None:
                found.append(described)
        return found
