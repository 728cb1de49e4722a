"""What every scheduled job's command shares: the business date it decides for.

A job runs for the clock's business date unless its command names an earlier one
(``as_of``: a missed run, an operator's rerun). The date decides which installments and
lines are due, which cycles closed and what is overdue; the money a run moves still
moves now, under keys unique to the day it is for, so a rerun is harmless.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import attrs

from loc_core.ports import Clock
from loc_core.services.kit import job_date
from loc_core.services.messagebus import Command
from loc_core.validation import Day, validated

__all__ = ["ScheduledJob"]

R_co = TypeVar("R_co", covariant=True)


@attrs.frozen(field_transformer=validated)
class ScheduledJob(Command[R_co]):
    """Base of the scheduled jobs' commands: an optional business date to run for."""

    as_of: Day | None = attrs.field(default=None, kw_only=True)
    """The business date the job decides for; None: the clock's business date."""

    def business_date(self, clock: Clock) -> dt.date:
        """The date this run decides for.

        Raises:
            InvalidRequest: `as_of` is after the clock's business date.
        """
        return job_date(clock, self.as_of)
