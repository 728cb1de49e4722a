"""One page of a scheduled job, and handing the rest of a run on to a worker.

The line jobs (billing, upcoming, due, overdue), the loans' daily job and the documents
job can each run one page of their work (`PageableJob`: the items after a cursor, by a
stable key; the documents job's cursor names a listing and a place in it). A driver
(the scheduled Lambda) runs pages while it has time; the page that starts without enough
left runs as a `RunJobPage` with `RunJobPage.hand_on`, which also queues a ``job_page``
message holding the next cursor. The collections worker runs that page the same way and
hands on again, until the cursor is exhausted: each cursor is followed once, so no item
is skipped or handled twice by one run. A redelivered message repeats only its own page,
and each job's work on an item is idempotent for its business date, so nothing changes
twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from loc_core.errors import InvalidRequest
from loc_core.ports import Clock, QueueMessage, WorkQueue
from loc_core.services.filing import DocumentsReport, RenderMissingDocuments
from loc_core.services.kit import iso_date, read_message, reading
from loc_core.services.lines.billing import BillClosedCycles
from loc_core.services.lines.due import CollectDueMinimums
from loc_core.services.lines.jobs import JobReport
from loc_core.services.lines.overdue import MarkOverdueLines
from loc_core.services.lines.upcoming import SendUpcomingNotices
from loc_core.services.loans.daily import DailyJobResult, RunDailyLoanJob
from loc_core.services.messagebus import MessageBus
from loc_core.services.scheduled import JOB_PAGE_SIZE, MAX_JOB_PAGE_SIZE, PageableJob, ScheduledJob
from loc_core.validation import instance_of, valid_count, valid_flag, validated

__all__ = ["JOB_PAGE", "PAGED_JOBS", "PagedReport", "RunJobPage", "run_job_page"]

JOB_PAGE = "job_page"
"""The `QueueMessage.kind` handing the rest of a paged job's run to a worker."""

PagedReport = JobReport | DailyJobResult | DocumentsReport
"""What a page of a paged job answers; its ``cursor`` is where the next page starts."""

PAGED_JOBS: Mapping[str, type[PageableJob[Any]]] = {
    job.__name__: job
    for job in (
        BillClosedCycles,
        SendUpcomingNotices,
        CollectDueMinimums,
        MarkOverdueLines,
        RunDailyLoanJob,
        RenderMissingDocuments,
    )
}
"""The jobs a ``job_page`` message may name, by their command's name."""


