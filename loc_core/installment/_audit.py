"""Audit snapshots: what an entity looked like before and after one step of a command.

Only the entities a step touches are snapshotted, and only once each, so recording the
audit trail stays proportional to what changed.
"""

from __future__ import annotations

from typing import Protocol

from loc_core.events import AuditValue, Change, diff, render

__all__ = ["Audited", "ChangeRecorder", "render"]


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


class ChangeRecorder:
    """Remembers entities before one step changes them, then describes what changed."""

    __slots__ = ("_before", "_process", "_reason")

    def __init__(self, *, process: str, reason: str) -> None:
        self._process = process
        self._reason = reason
        self._before: dict[tuple[str, str], tuple[Audited, dict[str, AuditValue]]] = {}

    def touch(self, entity: Audited) -> None:
        """Snapshot `entity` before its first change in this step."""
        key = entity.audit_key()
        if key not in self._before:
            self._before[key] = (entity, entity.audit_snapshot())

    def created(self, entity: Audited) -> None:
        """Note a new entity: every field changes from nothing."""
        self._before[entity.audit_key()] = (entity, {})

    def changes(self) -> list[Change]:
        """One `Change` per touched entity whose fields differ, in the order touched."""
        found: list[Change] = []
        for (kind, entity_id), (entity, before) in self._before.items():
            fields = diff(before, entity.audit_snapshot())
            if fields:
                found.append(
                    Change(kind, entity_id, entity.user_id, self._process, self._reason, fields)
                )
        return found
