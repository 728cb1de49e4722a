"""The line of credit: one aggregate root whose methods are the line's commands and queries.

Every command validates everything before it changes anything, then records what changed
(audit `Change`s, journal entries, events) in the line's `outbox`. The rules behind the
methods live in per-concern modules (`draws`, `payments`, `billing`, `collections`,
`closing`, `delinquency`) that take the line's state (`LineState`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import attrs

from loc_core.creditline import (
    autopay,
    billing,
    capacity,
    closing,
    collections,
    correcting,
    delinquency,
    disputes,
    draws,
    payments,
)
from loc_core.creditline._state import LineState
from loc_core.creditline.collections import DueDecision, OverdueDecision, UpcomingDecision
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.dispute import BillingDispute, DisputedCharge
from loc_core.creditline.draw import Draw
from loc_core.creditline.payment import LocPayment
from loc_core.creditline.statement import Statement
from loc_core.creditline.waiver import LineLateFeeWaiver
from loc_core.ledger import JournalEntry
from loc_core.payments import Rail, SettlementOutcome
from loc_core.refunds import RefundDue

__all__ = ["CreditLine"]


@attrs.define(kw_only=True)
class CreditLine(LineState):
    """A borrower's revolving line: the aggregate root every credit-line command goes through."""

    def request_draw(self, *, draw_id: str, amount: object, on: dt.date) -> Draw:
        """Hold `amount` of available credit for a new PENDING draw.

        Repeating a request with the same id and amount returns the existing draw unchanged.

        Raises:
            InvalidAmount: zero, negative, float or non-integer cents.
            IdempotencyConflict: the id was used for a different amount.
            LineNotActive: the line is suspended, defaulted or closed, or has an amount past due.
            OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
            InsufficientCredit: `amount` is above the available credit.
        """
        return draws.request_draw(self, draw_id=draw_id, amount=amount, on=on)

    def check_draw(self, *, draw_id: str, amount: object, on: dt.date) -> None:
        """Refuse, as `request_draw` would, a draw it would refuse; change nothing.

        A service checks a draw before it commits anything for it (its transfer intent),
        without the audit record and holds a request would make.

        Raises:
            InvalidAmount, IdempotencyConflict, LineNotActive, OutOfOrder,
                InsufficientCredit: as `request_draw`.
        """
        draws.check_draw(self, draw_id=draw_id, amount=amount, on=on)

    def check_movement_room(
        self, *, on: dt.date, product: CreditLineProduct, payment: int | None = None
    ) -> None:
        """Refuse a borrower's new draw or payment past `product.max_movements_per_cycle`.

        Services ask it before a borrower's draw or payment moves any money; money that
        already moved is booked without it (``loc_core.creditline.capacity``). `payment`
        is a payment's amount (None: a draw): past the bound, one payment a cycle of
        everything the line owes (a payoff) is still taken, and booked with
        ``bound=product`` it is marked `LocPayment.payoff_past_bound`.

        Raises:
            MovementLimitReached: the cycle `on` falls in holds the most allowed, and this
                is not a payoff or the cycle already took its payoff past the bound.
        """
        capacity.require_movement_room(self, on=on, product=product, payment=payment)

    def record_rail_decline(
        self, *, draw_id: str, rail: Rail, on: dt.date, reason: str = ""
    ) -> Draw:
        """Note that `rail` declined a PENDING draw, so the next rail is tried; repeats do nothing.

        `reason` is what the audit record says (default: "<rail> declined the draw"); a
        service also records a rail it could not reach here, so a resumed draw never offers
        the draw to it again.

        Raises:
            NotFound: no such draw on the line.
            InvalidTransition: the draw is no longer PENDING.
            OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
        """
        return draws.record_rail_decline(self, draw_id=draw_id, rail=rail, on=on, reason=reason)

    def disburse_draw(self, *, draw_id: str, rail: Rail, on: dt.date) -> Draw:
        """A rail accepted the draw: principal rises and the hold becomes a balance.

        Posts DR receivable(line, PRINCIPAL) CR FUNDING as ``<draw id>:disburse`` and records
        LOC_DRAW_DISBURSED. The same acceptance reported again changes nothing.

        Raises:
            NotFound: no such draw on the line.
            InvalidTransition: the draw failed, or another rail already disbursed it.
            OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
        """
        return draws.disburse_draw(self, draw_id=draw_id, rail=rail, on=on)

    def fail_draw(self, *, draw_id: str, on: dt.date, reason: str) -> Draw:
        """No rail accepted the draw: release its hold; no balance changes. Repeats do nothing.

        Records LOC_DRAW_FAILED: the borrower hears no money was sent and none is owed.

        Raises:
            NotFound: no such draw on the line.
            InvalidTransition: a rail already disbursed it.
            OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
        """
        return draws.fail_draw(self, draw_id=draw_id, on=on, reason=reason)

    def submit_payment(
        self, *, payment_id: str, amount: object, rail: Rail, on: dt.date
    ) -> LocPayment:
        """Apply a payment now (PENDING): fees, then interest, then principal.

        A payment that pays the past-due amount cures a SUSPENDED line. On a DEFAULTED line
        it is also a recovery that releases the allowance.

        Raises:
            InvalidAmount: zero, negative, float or non-integer cents.
            PaymentError: RTP, which cannot collect.
            DuplicatePayment: the payment id was already applied to this line.
            OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
            Overpayment: more than the line's total balance.
        """
        return payments.submit_payment(self, payment_id=payment_id, amount=amount, rail=rail, on=on)

    def book_moved_payment(
        self,
        *,
        payment_id: str,
        amount: object,
        rail: Rail,
        on: dt.date,
        bound: CreditLineProduct | None = None,
    ) -> LocPayment:
        """Book a payment a rail already took: never refused for the line's balance.

        What the line owes is applied as `submit_payment` does; the excess (all of it on a
        paid-off or CLOSED line) becomes the payment's `refund`, a `RefundDue` posted DR
        CLEARING, CR ``refund_due(<line id>)``, with a REFUND_DUE event. The line's status
        does not change for the refund. With `bound` (the line's product, for a borrower's
        own payment), a payment of everything owed booked with the cycle already at
        `max_movements_per_cycle` is marked `LocPayment.payoff_past_bound`: the cycle's
        one payoff past the bound (``loc_core.creditline.capacity``).

        Raises:
            InvalidAmount: zero, negative, float or non-integer cents.
            PaymentError: RTP, which cannot collect.
            DuplicatePayment: the payment id was already applied to this line.
            OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
        """
        return payments.book_moved_payment(
            self, payment_id=payment_id, amount=amount, rail=rail, on=on, bound=bound
        )

    def settle_payment(
        self, *, payment_id: str, outcome: SettlementOutcome, on: dt.date
    ) -> LocPayment:
        """Record what the rail says happened to a payment.

        COMPLETED changes the payment's status only, and nothing once the payment is
        reversed or already completed. RETURNED or CHARGED_BACK cancels the payment's
        refund due, if any, then reverses exactly the buckets the payment paid
        (``<payment id>:reverse``), reopens a line closed since (unless the payment paid
        nothing on it), records LOC_PAYMENT_FAILED, and suspends the line at once if an
        amount is past due again.

        Raises:
            PaymentNotApplied: the line never applied that payment.
            PaymentAlreadyReversed: a second return or chargeback; nothing changes.
            RefundAlreadyPaid: a return or chargeback of a payment whose refund was
                already paid out; nothing changes.
            OutOfOrder: a reversal dated before the line's latest activity or past an unbilled
                close.
        """
        return payments.settle_payment(self, payment_id=payment_id, outcome=outcome, on=on)

    def correct_return(
        self,
        *,
        payment_id: str,
        outcome: SettlementOutcome,
        today: dt.date,
        product: CreditLineProduct,
        posted: Sequence[JournalEntry],
        before_overdue_job: bool = False,
    ) -> LocPayment:
        """Reverse a returned or charged-back payment as of the day it was applied.

        The line is replayed with the payment paying nothing (interest cent-days, minimum
        satisfaction, past due, late fees, suspension, default clock) and takes the replayed
        state; the reversal (``<payment id>:reverse``) and one adjustment entry
        (``<payment id>:<outcome>:adjust``) are posted dated `today`; `posted` is the line's
        stored journal. Records LOC_PAYMENT_FAILED, and LOC_PAST_DUE if the line is newly
        SUSPENDED.

        With `before_overdue_job` (booked before today's overdue job's hour,
        `OVERDUE_JOB_AT`), the replay stops short of today's overdue job: that job
        does its work at its hour (docs/corrections.md, "Today's job").

        Raises:
            PaymentNotApplied: the line never applied that payment.
            InvalidTransition: `outcome` is COMPLETED, which corrects nothing.
            PaymentAlreadyReversed: a second return or chargeback; nothing changes.
            CorrectionTooOld: the payment is older than the product's correction reach.
            RefundAlreadyPaid: the correction would cancel or change a refund already
                paid out; nothing changes.
        """
        return correcting.return_payment(
            self,
            payment_id=payment_id,
            outcome=outcome,
            today=today,
            product=product,
            posted=posted,
            before_overdue_job=before_overdue_job,
        )

    def correct_draw_return(
        self,
        *,
        draw_id: str,
        outcome: SettlementOutcome,
        return_code: str,
        today: dt.date,
        product: CreditLineProduct,
        posted: Sequence[JournalEntry],
        before_overdue_job: bool = False,
    ) -> Draw:
        """Take back a draw whose money the rail brought back, as of the day it was sent.

        The borrower never had the money, so nothing of it is owed: the draw becomes
        RETURNED (`returned_on` today) and the line is replayed with the draw taken back on
        its own day (no interest on it, minimums and late fees as that history gives them;
        payments that then paid more than was owed become refunds due). The returned money
        (``<draw id>:returned``, DR funding, CR principal) and one adjustment entry
        (``<draw id>:returned:adjust``) are posted dated `today`. Records
        LOC_DRAW_RETURNED with what the line owes now.

        With `before_overdue_job` (booked before today's overdue job's hour,
        `OVERDUE_JOB_AT`), the replay stops short of today's overdue job: that job
        does its work at its hour (docs/corrections.md, "Today's job").

        Raises:
            PaymentError: the line has no such draw.
            InvalidTransition: `outcome` is COMPLETED, or the draw is not DISBURSED
                (pending or failed: no money went out on the line's books).
            DrawAlreadyReturned: the same return again; nothing changes.
            CorrectionTooOld: the draw was sent further back than the correction reach.
            RefundAlreadyPaid: the correction would cancel or change a refund already
                paid out; nothing changes.
        """
        return correcting.return_draw(
            self,
            draw_id=draw_id,
            outcome=outcome,
            return_code=return_code,
            today=today,
            product=product,
            posted=posted,
            before_overdue_job=before_overdue_job,
        )

    def book_backdated_payment(
        self,
        *,
        payment_id: str,
        amount: object,
        rail: Rail,
        effective_on: dt.date,
        reason: str,
        today: dt.date,
        product: CreditLineProduct,
        posted: Sequence[JournalEntry],
        before_overdue_job: bool = False,
        settled: bool = True,
        after_job: bool = False,
    ) -> LocPayment:
        """Apply money already received as of `effective_on`, a date in the past.

        The payment is COMPLETED, settled `effective_on`: no rail will ever report it (a
        return or chargeback of it is still settled as usual). A debit a rail took that
        the books lost (`settled` False) stays PENDING instead: its rail still reports its
        settlement, which tells the borrower (LOC_PAYMENT_SUCCEEDED) as for any debit.
        With `after_job` (its rail took it after that day's overdue job hour) it counts
        after that day's overdue job, as it would have (`LocPayment.after_overdue_job`).

        The line is replayed with the payment on its effective date and takes the replayed
        state; the payment's entry (``<payment id>:apply``, plus a refund due for what the
        line did not owe) and one adjustment entry (``<payment id>:adjust``: interest, late
        fees, delinquency the payment would have prevented) are posted dated `today`.

        With `before_overdue_job` (booked before today's overdue job's hour,
        `OVERDUE_JOB_AT`), the replay stops short of today's overdue job: that job
        does its work at its hour (docs/corrections.md, "Today's job").

        Raises:
            InvalidAmount: zero, negative, float or non-integer cents.
            PaymentError: a rail that cannot collect a repayment.
            DuplicatePayment: the payment id was already applied to this line.
            InvalidTransition: `effective_on` is before the line opened or after `today`.
            CorrectionTooOld: `effective_on` is older than the product's correction reach.
            RefundAlreadyPaid: the correction would cancel or change a refund already
                paid out; nothing changes.
        """
        return correcting.book_backdated_payment(
            self,
            payment_id=payment_id,
            amount=amount,
            rail=rail,
            effective_on=effective_on,
            reason=reason,
            today=today,
            product=product,
            posted=posted,
            before_overdue_job=before_overdue_job,
            settled=settled,
            after_job=after_job,
        )

    def book_backdated_draw(
        self,
        *,
        draw_id: str,
        amount: object,
        rail: Rail,
        effective_on: dt.date,
        reason: str,
        today: dt.date,
        product: CreditLineProduct,
        posted: Sequence[JournalEntry],
        before_overdue_job: bool = False,
    ) -> Draw:
        """Record a draw sent on `effective_on`, a date in the past, that the line never held.

        Money already sent (a rail that reported late, a transfer made outside the
        library): the draw is DISBURSED as of `effective_on`, whatever the replayed line
        would have allowed then, and the line is replayed with it and takes the replayed
        state. Posted dated `today`: the draw's entry (``<draw id>:disburse``) and one
        adjustment entry (``<draw id>:adjust``) for the interest since `effective_on` and
        whatever else the corrected history changes.

        With `before_overdue_job` (booked before today's overdue job's hour,
        `OVERDUE_JOB_AT`), the replay stops short of today's overdue job: that job
        does its work at its hour (docs/corrections.md, "Today's job").

        Raises:
            InvalidAmount: zero, negative, float or non-integer cents.
            PaymentError: a rail that cannot send a draw.
            DuplicatePayment: the draw id is already on this line.
            InvalidTransition: `effective_on` is before the line opened or after `today`.
            CorrectionTooOld: `effective_on` is older than the product's correction reach.
            RefundAlreadyPaid: the correction would cancel or change a refund already
                paid out; nothing changes.
        """
        return correcting.book_backdated_draw(
            self,
            draw_id=draw_id,
            amount=amount,
            rail=rail,
            effective_on=effective_on,
            reason=reason,
            today=today,
            product=product,
            posted=posted,
            before_overdue_job=before_overdue_job,
        )

    def record_refund_paid(
        self,
        *,
        payment_id: str,
        paid_on: dt.date,
        reference: str,
        today: dt.date,
        reason: str,
        amount: int | None = None,
        before_settlement: bool = False,
    ) -> RefundDue:
        """Record that the lender paid a payment's refund due out (`loc_core.refunds`).

        The refund becomes PAID (`paid_on`, `paid_reference`), posted
        ``<payment>:refund_paid`` (DR ``refund_due(<line>)``, CR FUNDING) dated `today`,
        audited, and the borrower told (REFUND_PAID); the open cycle's statement shows it
        (`CreditKind.REFUND_PAID`). Any line status takes it (CLOSED, DEFAULTED). The same
        payout again changes nothing. A payment still PENDING on its rail is refused
        unless `before_settlement` (the money already went out, as the audit then says).

        Raises:
            RefundNotDue: no such payment, it keeps no refund, or its refund was cancelled.
            RefundNotSettled: the payment is still PENDING and not `before_settlement`.
            IdempotencyConflict: the refund was already paid out on another day or reference.
            InvalidRequest: `paid_on` after `today` or before the refund was recorded, or
                an `amount` (the cents sent, when given) other than the refund's.
            OutOfOrder: `today` is before the line's latest activity or past an unbilled
                close (bill first: the payout shows on the statement of its cycle).
        """
        return payments.record_refund_paid(
            self,
            payment_id=payment_id,
            paid_on=paid_on,
            reference=reference,
            today=today,
            reason=reason,
            amount=amount,
            before_settlement=before_settlement,
        )

    def bill_cycle(
        self, *, close_date: dt.date, today: dt.date, product: CreditLineProduct
    ) -> Statement | None:
        """Close the cycle ending on `close_date` and write its statement.

        In order: interest (DR receivable INTEREST, CR income INTEREST, entry
        ``<line id>:<close date>:interest``), the statement, the next minimum payment
        (interest + fees charged in the cycle + minimum percent of principal + any past-due
        amount carried, never above the total balance), the due date, and last of all
        `last_billing_cycle_date`. The statement date is the close date even when the job runs
        late, so due dates stay on the borrower's calendar. A DEFAULTED (charged-off) line's
        cycle closes with no interest and no new minimum (only what was past due carried),
        and, like a CLOSED line's, its statement is stored but not sent (no
        LOC_STATEMENT_READY): Regulation Z 1026.5(b)(2)(i).

        Returns:
            The new statement, or None when `close_date` was already billed (nothing changes).

        Raises:
            CycleNotClosed: `close_date` is after `today`.
            OutOfOrder: an earlier cycle of the line is still unbilled.
            InvalidTransition: `close_date` is not one of the line's close dates.
        """
        return billing.bill_cycle(self, close_date=close_date, today=today, product=product)

    def close(self, *, on: dt.date, reason: str) -> None:
        """CLOSE a line that owes nothing; closing a CLOSED line again changes nothing.

        Interest accrued since the last statement is billed at the next close, so a line that
        carried principal in the open cycle closes only after that statement is paid.

        Raises:
            OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
            InvalidTransition: a balance is owed, a draw is pending, or interest has accrued
                that is not billed yet.
        """
        return closing.close_line(self, on=on, reason=reason)

    def set_autopay(self, enabled: bool, *, on: dt.date, reason: str) -> bool:  # noqa: FBT001 - the setting itself, not a mode switch
        """Turn autopay (the due job's debit) on or off; returns whether anything changed.

        Audited (process AUTOPAY_SETTING, `reason`). Setting the value the line already
        has changes and records nothing. Turning it on is the borrower's new authorization
        after a return stopped it (`stop_autopay_after_return`).

        Raises:
            InvalidTransition: the line is CLOSED (either way), or DEFAULTED and autopay
                would be turned on (a charged-off line is not debited by the due job).
            OutOfOrder: `on` is before the line's latest activity or past an unbilled close.
            DomainError: an `enabled` that is not a bool, or a blank reason.
        """
        return autopay.set_autopay(self, enabled, on=on, reason=reason)

    def dispute_billing_error(
        self,
        *,
        dispute_id: str,
        statement: Statement,
        charge: DisputedCharge,
        draw_id: str | None = None,
        amount: object,
        description: str,
        received_on: dt.date,
        product: CreditLineProduct,
    ) -> BillingDispute:
        """Record a borrower's notice of a billing error on one charge of `statement`.

        Regulation Z 1026.13: the charge is a draw the statement lists (`draw_id`), the
        late fee its cycle charged, or its interest charge; the dispute is OPEN and
        acknowledged (LOC_BILLING_DISPUTE_ACKNOWLEDGED, with the day it must be resolved
        by, `disputes.resolve_by`); audited (process BILLING_DISPUTE). Until it is
        resolved its amount is held back: the due job does not debit it, and it is not
        past due (no suspension, late fee or default for it; a SUSPENDED line whose unpaid
        amount it covers is cured at once). The same id with the same statement, charge,
        amount and description returns the first dispute unchanged.

        Raises:
            InvalidAmount: zero, negative, float or non-integer cents.
            IdempotencyConflict: the id was used for another statement, charge, amount or
                text.
            InvalidRequest: a blank description; a statement of another line; received
                before the statement or more than 60 days after it; a charge not on the
                statement (naming ``draw_id`` or ``charge``); an amount above the charge
                less what was already disputed on it (``amount``).
            InvalidTransition: the line is DEFAULTED or CLOSED (handled by hand).
            DisputeLimitReached: the line already has `max_disputes_per_line` OPEN
                disputes (resolved ones never count; `capacity`): handled by hand.
            OutOfOrder: `received_on` is before the line's latest activity or past an
                unbilled close.
        """
        return disputes.open_dispute(
            self,
            dispute_id=dispute_id,
            statement=statement,
            charge=charge,
            draw_id=draw_id,
            amount=amount,
            description=description,
            received_on=received_on,
            product=product,
        )

    def resolve_billing_dispute(
        self,
        *,
        dispute_id: str,
        error_found: bool,
        explanation: str,
        today: dt.date,
        product: CreditLineProduct,
        posted: Sequence[JournalEntry],
        before_overdue_job: bool = False,
    ) -> BillingDispute:
        """Resolve an OPEN dispute; tell the borrower (LOC_BILLING_DISPUTE_RESOLVED).

        Error found: an effective-dated correction (`correcting.credit_billing_error`):
        the charge is taken off as of its own date and the line replayed, so interest,
        minimums, past due, late fees and any payment now in excess (a refund due) are
        those of the history without the error; the difference is booked today
        (``<dispute id>:adjust``, `posted` being the line's journal as stored) and shown as
        ADJUSTMENT lines on the next statement. No error: the amount is owed again.
        Either way what the hold kept unpaid is due `due_date_for(today)` (a statement's
        time away) and held back until then. The same resolution again returns the
        dispute unchanged.

        Raises:
            NotFound: the line has no such dispute.
            InvalidTransition: the dispute was resolved otherwise.
            InvalidRequest: a blank explanation.
            CorrectionTooOld: an error found on a charge older than the correction reach
                (nothing changed: the dispute stays OPEN, its amount held).
            RefundAlreadyPaid: the correction would change a refund already paid out.
            OutOfOrder: `today` is before the line's latest activity or past an unbilled
                close.
        """
        return disputes.resolve_dispute(
            self,
            dispute_id=dispute_id,
            error_found=error_found,
            explanation=explanation,
            today=today,
            product=product,
            posted=posted,
            before_overdue_job=before_overdue_job,
        )

    def waive_late_fee(
        self,
        *,
        late_fee_cycle: dt.date,
        reason: str,
        idempotency_key: str,
        today: dt.date,
        product: CreditLineProduct,
        posted: Sequence[JournalEntry],
        before_overdue_job: bool = False,
    ) -> LineLateFeeWaiver:
        """An operator waives the late fee charged for the cycle closed on `late_fee_cycle`.

        The waiver (`LineLateFeeWaiver`, keyed by the fee's reference
        ``<line>:<cycle>:late_fee``) is a recorded fact the overdue rules read in every
        replay (`collections.decide_overdue`: no fee for that cycle, the cycle marked
        handled), and the line is corrected as of the day the fee was assessed
        (`correcting.correct`, cause ``<line>:<cycle>:fee_waived``, audited FEE_WAIVER):
        the fee leaves the fee balance; a payment that paid it pays, as of its own day,
        what it would have (fees, interest, principal); past due, suspension, later late
        fees and the default clock are replayed (a line past due only for the fee is
        cured); what a line owing nothing no longer owes is a refund due. Booked today:
        one ``<line>:<cycle>:fee_waived:adjust`` entry, ADJUSTMENT lines and corrected
        year-to-date fees on the next statement. The borrower is told
        (LOC_LATE_FEE_WAIVED, and what the correction made new: ``refund_due``). A
        DEFAULTED or CLOSED line takes it too. The same request again (same cycle, key
        and reason) returns the waiver recorded and changes nothing.

        Raises:
            NoLateFee: the line's history charges no late fee for that cycle (none was
                charged, a policy waived it, a dispute or a correction took it back).
            IdempotencyConflict: the fee was already waived under another key or reason,
                or the key waived another cycle's fee.
            CorrectionTooOld: the fee was assessed further back than the correction reach.
            RefundAlreadyPaid: the correction would change a refund already paid out.
            (Nothing changed when any of these is raised.)
        """
        return correcting.waive_late_fee(
            self,
            late_fee_cycle=late_fee_cycle,
            reason=reason,
            idempotency_key=idempotency_key,
            today=today,
            product=product,
            posted=posted,
            before_overdue_job=before_overdue_job,
        )

    def decide_due(self, *, today: dt.date, missed: Collection[dt.date] = ()) -> DueDecision:
        """On the due date, collect the minimum still unpaid (minimum less payments since).

        Never what an open billing-error dispute holds back (`disputes`). `missed` are
        earlier days whose due run never finished (an outage, a run that died): a line
        whose due date is one of them, and whose cycle is still the current one, is
        collected today as it would have been that day.
        """
        return collections.decide_due(self, today=today, missed=missed)

    def decide_upcoming(self, *, today: dt.date, product: CreditLineProduct) -> UpcomingDecision:
        """Notify from `upcoming_notice_days` before the due date until the day before it."""
        return collections.decide_upcoming(self, today=today, product=product)

    def send_upcoming_notice(
        self, *, today: dt.date, product: CreditLineProduct
    ) -> UpcomingDecision:
        """Apply `decide_upcoming`: record LOC_PAYMENT_UPCOMING and remember the cycle.

        Raises:
            OutOfOrder: `today` is before the line's latest activity.
        """
        return collections.send_upcoming_notice(self, today=today, product=product)

    def decide_overdue(self, *, today: dt.date, product: CreditLineProduct) -> OverdueDecision:
        """Skip lines whose minimum is met; otherwise mark past due, fee once, default when due.

        The late fee comes only once the current statement's due date has passed, never
        more than that statement's minimum payment. The line defaults when it is
        `default_after_days_past_due` days past due (counted from the due date it missed).
        A product whose `corrections.late_fee_when_missed_by_return` is False waives the fee
        of a cycle missed only because of a return (`late_fee_waived`). A cycle whose fee
        an operator waived (`waive_late_fee`; only a replay meets one) is charged none and
        marked handled (`late_fee_waived_by_operator`).
        """
        return collections.decide_overdue(self, today=today, product=product)

    def run_overdue(self, *, today: dt.date, product: CreditLineProduct) -> OverdueDecision:
        """Apply `decide_overdue`: suspend, assess the late fee, default, or cure.

        Raises:
            OutOfOrder: `today` is before the line's latest activity.
        """
        return collections.run_overdue(self, today=today, product=product)

    def billing_is_current(self, today: dt.date) -> bool:
        """Whether `last_billing_cycle_date` is the latest close date on or before `today`."""
        return collections.billing_is_current(self, today)

    def past_due_amount(self, today: dt.date) -> int:
        """What the borrower should already have paid and has not, as of `today`.

        After the due date that is the whole unpaid minimum; before it, only the part carried
        from an earlier, already late minimum.
        """
        return delinquency.past_due_amount(self, today)

    def first_late_day(self, today: dt.date) -> dt.date | None:
        """The first day the oldest unpaid minimum was late, or None when nothing is past due."""
        return delinquency.first_late_day(self, today)

    def days_past_due(self, today: dt.date) -> int:
        """Whole days since the oldest unpaid minimum became late (0 when nothing is late)."""
        return delinquency.days_past_due(self, today)

    def overdue_watch_from(self) -> dt.date | None:
        """The first day the overdue job may have anything to do for `line`, or None.

        What an index of lines to look at is keyed by, so the job reads only those: a
        SUSPENDED line every day (to cure or to default it); an ACTIVE one from the first
        day a minimum it still owes can be late (the first late day of a carried amount, or
        the day after the due date); never a line owing no minimum, DEFAULTED or CLOSED.
        """
        return delinquency.overdue_watch_from(self)
