"""Adapters over the machine itself: the wall clock."""

from __future__ import annotations

import datetime as dt

import attrs

__all__ = ["SystemClock"]


@attrs.frozen
class SystemClock:
    """A `Clock` reading the machine's time, in UTC."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""
        return dt.datetime.now(dt.UTC)
