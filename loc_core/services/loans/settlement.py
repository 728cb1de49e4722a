"""Settlement events (seed ``collections/webhook_handler.go``): completions, returns, chargebacks.

The rail reports each transfer's fate later, at least once and in any order. An event
names the transfer by its idempotency key, which is the id of the payment it booked, so
the payments index finds the loan. A repeated or late event changes nothing and is
answered `SettlementHandling.DUPLICATE`, so the stream never retries it.

Events for disbursements (credits) carry a disbursement key: nothing is booked on
completion. A disbursement the rail returns (RETURNED, or CHARGED_BACK) cancels the loan
as of its disbursement date (`Loan.cancel_returned_disbursement`): nothing is owed, what
was paid on it is a refund due, the borrower is told (``loan_cancelled``) and operations
warned with the rail's return code. A disbursement the loan does not record is alerted
(CRITICAL) and changes nothing.

A return (of a payment or of the disbursement) that would cancel or change a refund the
lender already paid out (`RefundAlreadyPaid`) changes nothing: operations are alerted
(CRITICAL, "refund already paid out: handle by hand", naming the payment and amounts) and
the event is answered `SettlementHandling.MANUAL`. A payment's return left to operations
so, or beyond the correction reach, whose code forbids debiting again
(`loc_core.returns`) still turns the loan's autopay off, in a commit of its own: the money
is left to operations, the authorization is not.

A return whose correction is too large for one commit (`commit_too_large`: a replay that
rewrites more later payments and installments than one transaction holds) is not left to
fail on every delivery: it is reversed as of the day it is learned (`Loan.settle`, as for
a loan adopted from the Go service) and operations are alerted (CRITICAL) to correct the
effective-dated rest by hand (docs/corrections.md).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import attrs

from loc_core.calendar import require_utc
from loc_core.errors import (
    CorrectionTooOld,
    InvariantViolation,
    LoanCancelled,
    NotFound,
    PaymentAlreadyReversed,
    PaymentAlreadySettled,
    Ref,
    RefundAlreadyPaid,
)
from loc_core.events import DomainEvent, EventType
from loc_core.installment import Loan, stop_autopay_after_return
from loc_core.payments import SettlementOutcome
from loc_core.ports import (
    Alerter,
    Metrics,
    SettlementEvent,
    UnitOfWork,
)
from loc_core.returns import classify_return
from loc_core.services.handling import SettlementHandling
from loc_core.services.kit import (
    alert_refund_already_paid,
    alert_settlement,
    commit_too_large,
    payment_not_found,
    post_operations_alert,
    refund_due_alert,
    refunds_raised,
    require_paid_by,
    retry_on_conflict,
    reversed_as_of_today_alert,
    settlement_alert,
    stop_autopay_for_return,
)
from loc_core.services.loans.disbursement import parse_disbursement_key
from loc_core.services.loans.notices import tell_what_is_owed
from loc_core.services.messagebus import Publisher

__all__ = ["settle_payment"]


def settle_payment(
    event: SettlementEvent,
    *,
    today: dt.date,
    uow: UnitOfWork,
    publish: Publisher,
    alerter: Alerter,
    metrics: Metrics,
    before_daily_job: bool = False,
) -> SettlementHandling:
    """Settle the installment payment the event is about, on `today` (the business date).

    Money is booked on the day it is learned, as for lines: a return the rail delivers
    days after it occurred is unapplied and measured against the correction reach as of
    today, and the correction replays the loan through today, so nothing the loan lived
    since drops out. A completion moves no money: its `settled_on` is the rail's day.

    COMPLETED marks the payment (``payment_succeeded``); RETURNED or CHARGED_BACK takes
    back exactly what it paid (``payment_failed``, and the loan reopens if it had
    closed), then corrects the loan as of the day the payment was applied
    (`Loan.correct`: statuses, late fees and the default clock at once, the difference
    in the books as ``<payment>:<returned|charged_back>:adjust``). Events are published
    only after the commit. With `before_daily_job` (learned before today's daily job's
    hour) the correction leaves today's job to its run (`Loan.correct`).

    Raises:
        NotFound: when no loan carries the payment (or, for a disbursement, no loan was
            made), or the payment went by another rail than the event's; operations are
            alerted, since money may have moved unbooked, and nothing is applied.
        PaymentError: for an outcome the payment's rail cannot have (an ACH chargeback).
        CorrectionTooOld: for a reversal of a payment applied further back than the
            product's correction reach, or a return of a disbursement made further back
            (or of a loan adopted from the Go service); operations are alerted and
            nothing changed.

    A reversal that would cancel or change a refund already paid out is alerted
    (CRITICAL) and answered `SettlementHandling.MANUAL`; nothing changed.
    """
    occurred = require_utc(event.occurred_at, field="occurred_at").date()
    application = parse_disbursement_key(event.idempotency_key)
    if application is not None:
        handled = _settle_disbursement(
            event, application, today=today, uow=uow, publish=publish, alerter=alerter
        )
        metrics.increment(
            f"loc.loans.disbursements.{handled.value}", tags=(f"outcome:{event.outcome.value}",)
        )
        return handled
    with uow:
        owner = uow.loans.find_payment(event.idempotency_key)
    if owner is None:
        alert_settlement(alerter, event, "settlement event for a payment no loan carries")
        raise payment_not_found(event.idempotency_key, "any installment loan", event=event)

    def attempt(*, replay: bool = True) -> tuple[SettlementHandling, list[DomainEvent]]:
        with uow:
            loan = uow.loans.get(owner.user_id, owner.owner_id)
            paid_by = loan.payments[event.idempotency_key].rail
            require_paid_by(alerter, event, paid_by, loan_id=loan.loan_id, user_id=loan.user_id)
            try:
                # A completion moves nothing in the books: it records the rail's day.
                payment = loan.settle(
                    event.idempotency_key,
                    event.outcome,
                    today=occurred if event.outcome is SettlementOutcome.COMPLETED else today,
                )
                if event.outcome is not SettlementOutcome.COMPLETED and not replay:
                    _too_large_to_correct(loan, payment.payment_id, event, on=today, uow=uow)
                elif event.outcome is not SettlementOutcome.COMPLETED:
                    _correct(
                        loan,
                        payment.payment_id,
                        event,
                        on=today,
                        uow=uow,
                        alerter=alerter,
                        before_daily_job=before_daily_job,
                    )
                    # In the reversal's commit: no crash leaves the one without the other.
                    _, alerts = stop_autopay_for_return(
                        stop_autopay_after_return,
                        loan,
                        event,
                        user_id=loan.user_id,
                        owner=("loan_id", loan.loan_id),
                        today=today,
                    )
                    loan.outbox.events.extend(alerts)
            except (PaymentAlreadyReversed, PaymentAlreadySettled):
                return SettlementHandling.DUPLICATE, []
            except RefundAlreadyPaid as error:  # not committed: nothing changed
                alert_refund_already_paid(
                    alerter,
                    error,
                    event=event,
                    user_id=loan.user_id,
                    loan_id=loan.loan_id,
                )
                return SettlementHandling.MANUAL, []
            handling = SettlementHandling.SETTLED
            if event.outcome is not SettlementOutcome.COMPLETED:
                handling = SettlementHandling.REVERSED
                # The return's notice says what is owed once the correction is done.
                tell_what_is_owed(loan, EventType.PAYMENT_FAILED, payment.payment_id, today)
            uow.loans.save(loan)
            return handling, uow.commit(actor="settlement-handler", request_id=event.event_id)

    left = _Left(event, (owner.user_id, owner.owner_id), today, uow, publish, alerter)
    try:
        handling, events = _attempted(attempt)
    except CorrectionTooOld:  # alerted, nothing changed: the money is left to operations
        _stop_autopay_unreversed(SettlementHandling.MANUAL, left)
        raise
    publish(events)
    _stop_autopay_unreversed(handling, left)
    metrics.increment(
        f"loc.loans.settlements.{handling.value}", tags=(f"outcome:{event.outcome.value}",)
    )
    return handling


def _attempted(
    attempt: Callable[..., tuple[SettlementHandling, list[DomainEvent]]],
) -> tuple[SettlementHandling, list[DomainEvent]]:
    """Run `attempt`; when its correction is too large for one commit, without the replay.

    The commit was refused before anything was written, and would be on every delivery.
    """
    try:
        return retry_on_conflict(attempt)
    except InvariantViolation as error:
        if not commit_too_large(error):
            raise
        return retry_on_conflict(functools.partial(attempt, replay=False))


@attrs.frozen
class _Left:
    """A payment's return the handler may leave to operations, and the ports to stop autopay."""

    event: SettlementEvent
    owner: tuple[str, str]
    """The borrower and the loan: (user id, loan id)."""
    today: dt.date
    uow: UnitOfWork
    publish: Publisher
    alerter: Alerter


