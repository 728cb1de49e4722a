"""An operator waives an installment's late fee: a correction as of the fee's day.

Customer service waives late fees (the lender's error, such as a debit never presented
while every rail was down; hardship; goodwill). `WaiveLateFee` records the waiver on the
installment and corrects the loan as of the day the fee was assessed
(`Loan.waive_late_fee`): the fee is no longer owed, a payment that paid it pays what it
would have paid without it, a paid-off loan's excess becomes a refund due, and the books
move by one ``<installment>:fee_waived:adjust`` entry dated today. Every later
correction replay and the daily job read the waiver, so the fee is never charged again.

The same request again (same installment, key and reason) changes nothing and answers
the same; another key or reason for a fee already waived, or the key reused for another
installment, is an `IdempotencyConflict`. A fee assessed further back than the
correction reach is refused (`CorrectionTooOld`) after a CRITICAL alert: handled by hand.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.errors import CorrectionTooOld, LocError
from loc_core.events import DomainEvent
from loc_core.installment import DAILY_JOB_AT
from loc_core.ports import Alerter, Clock, Lock, UnitOfWork
from loc_core.services.kit import (
    before_job_hour,
    leased,
    moment,
    post_alert,
    refund_due_alert,
    refunds_raised,
    retry_on_conflict,
)
from loc_core.services.loans.payments import PAYMENT_LEASE, payment_lease_key
from loc_core.services.messagebus import Command, Publisher
from loc_core.validation import Id, Key, NonBlankText, validated

__all__ = ["FEE_WAIVER_TOO_OLD", "LateFeeWaived", "WaiveLateFee", "waive_late_fee"]

FEE_WAIVER_TOO_OLD = "late fee waiver reaches too far back: handle by hand"
"""The title of the CRITICAL alert for a waiver refused beyond the correction reach."""


@attrs.frozen
class LateFeeWaived:
    """A late fee waived, as recorded, and what the loan owes now."""

    loan_id: str
    installment_id: str
    installment_number: int
    amount: int
    """The cents waived."""
    effective_on: dt.date
    """The day the fee was assessed: the waiver's effective date."""
    waived_on: dt.date
    """The business date the waiver was booked (its adjustment entry's date)."""
    reason: str
    outstanding_balance: int
    """What the loan owes now."""
    refunds_due: int
    """What the loan owes the borrower back now (a fee paid on a loan since paid off)."""


@attrs.frozen(field_transformer=validated)
class WaiveLateFee(Command[LateFeeWaived]):
    """An operator waives the late fee of one installment of a loan."""

    user_id: Id
    loan_id: Id
    installment_id: Id
    """The installment whose late fee is waived."""
    reason: NonBlankText
    """Why (lender error, hardship, goodwill), as the audit trail should say it."""
    idempotency_key: Key
    """Chosen by the operator's tool; the same key never waives twice."""


def waive_late_fee(
    command: WaiveLateFee,
    *,
    uow: UnitOfWork,
    lock: Lock,
    clock: Clock,
    alerter: Alerter,
    publish: Publisher,
) -> LateFeeWaived:
    """Waive the installment's late fee as of the day it was assessed; the waiver.

    Holds the loan's payment lease, so autopay cannot collect meanwhile. A refund due
    the waiver leaves (a fee paid on a loan since paid off) is alerted to operations
    (WARNING) in the waiver's commit, as a booking's is.

    Raises:
        NotFound: for an unknown loan or installment (or another borrower's).
        NoLateFee: the installment carries no late fee.
        IdempotencyConflict: the fee was waived under another key or reason, or the key
            waived another installment's fee.
        LoanCancelled: the loan is CANCELLED.
        CorrectionTooOld: the fee was assessed beyond the correction reach, or the loan
            was adopted from the Go service (alerted CRITICAL; nothing changed).
        RefundAlreadyPaid: the waiver would change a refund already paid out.
        LockNotAcquired: while a payment on the loan is being collected.
    """
    _, today = moment(clock)

    def attempt() -> tuple[LateFeeWaived, list[DomainEvent]]:
        with uow:
            loan = uow.loans.get(command.user_id, command.loan_id)
            before = loan.refunds_due_by_payment()
            waiver = loan.waive_late_fee(
                command.installment_id,
                reason=command.reason,
                idempotency_key=command.idempotency_key,
                today=today,
                posted=uow.journal.entries_for(command.loan_id),
                before_daily_job=before_job_hour(clock, today, DAILY_JOB_AT),
            )
            installment = loan.installment(command.installment_id)
            answer = LateFeeWaived(
                loan_id=loan.loan_id,
                installment_id=installment.installment_id,
                installment_number=installment.number,
                amount=waiver.amount,
                effective_on=waiver.effective_on,
                waived_on=waiver.waived_on,
                reason=waiver.reason,
                outstanding_balance=loan.outstanding_balance,
                refunds_due=loan.refunds_due,
            )
            if not loan.outbox:  # the same request again
                return answer, []
            for refund in refunds_raised(loan, before):
                loan.outbox.events.append(
                    refund_due_alert(
                        refund, user_id=loan.user_id, owner=("loan_id", loan.loan_id), on=today
                    )
                )
            uow.loans.save(loan)
            return answer, uow.commit(actor="operator", request_id=command.idempotency_key)

    with leased(
        lock,
        payment_lease_key(command.user_id, command.loan_id),
        owner=f"fee-waiver:{command.idempotency_key}",
        ttl=PAYMENT_LEASE,
    ):
        try:
            answer, events = retry_on_conflict(attempt)
        except CorrectionTooOld as exc:
            _alert_too_old(alerter, command, exc)
            raise
    publish(events)
    return answer


def _alert_too_old(alerter: Alerter, command: WaiveLateFee, error: LocError) -> None:
    """Tell operations (CRITICAL) that a waiver was refused: it is theirs to handle by hand."""
    post_alert(
        alerter,
        FEE_WAIVER_TOO_OLD,
        {
            "user_id": command.user_id,
            "loan_id": command.loan_id,
            "installment_id": command.installment_id,
            "idempotency_key": command.idempotency_key,
            "reason": command.reason,
        },
        error=error,
    )
