"""A clock that moves only when told to: tests and the simulation set the time."""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.calendar import require_utc


@attrs.define
class ManualClock:
    """A `Clock` whose time is set and advanced by its owner."""

    _now: dt.datetime = attrs.field(
        alias="now", converter=require_utc, on_setattr=attrs.setters.NO_OP
    )
    """Checked when the clock is made and in `set`, its only writer (a simulated day sets
    the clock ten times, so the check is not run twice per move)."""

    def now(self) -> dt.datetime:
        """The instant the clock was last set to."""
        return self._now

    def set(self, moment: dt.datetime) -> None:
        """Move to `moment` (kept in `datetime.UTC`); the clock never goes backwards."""
        moment = require_utc(moment)
        if moment < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {moment}")
        self._now = moment

    def advance(self, delta: dt.timedelta) -> None:
        """Move forward by `delta`."""
        self.set(self._now + delta)
