"""What every scheduled job's command shares: the business date it decides for.

A job runs for the clock's business date unless its command names an earlier one
(``as_of``: a missed run, an operator's rerun). The date decides which installments and
lines are due, which cycles closed and what is overdue; the money a run moves still
moves now, under keys unique to the day it is for, so a rerun is harmless.

A job with more work than fits one invocation runs page by page (`PageableJob`): the
items after a cursor, by a stable key, at most a page size of them; the report answers
the next cursor. Without either, a job does everything at once, as it always did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import attrs

from loc_core.ports import Clock
from loc_core.services.kit import job_date
from loc_core.services.messagebus import Command
from loc_core.validation import Day, instance_of, valid_count, validated

__all__ = ["JOB_PAGE_SIZE", "MAX_JOB_PAGE_SIZE", "JobPage", "PageableJob", "ScheduledJob"]

R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")

JOB_PAGE_SIZE = 100
"""Items a paged job's driver (a Lambda) asks per page (policy): seconds of work."""
MAX_JOB_PAGE_SIZE = 1_000
"""The largest page a job may be asked for."""


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


@attrs.frozen
class JobPage(Generic[T]):
    """The items one page of a job handles, and the cursor of the next page."""

    items: tuple[T, ...]
    cursor: str | None = None
    """Pass it to the job's next page; None when nothing is left after this page."""


@attrs.frozen(field_transformer=validated)
class PageableJob(ScheduledJob[R_co]):
    """A scheduled job that can run one page of its work, by a stable key.

    A page is at most `page_size` items whose key sorts after `cursor`.
    With neither (the default), the job handles every item in the order it found them,
    in one run, as it always did. A page answers the next cursor (the last key it
    handled) in its report, so a driver resumes exactly after it: an item present for
    the whole run is handled by exactly one page, whatever changed in between.
    """

    cursor: str | None = attrs.field(
        default=None, kw_only=True, validator=instance_of(str, optional=True)
    )
    """Handle only the items whose key sorts after this one (a report's cursor)."""
    page_size: int | None = attrs.field(
        default=None,
        kw_only=True,
        validator=valid_count(minimum=1, maximum=MAX_JOB_PAGE_SIZE, optional=True),
    )
    """Handle at most this many items; None: every one left."""

    def page(self, items: Iterable[T], key: Callable[[T], str]) -> JobPage[T]:
        """This run's items of `items` (duplicates dropped) and the next page's cursor."""
        unique = list(dict.fromkeys(items))
        if self.cursor is None and self.page_size is None:
            return JobPage(tuple(unique))
        keyed = sorted(((key(item), item) for item in unique), key=lambda pair: pair[0])
        if self.cursor is not None:
            keyed = [(k, item) for k, item in keyed if k > self.cursor]
        if self.page_size is None or len(keyed) <= self.page_size:
            return JobPage(tuple(item for _, item in keyed))
        kept = keyed[: self.page_size]
        return JobPage(tuple(item for _, item in kept), kept[-1][0])