def _stop_autopay_unreversed(handling: SettlementHandling, left: _Left) -> None:
    """Stop autopay for a return left to operations (MANUAL), in a commit of its own.

    The return was not reversed (beyond the correction reach, or it would change a refund
    already paid out), but the borrower's word on the debit stands whatever the books
    can do: a return that forbids presenting again turns autopay off all the same
    (`loc_core.returns`), told and alerted as in a reversal. Any other answer, and an NSF
    return, changes nothing here.
    """
    event = left.event
    if handling is not SettlementHandling.MANUAL or event.outcome is SettlementOutcome.COMPLETED:
        return
    if not classify_return(event.outcome, event.return_code).stops_autopay:
        return
    user_id, loan_id = left.owner

    def attempt() -> tuple[list[DomainEvent], list[DomainEvent]]:
        with left.uow as uow:
            loan = uow.loans.get(user_id, loan_id)
            stop, alerts = stop_autopay_for_return(
                stop_autopay_after_return,
                loan,
                event,
                user_id=user_id,
                owner=("loan_id", loan_id),
                today=left.today,
            )
            if not stop.stopped:
                # Nothing to commit: the alert is about a return left to operations.
                return alerts, []
            loan.outbox.events.extend(alerts)
            uow.loans.save(loan)
            return [], uow.commit(actor="settlement-handler", request_id=event.event_id)

    uncommitted, events = retry_on_conflict(attempt)
    for alert in uncommitted:
        post_operations_alert(alert, alerter=left.alerter)
    left.publish(events)


