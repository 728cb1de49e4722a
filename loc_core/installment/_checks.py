"""Argument checks shared by the installment commands; each raises a domain error."""

from __future__ import annotations

import datetime as dt

from loc_core.calendar import require_utc
from loc_core.errors import DomainError, InvalidTimestamp

__all__ = ["require_date", "require_id", "require_moment", "utc_problems"]


def require_id(value: object, *, field: str) -> str:
    """`value` if it is a non-blank string; ids key storage items, so blanks are refused."""
    if not isinstance(value, str) or not value.strip():
        raise DomainError(f"{field} must be a non-empty string, got {value!r}", key=field)
    return value


def require_date(value: object, *, field: str = "today") -> dt.date:
    """`value` if it is a calendar date (a datetime is refused: it compares unlike a date)."""
    if type(value) is not dt.date:
        raise InvalidTimestamp(f"{field} must be a datetime.date, got {value!r}", key=field)
    return value


def require_moment(value: object, *, field: str = "now") -> dt.datetime:
    """`value` if it is an aware UTC datetime."""
    if not isinstance(value, dt.datetime):
        raise InvalidTimestamp(f"{field} must be an aware UTC datetime, got {value!r}", key=field)
    return require_utc(value, field=field)


def utc_problems(record: object, *names: str) -> list[str]:
    """What is wrong with the timestamps `names` of a loaded `record` (None is allowed)."""
    found: list[str] = []
    for name in names:
        moment = getattr(record, name)
        if moment is None or (type(moment) is dt.datetime and moment.tzinfo is dt.UTC):
            continue  # the usual case, decided without computing an offset
        if not isinstance(moment, dt.datetime) or moment.utcoffset() != dt.timedelta(0):
            found.append(f"{name} must be an aware UTC datetime, got {moment!r}")
    return found