def _paged_job(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or value not in PAGED_JOBS:
        raise InvalidRequest(
            f"{attribute.name} must be one of {', '.join(sorted(PAGED_JOBS))}, got {value!r}",
            key=attribute.name,
        )


MAX_CURSOR_LENGTH = 4_096
"""The longest cursor a page is handed (policy): two stored keys' worth, with room."""

_DOCUMENT_LISTINGS = ("loans:", "lines:")
"""How a cursor of the documents job starts: the listing it names (`filing`)."""


def _key_cursor(cursor: str) -> str | None:
    """Why `cursor` is not a line or loan paging key ``<user>/<id>``; None when it is.

    The keys are made of stored ids (`line_key`, the daily job's loan key): non-empty,
    without ``/`` or ``#``.
    """
    user_id, slash, entity_id = cursor.partition("/")
    if not slash or not user_id or not entity_id or "/" in entity_id or "#" in cursor:
        return "a page's key <user>/<id>"
    return None


def _documents_cursor(cursor: str) -> str | None:
    """Why `cursor` is not the documents job's (``loans:…`` / ``lines:…``); None when it is."""
    if cursor.startswith(_DOCUMENT_LISTINGS):
        return None
    return f"a listing and a place in it, starting with {' or '.join(_DOCUMENT_LISTINGS)}"


_CURSORS: Mapping[str, Callable[[str], str | None]] = {
    name: _documents_cursor if job is RenderMissingDocuments else _key_cursor
    for name, job in PAGED_JOBS.items()
}
"""What a cursor of each paged job looks like: a check answering why one is not."""


def _job_cursor(instance: RunJobPage, attribute: attrs.Attribute[Any], value: object) -> None:
    """The cursor is None or one `instance.job` gives (checked after `job` itself).

    A cursor of another job, or text no job wrote, would silently page from the wrong
    place (skipping what sorts before it): refused where it is read or written.
    """
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidRequest(
            f"{attribute.name} must be str or None, got {type(value).__name__}",
            key=attribute.name,
        )
    expected = (
        f"at most {MAX_CURSOR_LENGTH} characters"
        if len(value) > MAX_CURSOR_LENGTH
        else _CURSORS[instance.job](value)
    )
    if expected is not None:
        shown = value if len(value) <= 60 else value[:57] + "..."  # noqa: PLR2004 - short
        raise InvalidRequest(
            f"{attribute.name} {shown!r} is not a cursor {instance.job} gives: "
            f"it must be {expected}",
            key=attribute.name,
        )


@attrs.frozen(field_transformer=validated)
class RunJobPage(ScheduledJob[PagedReport]):
    """Run one page of the paged job `job` (a `PAGED_JOBS` name) and maybe hand on."""

    job: str = attrs.field(validator=_paged_job)
    cursor: str | None = attrs.field(default=None, validator=_job_cursor)
    """Where the page starts (a report's cursor, of this job's shape); None: the first item."""
    page_size: int = attrs.field(
        default=JOB_PAGE_SIZE, validator=valid_count(minimum=1, maximum=MAX_JOB_PAGE_SIZE)
    )
    hand_on: bool = attrs.field(default=False, validator=valid_flag)
    """Also queue a ``job_page`` message with the next cursor (a worker goes on)."""

    @classmethod
    def of(cls, command: PageableJob[Any], *, hand_on: bool) -> RunJobPage:
        """The page `command` asks for, as a `RunJobPage` (its other fields: defaults)."""
        return cls(
            type(command).__name__,
            command.cursor,
            command.page_size or JOB_PAGE_SIZE,
            hand_on,
            as_of=command.as_of,
        )

    @classmethod
    def from_message(cls, message: QueueMessage) -> RunJobPage:
        """Read a ``job_page`` message: the next page, handed on again.

        Raises:
            MalformedMessage: a message of another kind or version, a field missing,
                unknown or malformed, or a job no one pages. The message fails and waits
                in the dead-letter queue with its cursor, so the run is not lost.
        """
        page = read_message(_JobPageMessage, message, JOB_PAGE)
        with reading(message):
            return cls(
                page.job,
                page.cursor or None,
                page.page_size,
                hand_on=True,
                as_of=iso_date(page.as_of, "as_of"),
            )

    def command(self, day: dt.date) -> PageableJob[Any]:
        """The job's own command for this page, deciding for `day`."""
        return PAGED_JOBS[self.job](as_of=day, cursor=self.cursor, page_size=self.page_size)

    def message(self, day: dt.date) -> QueueMessage:
        """The ``job_page`` message that runs this page for `day` on a worker."""
        cursor = self.cursor or ""
        digest = hashlib.sha256(f"{self.job}|{day.isoformat()}|{cursor}".encode()).hexdigest()
        return QueueMessage(
            kind=JOB_PAGE,
            body={
                "job": self.job,
                "cursor": cursor,
                "page_size": self.page_size,
                "as_of": day.isoformat(),
            },
            deduplication_id=f"{JOB_PAGE}:{digest[:40]}",
        )


@attrs.frozen
class _JobPageMessage:
    """The body of a ``job_page`` message, as read."""

    job: str = attrs.field(validator=_paged_job)
    cursor: str = attrs.field(validator=instance_of(str))
    page_size: int = attrs.field(validator=valid_count(minimum=1, maximum=MAX_JOB_PAGE_SIZE))
    as_of: str = attrs.field(validator=instance_of(str))


def run_job_page(
    command: RunJobPage, *, bus: MessageBus, queue: WorkQueue, clock: Clock
) -> PagedReport:
    """Run the page through the job's own handler; with `hand_on`, queue the next page.

    Raises:
        InvalidRequest: `as_of` is after the business date or before the look-back
            (`JOB_LOOK_BACK_DAYS`), or the storage refuses the listing's place in the
            cursor (key ``cursor``; the worker fails such a message to the DLQ). A cursor
            of the wrong shape never gets here: `RunJobPage` refuses it when built.
        ExternalServiceError: the queue refused the hand-on message; the page's work is
            done and idempotent, so the retried message repeats it harmlessly.
    """
    day = command.business_date(clock)
    report: PagedReport = bus.handle(command.command(day))
    if command.hand_on and report.cursor is not None:
        queue.send([attrs.evolve(command, cursor=report.cursor).message(day)])
    return report
