"""Operations routes (service role only): jobs, reconciliation, audit, refunds, fee waivers.

A job runs through `loc_entrypoints.jobs` exactly as ``loc job run`` and the schedules
run it, for a business date no later than the clock's (docs/jobs.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import attrs
from litestar import Response, Router, get, post
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from loc_core.audit import Process
from loc_core.errors import InvalidRequest
from loc_core.events import AuditRecord
from loc_core.ports import AuditRecordPage, Clock
from loc_core.services.commands import (
    ListLines,
    ListLoans,
    ReadAuditTrail,
    ReadProcessAuditTrail,
    ReadUserAuditTrail,
    ReconcileLine,
    ReconcileLoan,
    RecordRefundPaid,
    WaiveLateFee,
    WaiveLineLateFee,
)
from loc_entrypoints.http.auth import service_only
from loc_entrypoints.http.bodies import strict_body
from loc_entrypoints.http.deps import Bus, Once, Who
from loc_entrypoints.http.idempotency import IdempotencyKey
from loc_entrypoints.http.loans import PathId
from loc_entrypoints.http.pages import Limit
from loc_entrypoints.http.problems import responses
from loc_entrypoints.http.views import CURRENCY
from loc_entrypoints.jobs import run_job as run_scheduled_job

__all__ = ["router"]

_TAGS = ["operations"]

AuditCursor = Annotated[
    str | None,
    QueryParameter(max_length=256, description="The `next_cursor` of the previous page."),
]
"""An audit page's cursor: longer than a list's, it holds where the store stopped reading."""
Action = Annotated[
    str,
    PathParameter(
        pattern=f"^({'|'.join(process.value for process in Process)})$",
        description="What made the changes: a process such as `AUTOPAY`, `MANUAL`, `BILLING`.",
    ),
]


@attrs.frozen
class JobRequest:
    """The business date the job decides for (None: the clock's); never a later one."""

    business_date: dt.date | None = None


@attrs.frozen
class RefundPaidRequest:
    """A refund due the lender paid out outside loc: when, its reference, and why."""

    paid_on: dt.date
    """The day the money went out: not after today, not before the refund was recorded."""
    reference: str
    """The payout's reference: a check number, the processor's transfer id."""
    reason: str
    """Why, as the audit trail should say it."""
    amount: int
    """The cents sent: refused unless it is what is left of the refund to pay out (its
    amount, less what a line applied to later charges): the books never record money not
    sent."""
    before_settlement: bool = False
    """The money already went out while the payment was still PENDING on its rail: take
    the payout anyway, audited as paid out before settlement (otherwise a 422)."""


@attrs.frozen
class FeeWaiverRequest:
    """Why an installment's late fee is waived (lender error, hardship, goodwill)."""

    reason: str
    """Why, as the audit trail should say it: not blank."""


@attrs.frozen
class FeeWaiverView:
    """A late fee waived, as recorded, and what the loan owes now."""

    loan_id: str
    installment_id: str
    installment_number: int
    amount: int
    """The cents waived."""
    currency: str
    effective_on: dt.date
    """The day the fee was assessed: the waiver's effective date."""
    waived_on: dt.date
    """The business date it was booked: the date of its adjustment entry."""
    reason: str
    outstanding_balance: int
    """What the loan owes now."""
    refunds_due: int
    """What the loan owes the borrower back now (a fee paid on a loan since paid off)."""


@attrs.frozen
class LineFeeWaiverView:
    """A line's late fee waived, as recorded, and what the line owes now."""

    line_id: str
    late_fee_cycle: dt.date
    """The date of the statement whose minimum was missed."""
    fee_reference: str
    """The fee's reference on the statement (its entry id)."""
    amount: int
    """The cents waived."""
    currency: str
    effective_on: dt.date
    """The day the fee was assessed: the waiver's effective date."""
    waived_on: dt.date
    """The business date it was booked: the date of its adjustment entry."""
    reason: str
    line_status: str
    balance: int
    """What the line owes now (principal, interest and fees)."""
    refunds_due: int
    """What the line owes the borrower back now (a fee paid on a line that owes nothing)."""


@attrs.frozen
class RefundPaidView:
    """A refund paid out, as recorded: the loan or line, the payment, the payout."""

    product: str
    owner_id: str
    payment_id: str
    amount: int
    currency: str
    paid_on: dt.date
    reference: str
    booked_on: dt.date
    """The business date it was recorded: the date of its journal entry."""


@attrs.frozen
class JobRunView:
    """What a job run did: the counters a Lambda reports, and the job's own details."""

    job: str
    business_date: dt.date
    processed: int
    failed: int
    skipped: int
    details: dict[str, Any]


@attrs.frozen
class LoanCheck:
    """One loan's reconciliation."""

    loan_id: str
    matches: bool
    problems: list[str]


@attrs.frozen
class LineCheck:
    """One line's reconciliation: each figure that disagrees, and what else is wrong.

    The problems are what is wrong beyond the figures: an entry stored twice, a journal
    that cannot be read, an entry posting to another borrower's account.
    """

    line_id: str
    matches: bool
    mismatches: list[str]
    problems: list[str]


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
    """A page of an audit trail: an entity's oldest first, a user's or an action's newest first."""

    items: list[AuditRecordView]
    next_cursor: str | None

    @classmethod
    def of(cls, page: AuditRecordPage) -> AuditPage:
        """The view of a page of audit records."""
        return cls([AuditRecordView.of(record) for record in page.records], page.cursor)


@post(
    "/jobs/{job:str}",
    operation_id="runJob",
    summary="Run a scheduled job for a business date, today by default (service role)",
    responses=responses(403, 409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
    status_code=200,
)
def run_job(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    job: PathId,
    data: JSONBody[JobRequest],
    idempotency_key: IdempotencyKey,
) -> Response[JobRunView]:
    """Run one scheduled job (``billing_job``, ``due_job``, ...) as ``loc job run`` does.

    It moves money (collections), so it takes an idempotency key.
    """

    def run() -> JobRunView:
        day = data.business_date or bus.get(Clock).now().date()
        try:
            summary = run_scheduled_job(job, bus, data.business_date)
        except InvalidRequest as exc:
            # name the field the client sent: the job's name is the path's `job`, its
            # date this body's `business_date`
            if exc.key == "name":
                raise InvalidRequest(str(exc), key="job") from exc
            if exc.key != "as_of":
                raise
            raise InvalidRequest(f"business_date: {exc}", key="business_date") from exc
        return JobRunView(
            job=job,
            business_date=day,
            processed=summary.processed,
            failed=summary.failed,
            skipped=summary.skipped,
            details=dict(summary.details),
        )

    return replays.run(
        user_id=caller.user_id,
        route=f"operations.job:{job}",
        key=idempotency_key,
        body=data,
        status=200,
        answer=run,
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
    bus: Bus,
    user_id: PathId,
) -> BorrowerReconciliation:
    """Reconcile; reads only (operations are alerted on a mismatch)."""
    loans = []
    for loan in bus.handle(ListLoans(user_id)):
        checked = bus.handle(ReconcileLoan(user_id, loan.loan_id))
        loans.append(LoanCheck(loan.loan_id, not checked.problems, list(checked.problems)))
    lines = []
    for line in bus.handle(ListLines(user_id)):
        result = bus.handle(ReconcileLine(user_id, line.line_id))
        lines.append(
            LineCheck(
                line.line_id, result.matches, sorted(result.mismatches), list(result.problems)
            )
        )
    matches = all(check.matches for check in loans) and all(check.matches for check in lines)
    return BorrowerReconciliation(user_id, matches, loans, lines)


@post(
    "/users/{user_id:str}/refunds/{payment_id:str}/paid",
    operation_id="recordRefundPaid",
    summary="Record that a borrower's refund due was paid out (service role)",
    responses=responses(400, 403, 404, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
    status_code=200,
)
def record_refund_paid(
    *,
    bus: Bus,
    user_id: PathId,
    payment_id: Annotated[str, PathParameter(min_length=1, max_length=255)],
    data: JSONBody[RefundPaidRequest],
) -> RefundPaidView:
    """Record a payout made outside loc (docs/services-loans.md, *Refund paid out*).

    Recording the same payout again answers the same; another day or reference for a
    refund already paid out is a 422, and so is a payment with no refund due, or one
    still PENDING on its rail (``refund-not-settled``) unless `before_settlement`.
    """
    paid = bus.handle(
        RecordRefundPaid(
            user_id,
            payment_id,
            data.paid_on,
            data.reference,
            data.reason,
            data.amount,
            before_settlement=data.before_settlement,
        )
    )
    return RefundPaidView(
        product=paid.product.value,
        owner_id=paid.owner_id,
        payment_id=paid.payment_id,
        amount=paid.amount,
        currency=CURRENCY,
        paid_on=paid.paid_on,
        reference=paid.reference,
        booked_on=paid.booked_on,
    )


@post(
    "/users/{user_id:str}/loans/{loan_id:str}/installments/{installment_id:str}/late-fee-waiver",
    operation_id="waiveLateFee",
    summary="Waive an installment's late fee as of the day it was charged (service role)",
    responses=responses(400, 403, 404, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
    status_code=200,
)
def waive_late_fee(
    *,
    bus: Bus,
    user_id: PathId,
    loan_id: PathId,
    installment_id: PathId,
    data: JSONBody[FeeWaiverRequest],
    idempotency_key: IdempotencyKey,
) -> FeeWaiverView:
    """Waive the fee (docs/corrections.md, *A late fee waived*).

    The same request again (same key and reason) answers the same; another key or
    reason for a fee already waived is a 422, and so is an installment with no late fee,
    a cancelled loan, or a fee charged further back than the correction reach.
    """
    waived = bus.handle(
        WaiveLateFee(user_id, loan_id, installment_id, data.reason, idempotency_key)
    )
    return FeeWaiverView(
        loan_id=waived.loan_id,
        installment_id=waived.installment_id,
        installment_number=waived.installment_number,
        amount=waived.amount,
        currency=CURRENCY,
        effective_on=waived.effective_on,
        waived_on=waived.waived_on,
        reason=waived.reason,
        outstanding_balance=waived.outstanding_balance,
        refunds_due=waived.refunds_due,
    )


@post(
    "/users/{user_id:str}/lines/{line_id:str}/late-fees/{late_fee_cycle:date}/waiver",
    operation_id="waiveLineLateFee",
    summary="Waive a line's late fee for a missed cycle as of the day it was charged "
    "(service role)",
    responses=responses(400, 403, 404, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
    status_code=200,
)
def waive_line_late_fee(
    *,
    bus: Bus,
    user_id: PathId,
    line_id: PathId,
    late_fee_cycle: FromPath[dt.date],
    data: JSONBody[FeeWaiverRequest],
    idempotency_key: IdempotencyKey,
) -> LineFeeWaiverView:
    """Waive the fee of the cycle closed `late_fee_cycle` (docs/credit-lines.md).

    The same request again (same key and reason) answers the same; another key or
    reason for a fee already waived is a 422, and so is a cycle with no late fee or a fee
    charged further back than the correction reach.
    """
    waived = bus.handle(
        WaiveLineLateFee(user_id, line_id, late_fee_cycle, data.reason, idempotency_key)
    )
    return LineFeeWaiverView(
        line_id=waived.line_id,
        late_fee_cycle=waived.late_fee_cycle,
        fee_reference=waived.fee_reference,
        amount=waived.amount,
        currency=CURRENCY,
        effective_on=waived.effective_on,
        waived_on=waived.waived_on,
        reason=waived.reason,
        line_status=waived.line_status.value,
        balance=waived.balance,
        refunds_due=waived.refunds_due,
    )


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
    bus: Bus,
    entity: PathId,
    entity_id: PathId,
    cursor: AuditCursor = None,
    limit: Limit = 20,
) -> AuditPage:
    """A page of the entity's audit records (empty for an entity never audited)."""
    return AuditPage.of(bus.handle(ReadAuditTrail(entity, entity_id, cursor, limit)))


@get(
    "/audit/users/{user_id:str}",
    operation_id="readUserAuditTrail",
    summary="The audit trail of one user's loans, lines and applications, newest first "
    "(service role)",
    responses=responses(403),
    tags=_TAGS,
    sync_to_thread=False,
)
def read_user_audit_trail(
    *,
    bus: Bus,
    user_id: PathId,
    cursor: AuditCursor = None,
    limit: Limit = 20,
) -> AuditPage:
    """A page of the changes to the user's records (empty for a user never audited)."""
    return AuditPage.of(bus.handle(ReadUserAuditTrail(user_id, cursor, limit)))


@get(
    "/audit/actions/{action:str}",
    operation_id="readActionAuditTrail",
    summary="The audit trail of one action (AUTOPAY, MANUAL, BILLING, ...), newest first "
    "(service role)",
    responses=responses(403),
    tags=_TAGS,
    sync_to_thread=False,
)
def read_action_audit_trail(
    *,
    bus: Bus,
    action: Action,
    cursor: AuditCursor = None,
    limit: Limit = 20,
) -> AuditPage:
    """A page of the changes the action made, over every user (empty when it made none)."""
    return AuditPage.of(bus.handle(ReadProcessAuditTrail(Process(action), cursor, limit)))


router = Router(
    path="/operations",
    guards=[service_only, strict_body],
    route_handlers=[
        run_job,
        reconcile,
        record_refund_paid,
        waive_late_fee,
        waive_line_late_fee,
        read_audit_trail,
        read_user_audit_trail,
        read_action_audit_trail,
    ],
)
"""The operations routes, under ``/operations``."""