def _too_large_to_correct(
    loan: Loan, payment_id: str, event: SettlementEvent, *, on: dt.date, uow: UnitOfWork
) -> None:
    """Leave a return reversed as of today (`settle` did), its correction too large to commit.

    The replayed correction would rewrite more records than one transaction holds (every
    later payment whose split it changes, and the installments): the same commit would
    fail on every delivery. So the money the rail took back stays booked as `settle`
    booked it, exactly what the payment applied unapplied today, and operations are
    alerted (CRITICAL, in the same commit) to correct the effective-dated rest (overdue
    days, late fees, the default clock) by hand, as for a loan adopted from the Go service.
    """
    effective = loan.payments[payment_id].submitted_on
    loan.outbox.events.append(
        reversed_as_of_today_alert(
            event,
            what=f"return on loan {loan.loan_id}",
            effective=effective,
            rest="overdue days, late fees, default",
            user_id=loan.user_id,
            owner=("loan_id", loan.loan_id),
            on=on,
            limit=uow.transaction_limit,
        )
    )


def _correct(
    loan: Loan,
    payment_id: str,
    event: SettlementEvent,
    *,
    on: dt.date,
    uow: UnitOfWork,
    alerter: Alerter,
    before_daily_job: bool = False,
) -> None:
    """Reverse the settled payment as of the day it was applied (`Loan.correct`).

    Beyond the product's correction reach operations are alerted (CRITICAL) and the
    error raised: the unit of work is not committed, so nothing changed.
    """
    if loan.cancelled:
        # The loan owes nothing: the payment applied nothing, and `settle` cancelled the
        # refund due it was (the money never stayed). There is no history to replay.
        return
    effective = loan.payments[payment_id].submitted_on
    try:
        loan.check_correction(effective, today=on)
    except CorrectionTooOld as exc:
        alert_settlement(
            alerter,
            event,
            f"return of a payment on loan {loan.loan_id} reaches too far back: handle by hand",
            effective=effective.isoformat(),
            error=str(exc),
        )
        raise
    posted = uow.journal.entries_for(loan.loan_id)
    if not loan.replayable(posted):
        # A loan adopted from the Go service has no history here to replay: the return is
        # reversed as of today (as `settle` did), and operations are told why, in its commit.
        loan.outbox.events.append(
            settlement_alert(
                event,
                f"return on loan {loan.loan_id} reversed as of today: its history before "
                "adoption is not here to replay",
                user_id=loan.user_id,
                owner=("loan_id", loan.loan_id),
                on=on,
                effective=effective.isoformat(),
            )
        )
        return
    loan.correct(
        cause=f"{payment_id}:{event.outcome.value.lower()}",
        effective=effective,
        today=on,
        posted=posted,
        reason=f"payment {payment_id} {event.outcome.value} ({event.return_code or 'no code'})",
        before_daily_job=before_daily_job,
    )


