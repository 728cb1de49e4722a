"""Operations routes (service role only): run a job, reconcile a borrower, read audit.

A job runs on the deployment's clock: the ``business_date`` a caller names must be that
day, so a job is never run for a day the books are not on (the jobs catch up on missed
days themselves).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
from litestar import Response, Router, get, post
from litestar.params import FromPath, JSONBody

from loc_core.errors import InvalidRequest
from loc_core.events import AuditRecord
from loc_core.ports import Clock
from loc_core.services.commands import (
    BillClosedCycles,
    CollectDueMinimums,
    EnqueueDueInstallments,
    ListLines,
    ListLoans,
    MarkOverdueLines,
    ReadAuditTrail,
    ReconcileLine,
    ReconcileLoan,
    RecoverTransfers,
    RunDailyLoanJob,
    SendUpcomingNotices,
)
from loc_core.services.messagebus import Command
from loc_entrypoints.http.auth import require_service
from loc_entrypoints.http.deps import Bus, Once, Who
from loc_entrypoints.http.idempotency import IdempotencyKey
from loc_entrypoints.http.loans import PathId
from loc_entrypoints.http.pages import Cursor, Limit, paginate
from loc_entrypoints.http.problems import responses

__all__ = ["router"]

_TAGS = ["operations"]


class Job(enum.Enum):
    """The jobs an operator may run."""

    LOAN_DAILY = "loan-daily"
    LOAN_COLLECTIONS = "loan-collections"
    LINE_BILLING = "line-billing"
    LINE_UPCOMING = "line-upcoming"
    LINE_DUE = "line-due"
    LINE_OVERDUE = "line-overdue"
    RECOVER_TRANSFERS = "recover-transfers"


_COMMANDS: dict[Job, type[Command[Any]]] = {
    Job.LOAN_DAILY: RunDailyLoanJob,
    Job.LOAN_COLLECTIONS: EnqueueDueInstallments,
    Job.LINE_BILLING: BillClosedCycles,
    Job.LINE_UPCOMING: SendUpcomingNotices,
    Job.LINE_DUE: CollectDueMinimums,
    Job.LINE_OVERDUE: MarkOverdueLines,
    Job.RECOVER_TRANSFERS: RecoverTransfers,
}


@attrs.frozen
class JobRequest:
    """The business date the job is for: the deployment's today."""

    business_date: dt.date


@attrs.frozen
class JobRunView:
    """What a job did: its counts (changed, skipped, ...) and the ids that failed."""

    job: str
    business_date: dt.date
    counts: dict[str, int]
    failed: list[str]


@attrs.frozen
class LoanCheck:
    """One loan's reconciliation."""

    loan_id: str
    matches: bool
    problems: list[str]


@attrs.frozen
class LineCheck:
    """One line's reconciliation: each figure that disagrees."""

    line_id: str
    matches: bool
    mismatches: list[str]


@attrs.frozen
class BorrowerReconciliation:
    """Every loan and line of a borrower checked against the journal."""

    user_id: str
    matches: bool
    loans: list[LoanCheck]
    lines: list[LineCheck]


@attrs.frozen
class FieldChangeView:
    """One field's value before and after an audited change."""

    field: str
    old: str | int | bool | None
    new: str | int | bool | None


@attrs.frozen
class AuditRecordView:
    """One audited change: what changed, who made it, for which request, when."""

    record_id: str
    entity: str
    entity_id: str
    user_id: str
    process: str
    reason: str
    actor: str
    request_id: str
    recorded_at: dt.datetime
    fields: list[FieldChangeView]

    @classmethod
    def of(cls, record: AuditRecord) -> AuditRecordView:
        """The view of an audit record."""
        change = record.change
        return cls(
            record_id=record.record_id,
            entity=change.entity,
            entity_id=change.entity_id,
            user_id=change.user_id,
            process=change.process,
            reason=change.reason,
            actor=record.actor,
            request_id=record.request_id,
            recorded_at=record.recorded_at,
            fields=[FieldChangeView(item.field, item.old, item.new) for item in change.fields],
        )


@attrs.frozen
class AuditPage:
    """A page of an entity's audit trail, oldest first."""

    items: list[AuditRecordView]
    next_cursor: str | None


def _report(job: Job, day: dt.date, result: object) -> JobRunView:
    if isinstance(result, int):
        return JobRunView(job.value, day, {"enqueued": result}, [])
    counts: dict[str, int] = {}
    failed: list[str] = []
    for name, value in attrs.asdict(result, recurse=False).items():  # type: ignore[arg-type]  # every job result is an attrs class
        if name == "failed" and isinstance(value, tuple):
            failed = [str(item) for item in value]
            counts[name] = len(value)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            counts[name] = value
        elif isinstance(value, tuple):
            counts[name] = len(value)
    return JobRunView(job.value, day, counts, failed)


@post(
    "/jobs/{job:str}",
    operation_id="runJob",
    summary="Run a job for the business date (service role)",
    responses=responses(403, 409, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def run_job(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    job: FromPath[Job],
    data: JSONBody[JobRequest],
    idempotency_key: IdempotencyKey,
) -> Response[JobRunView]:
    """Run one job; it moves money (collections), so it takes an idempotency key."""
    require_service(caller)
    today = bus.get(Clock).now().date()
    if data.business_date != today:
        raise InvalidRequest(
            f"business_date must be the deployment's today, {today.isoformat()}",
            key="business_date",
        )
    return replays.run(
        user_id=caller.user_id,
        route=f"operations.job:{job.value}",
        key=idempotency_key,
        body=data,
        status=200,
        answer=lambda: _report(job, today, bus.handle(_COMMANDS[job]())),
    )


@post(
    "/users/{user_id:str}/reconcile",
    operation_id="reconcileBorrower",
    summary="Check each of a borrower's loans and lines against the journal (service role)",
    responses=responses(403),
    tags=_TAGS,
    sync_to_thread=False,
    status_code=200,
)
def reconcile(
    *,
    caller: Who,
    bus: Bus,
    user_id: PathId,
) -> BorrowerReconciliation:
    """Reconcile; reads only (operations are alerted on a mismatch)."""
    require_service(caller)
    loans = []
    for loan in bus.handle(ListLoans(user_id)):
        checked = bus.handle(ReconcileLoan(user_id, loan.loan_id))
        loans.append(LoanCheck(loan.loan_id, not checked.problems, list(checked.problems)))
    lines = []
    for line in bus.handle(ListLines(user_id)):
        result = bus.handle(ReconcileLine(user_id, line.line_id))
        lines.append(LineCheck(line.line_id, result.matches, sorted(result.mismatches)))
    matches = all(check.matches for check in loans) and all(check.matches for check in lines)
    return BorrowerReconciliation(user_id, matches, loans, lines)


@get(
    "/audit/{entity:str}/{entity_id:str}",
    operation_id="readAuditTrail",
    summary="The audit trail of one entity, oldest first (service role)",
    responses=responses(403),
    tags=_TAGS,
    sync_to_thread=False,
)
def read_audit_trail(
    *,
    caller: Who,
    bus: Bus,
    entity: PathId,
    entity_id: PathId,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> AuditPage:
    """A page of the entity's audit records (empty for an entity never audited)."""
    require_service(caller)
    records = bus.handle(ReadAuditTrail(entity, entity_id))
    page, following = paginate(records, cursor=cursor, limit=limit)
    return AuditPage([AuditRecordView.of(record) for record in page], following)


router = Router(path="/operations", route_handlers=[run_job, reconcile, read_audit_trail])
"""The operations routes, under ``/operations``."""