def _settle_disbursement(
    event: SettlementEvent,
    application: tuple[str, str],
    *,
    today: dt.date,
    uow: UnitOfWork,
    publish: Publisher,
    alerter: Alerter,
) -> SettlementHandling:
    """A disbursement's fate: a return cancels the loan, once; the rest changes nothing.

    DISBURSEMENT for a completion, or an event the loan does not record (alerted,
    CRITICAL); MANUAL when cancelling would change a refund already paid out (alerted,
    CRITICAL; nothing changed), or when its commit is too large for one transaction (a
    loan with more payments than one transaction can rewrite: alerted, CRITICAL; nothing
    changed); REVERSED when a return cancelled the loan (one commit;
    operations warned with the return code, a refund due alerted per payment whose refund
    the cancellation created or changed (one already due was alerted then); events
    published after the commit); DUPLICATE for a return delivered again or a completion
    after the return.
    """
    user_id, application_id = application
    with uow:
        found = uow.loans.by_application(user_id, application_id)
    if found is None:
        alert_settlement(alerter, event, "disbursement without a loan")
        raise NotFound(
            f"no loan was made from application {application_id} of user {user_id}",
            about=Ref("loan_application", application_id, user_id),
            key=event.idempotency_key,
        )
    loan_id = found.loan_id
    if found.confirmation_id != event.confirmation_id:
        alert_settlement(alerter, event, f"disbursement loan {loan_id} does not record")
        return SettlementHandling.DISBURSEMENT
    if event.outcome is SettlementOutcome.COMPLETED:
        # A completion after the return (ACH reports both, in any order) changes nothing.
        return SettlementHandling.DUPLICATE if found.cancelled else SettlementHandling.DISBURSEMENT

    def attempt() -> tuple[SettlementHandling, list[DomainEvent]]:
        with uow:
            loan = uow.loans.get(user_id, loan_id)
            before = loan.refunds_due_by_payment()
            try:
                loan.cancel_returned_disbursement(
                    today=today,
                    posted=uow.journal.entries_for(loan_id),
                    reason=f"disbursement {event.outcome.value} ({event.return_code or 'no code'})",
                )
            except LoanCancelled:
                return SettlementHandling.DUPLICATE, []
            except RefundAlreadyPaid as error:  # not committed: nothing changed
                alert_refund_already_paid(
                    alerter,
                    error,
                    event=event,
                    user_id=user_id,
                    loan_id=loan_id,
                )
                return SettlementHandling.MANUAL, []
            except CorrectionTooOld as exc:
                alert_settlement(
                    alerter,
                    event,
                    f"return of the disbursement of loan {loan_id} reaches too far back: "
                    "handle by hand",
                    effective=loan.disbursement_date.isoformat(),
                    error=str(exc),
                )
                raise
            owner = ("loan_id", loan_id)
            loan.outbox.events.append(
                settlement_alert(
                    event,
                    f"disbursement of loan {loan_id} came back: the loan is cancelled",
                    user_id=user_id,
                    owner=owner,
                    on=today,
                    refund_due=loan.refunds_due,
                )
            )
            # Only refunds the cancellation created or grew: one already due was alerted
            # when it was made, and a second alert for it invites a second payout.
            loan.outbox.events.extend(
                refund_due_alert(refund, user_id=user_id, owner=owner, on=today)
                for refund in refunds_raised(loan, before)
            )
            uow.loans.save(loan)
            return SettlementHandling.REVERSED, uow.commit(
                actor="settlement-handler", request_id=event.event_id
            )

    try:
        handling, events = retry_on_conflict(attempt)
    except InvariantViolation as error:
        if not commit_too_large(error):
            raise
        # Refused before anything was written, and it would be on every delivery.
        alert_settlement(
            alerter,
            event,
            f"return of the disbursement of loan {loan_id} needs a commit too large for one "
            "transaction: cancel the loan by hand",
            error=str(error),
        )
        return SettlementHandling.MANUAL
    publish(events)
    return handling
