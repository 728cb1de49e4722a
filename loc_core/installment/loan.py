"""The installment loan aggregate: a loan, its installments and the payments made on it.

Every command validates everything first and changes state after, so a `DomainError`
leaves the loan exactly as it was. What a command produces besides state waits in
`outbox`: one audit `Change` per entity changed, the balanced journal entries of the
money that moved (with ids derived from their cause, so nothing posts twice) and the
borrower-facing events. `verify` proves the loan consistent after every change and when
a stored loan is loaded; the invariants it checks live in `_invariants`, and the loan's
data and queries in `_state` (`LoanState`), as the credit line splits `LineState`.

The unit of work bumps `version` and stamps `updated_at` when it saves; commands take
business dates (`today`), not timestamps.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence

import attrs

from loc_core import bookkeeping
from loc_core.audit import ChangeRecorder, render
from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.corrections import account_balances, adjustment_entry
from loc_core.errors import (
    CorrectionTooOld,
    DomainError,
    DuplicatePayment,
    IdempotencyConflict,
    InvalidTimestamp,
    InvalidTransition,
    InvariantViolation,
    LoanCancelled,
    NoLateFee,
    Overpayment,
    PaymentAlreadyReversed,
    PaymentAlreadySettled,
    PaymentError,
    PaymentNotApplied,
    Ref,
)
from loc_core.events import AuditValue, DomainEvent, EventType
from loc_core.installment import _invariants, _journal, capacity
from loc_core.installment._checks import require_date, require_id
from loc_core.installment._state import LoanState
from loc_core.installment.allocation import allocate
from loc_core.installment.installment import Installment, LateFeeWaiver
from loc_core.installment.payment import Payment
from loc_core.installment.replay import replay
from loc_core.installment.vocabulary import (
    InstallmentStatus,
    LoanStatus,
    Process,
)
from loc_core.ledger import (
    CLEARING,
    Bucket,
    JournalEntry,
    refund_due,
)
from loc_core.money import format_cents, positive_cents
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.refunds import (
    Payout,
    RefundDue,
    paid_refund_entries,
    record_paid,
    refund_entry,
    require_paid_unchanged,
)

__all__ = ["DAILY_JOB_AT", "Loan"]

DAILY_JOB_AT = dt.time.fromisoformat("17:00")
"""The hour (UTC) the loans' daily job runs for the business date (``daily_loan_job``'s
schedule): a correction booked before it leaves that day's job to that run."""

_AUTOPAY_SETTING = Process.AUTOPAY_SETTING
"""Audit process of a borrower (or support) switching autopay on or off."""
_PAYMENT_PROCESSES = frozenset({Process.AUTOPAY, Process.MANUAL})
_REVERSAL_BY_RAIL = {
    Rail.ACH: SettlementOutcome.RETURNED,
    Rail.PINLESS: SettlementOutcome.CHARGED_BACK,
}
# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_OPEN = LoanStatus.OPEN
_SCHEDULED, _OVERDUE = InstallmentStatus.SCHEDULED, InstallmentStatus.OVERDUE


def _late_fee_reason(fee: int, wanted: int) -> str:
    if fee == wanted:
        return f"late fee of {fee} cents" if fee else "the product charges no late fee"
    if fee:
        return f"late fee of {fee} cents, the rest of the loan's cap"
    return "no late fee, the loan's cap is reached"


@attrs.frozen
class _Before:
    """What a correction compares against to publish only what is new."""

    status: LoanStatus
    overdue: frozenset[str]
    """The installments overdue and told so: OVERDUE, or DEFAULTED after being overdue (a
    correction that undoes the default leaves them OVERDUE, which is not news)."""
    refunds: dict[str, int]
    """Each payment's refund due (not cancelled), by payment id."""

    @classmethod
    def of(cls, loan: LoanState) -> _Before:
        return cls(
            loan.status,
            frozenset(
                installment.installment_id
                for installment in loan.installments
                if installment.status is InstallmentStatus.OVERDUE
                or (
                    installment.status is InstallmentStatus.DEFAULTED
                    and installment.overdue_on is not None
                )
            ),
            loan.refunds_due_by_payment(),
        )


@attrs.frozen
class _Backdating:
    """What `Loan.book_backdated_payment` was asked to book."""

    payment_id: str
    amount: int
    rail: Rail
    effective_on: dt.date
    today: dt.date
    posted: Sequence[JournalEntry]
    reason: str
    before_daily_job: bool = False
    process: Process = Process.MANUAL
    settled: bool = True
    after_job: bool = False


def _still_held(installment: Installment, day: dt.date) -> bool:
    """Whether `installment`'s fee, waived by an operator, still holds its room on `day`.

    Through the day the waiver was booked: that day counts as before it (the loan does not
    record whether the day's job ran before or after the waiver).
    """
    waiver = installment.late_fee_waiver
    return waiver is not None and waiver.waived_on >= day


def _refunded(payment: Payment) -> int:
    return 0 if payment.refund is None else payment.refund.amount


def _adopt_installment(
    mine: Installment, theirs: Installment, *, reason: str, process: Process
) -> None:
    """Give `mine` the balances and status of its replayed twin `theirs`."""
    fields = ("late_fee", "total_amount", "outstanding_balance", "status", "overdue_on")
    if all(getattr(mine, name) == getattr(theirs, name) for name in fields) and (
        mine.applications == theirs.applications
    ):
        return
    for name in fields:
        setattr(mine, name, getattr(theirs, name))
    mine.applications = list(theirs.applications)
    mine.process = process
    mine.update_reason = reason


@attrs.define(kw_only=True)
class Loan(LoanState):
    """An installment loan (``LOAN#``): the aggregate root every loan command goes through."""

    def __attrs_post_init__(self) -> None:
        self.verify()

    def verify(self) -> None:
        """Prove the loan consistent; a loaded record is verified, not trusted.

        Raises:
            InvariantViolation: naming the first contradiction found.
        """
        _invariants.verify(self)

    def problems(self) -> list[str]:
        """Every way the loan, its installments and its payments contradict each other."""
        return _invariants.problems(self)

    # --- commands ---------------------------------------------------------------------

    def apply_payment(
        self,
        payment_id: str,
        amount: int,
        *,
        process: Process,
        rail: Rail,
        today: dt.date,
    ) -> Payment:
        """Apply a submitted repayment now (PENDING): oldest installment first.

        Where the money runs out an installment is paid partially; the rest prepays
        later installments. A DEFAULTED loan still takes payments, and what they recover
        releases its allowance.

        Raises:
            InvalidAmount: unless `amount` is positive integer cents.
            PaymentError: for a process other than AUTOPAY or MANUAL, or a rail that
                cannot collect (RTP).
            InvalidTimestamp: for a `today` that is not a date or is before disbursement.
            LoanCancelled: when the loan is CANCELLED (its disbursement came back).
            InvalidTransition: when the loan is CLOSED.
            DuplicatePayment: when `payment_id` was already applied to this loan.
            Overpayment: when `amount` is more than the loan's outstanding balance.
        """
        return self._book_payment(
            payment_id, amount, process=process, rail=rail, today=today, moved=False
        )

    def book_moved_payment(
        self,
        payment_id: str,
        amount: int,
        *,
        process: Process,
        rail: Rail,
        today: dt.date,
    ) -> Payment:
        """Book a repayment a rail already took: never refused for the loan's balance.

        What the loan still owes is applied as `apply_payment` does; the excess (all of
        it on a CLOSED or CANCELLED loan) becomes the payment's `refund`, a `RefundDue` posted DR
        CLEARING, CR ``refund_due(<loan id>)``, with a REFUND_DUE event. A CLOSED loan
        stays CLOSED.

        Raises:
            InvalidAmount: unless `amount` is positive integer cents.
            PaymentError: for a process other than AUTOPAY or MANUAL, or a rail that
                cannot collect (RTP).
            InvalidTimestamp: for a `today` that is not a date or is before disbursement.
            DuplicatePayment: when `payment_id` was already applied to this loan.
        """
        return self._book_payment(
            payment_id, amount, process=process, rail=rail, today=today, moved=True
        )

    def check_payment(self, amount: int, *, today: dt.date) -> None:
        """Refuse, changing nothing, a repayment `apply_payment` would refuse for its amount.

        Services call it before asking a rail for the money, so a payment the loan cannot
        take is never collected.

        Raises:
            InvalidAmount: unless `amount` is positive integer cents.
            InvalidTimestamp: for a `today` that is not a date or is before disbursement.
            LoanCancelled: when the loan is CANCELLED (its disbursement came back).
            InvalidTransition: when the loan is CLOSED.
            Overpayment: when `amount` is more than the loan's outstanding balance.
        """
        amount = positive_cents(amount, field="payment amount")
        self._require_today(today)
        self._refuse_if_closed()
        self._refuse_overpayment("a payment", amount)

    def check_payment_room(self, amount: int) -> None:
        """Refuse a borrower's new manual payment past `max_manual_payments_per_loan`.

        Services ask it before a borrower's payment moves any money; money that already
        moved is booked without it, and a payment of everything owed (a payoff) is never
        refused (``loc_core.installment.capacity``).

        Raises:
            PaymentLimitReached: the loan holds the most standing manual payments its
                product allows and `amount` does not pay it off.
        """
        capacity.require_payment_room(self, amount)

    def announce_left_to_pay(self, installment_id: str, *, today: dt.date) -> bool:
        """Tell the borrower what an autopay charge left the installment owing by hand.

        Autopay takes no more than an installment's scheduled amount (`autopay_amount`):
        once a charge leaves an OVERDUE installment owing only its late fee's worth
        (``SCHEDULE_PAID``), no debit will take the rest. The overdue notice
        (INSTALLMENT_OVERDUE) is sent again, its ``outstanding_balance`` what is left to
        pay by hand: the first one, sent before the charge, named the whole balance, and
        unpaid the rest keeps the installment overdue up to the loan's default. Returns
        whether it was sent. Called by the collections worker with the charge it books.

        Raises:
            NotFound: when the loan has no such installment.
        """
        today = self._require_today(today)
        installment = self.installment(installment_id)
        left = installment.outstanding_balance
        if (
            installment.status is not InstallmentStatus.OVERDUE
            or left == 0
            or left > installment.late_fee  # autopay still takes the rest of the schedule
        ):
            return False
        self._overdue_event(installment, today)
        return True

    def record_collection_attempt(
        self, installment_id: str, *, today: dt.date, outcome: str
    ) -> int:
        """Count an autopay charge tried on an installment, whatever the rail answered.

        The attempt is audited (process AUTOPAY) and committed with the loan, so a declined
        charge counts against the product's `max_collection_attempts` too. The policy of
        when to try (`collection_skip_reason`) is the collections worker's; this only
        records. Returns the attempt's number (1 for the first).

        Raises:
            NotFound: when the loan has no such installment.
            InvalidTimestamp: for a `today` that is not a date or is before disbursement,
                or before the installment's previous attempt.
            DomainError: for a blank installment id or outcome.
        """
        require_id(installment_id, field="installment_id")
        require_id(outcome, field="outcome")
        today = self._require_today(today)
        installment = self.installment(installment_id)
        previous = installment.last_collection_attempt_on
        if previous is not None and today < previous:
            raise InvalidTimestamp(
                f"installment {installment_id} was last attempted on {previous.isoformat()}, "
                f"after {today.isoformat()}",
                about=installment,
            )
        number = installment.collection_attempts + 1
        reason = f"autopay attempt {number}: {outcome}"
        recorder = ChangeRecorder(process=Process.AUTOPAY, reason=reason)
        recorder.touch(installment)
        installment.collection_attempts = number
        installment.last_collection_attempt_on = today
        installment.process = Process.AUTOPAY
        installment.update_reason = reason
        self.outbox.changes.extend(recorder.changes())
        # Only the installment's attempt fields changed, and no invariant of the loan reads
        # them: verifying the installment proves what this command touched (the loan was
        # verified when loaded and after every command that moves money or status;
        # `LoanLifecycle` proves the whole loan after every attempt).
        installment.verify()
        return number

    def set_autopay(self, enabled: bool, *, today: dt.date, reason: str) -> bool:  # noqa: FBT001 - the setting itself, not a mode switch
        """Switch autopay on or off; returns whether anything changed.

        Setting the value it already has changes nothing and records nothing.

        Raises:
            InvalidTransition: when turning autopay on for a loan that is not OPEN (a
                defaulted loan stopped autopay for good; a closed one owes nothing).
            InvalidTimestamp: for a `today` that is not a date or is before disbursement.
            DomainError: for a blank reason or an `enabled` that is not a bool.
        """
        if not isinstance(enabled, bool):
            raise DomainError(f"enabled must be a bool, got {enabled!r}")
        require_id(reason, field="reason")
        self._require_today(today)
        if enabled == self.autopay_enabled:
            return False
        if enabled and self.status is not LoanStatus.OPEN:
            raise InvalidTransition(
                f"loan {self.loan_id} is {self.status.value}: autopay cannot be turned on",
                about=self,
            )
        recorder = ChangeRecorder(process=_AUTOPAY_SETTING, reason=reason)
        recorder.touch(self)
        self.autopay_enabled = enabled
        self.outbox.changes.extend(recorder.changes())
        self.verify()
        return True

    def settle(self, payment_id: str, outcome: SettlementOutcome, *, today: dt.date) -> Payment:
        """Record what the rail reported about a payment.

        COMPLETED changes the payment's status only. RETURNED (ACH) or CHARGED_BACK
        (pinless) takes back exactly what the payment applied: installment balances and
        statuses as they would be without it, a CLOSED loan reopened, the journal reversed.
        A repeated or late event raises and changes nothing, so a service can treat it
        as a duplicate.

        Raises:
            PaymentNotApplied: when no payment `payment_id` was applied to this loan.
            PaymentAlreadyReversed: when the payment was already returned or charged back
                (a second return, or a completion arriving after the return).
            PaymentAlreadySettled: when a completion arrives for a COMPLETED payment.
            PaymentError: for a return of a pinless payment or a chargeback of an ACH one.
            RefundAlreadyPaid: for a return or chargeback of a payment whose refund was
                already paid out (the money to give back never stayed, yet it was sent).
        """
        require_id(payment_id, field="payment_id")
        if not isinstance(outcome, SettlementOutcome):
            raise PaymentError(
                f"outcome must be a SettlementOutcome, got {outcome!r}",
                about=Ref("payment", payment_id, self.user_id),
            )
        today = self._require_today(today)
        payment = self.payments.get(payment_id)
        if payment is None:
            raise PaymentNotApplied(
                f"payment {payment_id} was never applied to loan {self.loan_id}",
                about=Ref("payment", payment_id, self.user_id),
            )
        if payment.status.reversed:
            raise PaymentAlreadyReversed(
                f"payment {payment_id} was already {payment.status.value} on "
                f"{render(payment.settled_on)}; {outcome.value} changes nothing",
                about=payment,
            )
        if outcome is SettlementOutcome.COMPLETED:
            if payment.status is PaymentStatus.COMPLETED:
                raise PaymentAlreadySettled(
                    f"payment {payment_id} already COMPLETED on {render(payment.settled_on)}",
                    about=payment,
                )
            # A completion only dates the payment and marks it COMPLETED; the loan's
            # invariants read a payment's status only as reversed or not, which this
            # leaves as it was, so there is nothing more to verify (the loan was verified
            # when loaded; `LoanLifecycle` proves the whole loan after every completion).
            self._complete(payment, today)
            return payment
        expected = _REVERSAL_BY_RAIL[payment.rail]
        if outcome is not expected:
            raise PaymentError(
                f"payment {payment_id} went by {payment.rail.value}: it can be "
                f"{expected.value}, not {outcome.value}",
                about=payment,
            )
        require_paid_unchanged(
            {payment_id: payment.refund},
            {},
            about=self,
            what=f"the {outcome.value} of payment {payment_id}",
        )
        self._unapply(payment, outcome, today)
        self.verify()
        return payment

    def run_daily(self, today: dt.date) -> None:
        """The daily job: make installments overdue (with a late fee) and default the loan.

        An installment still unpaid `grace_days` after its due date (never on the due date
        itself: `InstallmentProduct.overdue_on`) becomes OVERDUE on that day and is
        charged one late fee within the loan's cap. An installment OVERDUE for
        `default_after_days` defaults the loan. Running a day again, or a past day,
        changes nothing; a day skipped is caught up.

        Raises:
            InvalidTimestamp: for a `today` that is not a date or is before disbursement.
        """
        today = self._require_today(today)
        if self.status is not _OPEN:
            return
        newly_overdue = [
            installment
            for installment in self.installments
            if installment.status is _SCHEDULED
            and today >= self.product.overdue_on(installment.due_date)
        ]
        if newly_overdue:
            self._make_overdue(newly_overdue, today, waived=self._waived(newly_overdue, today))
        patience = dt.timedelta(days=self.product.default_after_days)
        cause = next(
            (
                installment
                for installment in self.installments
                if installment.status is _OVERDUE
                and installment.overdue_on is not None
                and today >= installment.overdue_on + patience
            ),
            None,
        )
        if cause is not None:
            self._default(cause, today)
        if newly_overdue or cause is not None:
            self.daily_job_changed_on = today
            self.verify()

    def check_correction(self, effective: dt.date, *, today: dt.date) -> None:
        """Refuse, changing nothing, a correction `correct` would refuse for its dates.

        Raises:
            CorrectionTooOld: when `effective` is further back than the product's
                `corrections.reach` before `today`.
            InvalidTimestamp: for dates that are not dates, before disbursement, or an
                `effective` after `today`.
        """
        today = self._require_today(today)
        effective = self._require_today(effective)
        if effective > today:
            raise InvalidTimestamp(
                f"a correction effective {effective.isoformat()} is after {today.isoformat()}",
                about=self,
            )
        self.product.corrections.require_within(
            effective, today=today, about=Ref("loan", self.loan_id, self.user_id)
        )

    def replayable(self, posted: Sequence[JournalEntry]) -> bool:
        """Whether the books `posted` hold the loan's whole history, so it can be replayed.

        A loan adopted from the Go service opens with one ``<loan>:adopted`` entry of
        its balances at adoption, not with its disbursement: what happened before is
        not here to replay, and replayed books started from nothing would reverse its
        whole opening position.
        """
        return any(entry.kind == EntryKind.DISBURSEMENT for entry in posted)

    def _require_replayable(self, posted: Sequence[JournalEntry]) -> None:
        if not self.replayable(posted):
            raise CorrectionTooOld(
                f"loan {self.loan_id} was adopted from the Go service: its history before "
                "adoption is not here to replay, so a correction is handled by hand",
                about=Ref("loan", self.loan_id, self.user_id),
            )

    def correct(
        self,
        *,
        cause: str,
        effective: dt.date,
        today: dt.date,
        posted: Sequence[JournalEntry],
        reason: str,
        before_daily_job: bool = False,
    ) -> JournalEntry | None:
        """Take the history replayed with what is known now, as if it had been known then.

        The loan is replayed from its origination terms through `today` (`replay`), or
        through the last day its books or payments show if that is later (an event
        delivered days after it occurred never rewinds what the loan lived since):
        installments' balances, late fees, statuses and overdue dates, what each payment
        paid, refunds due, and the loan's status, completion and default are the replayed
        ones. Records are kept (payments with their statuses, collection attempts). The
        books, `posted` (the loan's journal) plus what the outbox holds, are moved to the
        replayed ones by one adjustment entry ``<cause>:adjust`` dated that day, returned
        (None when nothing differs, as for the same correction delivered twice). Only
        what is new is published: installments overdue now, the loan defaulted or closed,
        a refund due that is new or of another amount.

        With `before_daily_job` (booked before `today`'s daily job's hour, `DAILY_JOB_AT`)
        the replay stops short of `today`'s job, which does its work at its hour, unless
        that job already changed the loan today (`daily_job_changed_on`): docs/corrections.md,
        "Today's job".

        Raises:
            CorrectionTooOld, InvalidTimestamp: as `check_correction`, or for a loan whose
                books do not hold its history (`replayable`); nothing changed.
            LoanCancelled: when the loan is CANCELLED: it owes nothing to correct.
            RefundAlreadyPaid: when the replay would cancel or change a refund already
                paid out (one it leaves as it was stays PAID).
            DomainError: for a blank cause or reason.
        """
        require_id(cause, field="cause")
        require_id(reason, field="reason")
        self._refuse_if_cancelled("corrections")
        self.check_correction(effective, today=today)
        self._require_replayable(posted)
        return self._correct(
            cause=cause,
            effective=effective,
            today=today,
            posted=posted,
            reason=reason,
            before=_Before.of(self),
            before_daily_job=before_daily_job,
        )

    def _correct(
        self,
        *,
        cause: str,
        effective: dt.date,
        today: dt.date,
        posted: Sequence[JournalEntry],
        reason: str,
        before: _Before,
        before_daily_job: bool = False,
        process: Process = Process.CORRECTION,
    ) -> JournalEntry | None:
        """`correct` once its arguments are checked; news is what differs from `before`.

        `process` is what the audit records the correction as (an operator's fee waiver
        is FEE_WAIVER).
        """
        # Never rewind what the loan lived: a `today` before the last day it shows (a
        # rail's event delivered days after it occurred) is taken as that day, so no
        # later payment, late fee or default drops out of the replay.
        lived = max(today, self._last_lived(posted))
        # Before the hour of today's job, the job does today's work at its hour; what it
        # already did today (a run ahead of its hour) stays.
        job_through = not before_daily_job or lived > today or self.daily_job_changed_on == today
        today = lived
        replayed = replay(self, through=today, job_through=job_through)
        require_paid_unchanged(
            {payment_id: payment.refund for payment_id, payment in self.payments.items()},
            {payment_id: payment.refund for payment_id, payment in replayed.payments.items()},
            about=self,
            what=f"correction {cause}",
        )
        reason = f"corrected as of {effective.isoformat()}: {reason}"
        recorder = ChangeRecorder(process=process, reason=reason)
        recorder.touch(self)
        for mine, theirs in zip(self.installments, replayed.installments, strict=True):
            recorder.touch(mine)
            _adopt_installment(mine, theirs, reason=reason, process=process)
        for payment in self.payments.values():
            again = replayed.payments.get(payment.payment_id)
            if again is not None:
                recorder.touch(payment)
                payment.applications = again.applications
                if _refunded(payment) != _refunded(again):  # a PAID refund is never changed
                    if again.refund is not None:
                        # Booked today (the adjustment below), or kept from the day the
                        # payment's own entry recorded it: never the payment's past day.
                        again.refund.recorded_on = (
                            today if payment.refund is None else payment.refund.recorded_on
                        )
                    payment.refund = again.refund
        self.outstanding_balance = replayed.outstanding_balance
        self.status = replayed.status
        self.completion_date = replayed.completion_date
        self.defaulted_on = replayed.defaulted_on
        self.autopay_enabled = replayed.autopay_enabled
        if replayed.daily_job_changed_on == today:
            # The replay ran today's job and it changed the loan: that work is done, as
            # if the job had run, so a payment booked later today is replayed after it.
            self.daily_job_changed_on = today
        disbursed = [entry for entry in posted if entry.kind == EntryKind.DISBURSEMENT]
        entry = adjustment_entry(
            product=Product.INSTALLMENT,
            cause=cause,
            reference=self.loan_id,
            posted=account_balances([*posted, *self.outbox.entries]),
            # The replay recreates refunds as DUE: the payouts already made stay made.
            replayed=account_balances(
                [*disbursed, *replayed.outbox.entries, *self._paid_refund_entries()]
            ),
            on=today,
            memo=reason,
        )
        if entry is not None:
            self.outbox.entries.append(entry)
        self.outbox.changes.extend(recorder.changes())
        self._publish_news(before, today)
        self.verify()
        return entry

    def book_backdated_payment(
        self,
        payment_id: str,
        amount: int,
        *,
        rail: Rail,
        effective_on: dt.date,
        today: dt.date,
        posted: Sequence[JournalEntry],
        reason: str,
        before_daily_job: bool = False,
        process: Process = Process.MANUAL,
        settled: bool = True,
        after_job: bool = False,
    ) -> Payment:
        """Book money already received as a payment (MANUAL) effective on `effective_on`.

        The payment is booked today as `book_moved_payment` books it (never refused;
        ``<payment>:apply`` and any refund due dated `today`), but created and audited
        with `effective_on` as its `submitted_on` and COMPLETED, settled that day (no
        rail will ever report it). A debit a rail took that the books lost (`settled`
        False: its rail still reports its settlement) stays PENDING instead, booked as
        the `process` (AUTOPAY or MANUAL) that sent it, and with `after_job` (its rail
        took it after that day's job hour) it counts after that day's daily job, as it
        would have (`Payment.after_daily_job`). The loan is corrected as of that
        day (`correct`, cause the payment id): a late fee or default it would have
        prevented is reversed in the adjustment entry ``<payment>:adjust``. A refund due
        is announced once the correction has decided how much is owed back. On a
        CANCELLED loan (its disbursement came back) nothing is owed and nothing corrected:
        the whole amount is the payment's refund due, announced at once.
        `before_daily_job` is `correct`'s.

        Raises:
            CorrectionTooOld: when `effective_on` is beyond the correction reach, or the
                loan's books do not hold its history (an adopted loan: `replayable`).
            InvalidTimestamp: for an `effective_on` after `today` or before disbursement.
            InvalidAmount, PaymentError, DuplicatePayment: as `book_moved_payment`.
            RefundAlreadyPaid: when the correction would cancel or change a refund
                already paid out.
            DomainError: for a blank reason.
            (Nothing changed when any of these is raised.)
        """
        require_id(reason, field="reason")
        self.check_correction(effective_on, today=today)
        if self.cancelled:
            # The money was received: booked whole as a refund due, as a rail's moved
            # payment is. The loan owes nothing since its disbursement: nothing to correct.
            payment = self._book_payment(
                payment_id,
                amount,
                process=process,
                rail=rail,
                today=today,
                moved=True,
                received_on=effective_on,
                settled=settled,
                after_job=after_job,
            )
            if payment.refund is not None:
                self._announce_refund(payment.refund, amount, today)
            return payment
        self._require_replayable(posted)
        backdating = _Backdating(
            payment_id,
            amount,
            rail,
            effective_on,
            today,
            posted,
            reason,
            before_daily_job,
            process,
            settled,
            after_job,
        )
        if self._paid_refund_entries():
            # A paid-out refund the correction would change is refused (`_correct`) after
            # the payment is booked: try it on a copy first, so a refusal changes nothing.
            trial: Loan = copy.deepcopy(self)
            trial._book_backdated(backdating)  # the same class, on its copy
        return self._book_backdated(backdating)

    def _book_backdated(self, asked: _Backdating) -> Payment:
        """`book_backdated_payment` once its arguments are checked."""
        before = _Before.of(self)  # its refund due is news only as the correction ends it
        # Booked (and audited) as received on `effective_on`, its entries dated today;
        # received that day at an hour nobody recorded: before that day's job.
        payment = self._book_payment(
            asked.payment_id,
            asked.amount,
            process=asked.process,
            rail=asked.rail,
            today=asked.today,
            moved=True,
            received_on=asked.effective_on,
            settled=asked.settled,
            after_job=asked.after_job,
        )
        self._correct(
            cause=asked.payment_id,
            effective=asked.effective_on,
            today=asked.today,
            posted=asked.posted,
            reason=f"payment {asked.payment_id} of {asked.amount} cents received "
            f"{asked.effective_on}: {asked.reason}",
            before=before,
            before_daily_job=asked.before_daily_job,
        )
        return payment

    def waive_late_fee(
        self,
        installment_id: str,
        *,
        reason: str,
        idempotency_key: str,
        today: dt.date,
        posted: Sequence[JournalEntry],
        before_daily_job: bool = False,
    ) -> LateFeeWaiver:
        """An operator waives the late fee of an installment, as of the day it was assessed.

        The waiver is recorded on the installment (`Installment.late_fee_waiver`, dated
        its `overdue_on`) and the loan is corrected as of that day (`correct`, cause
        ``<installment>:fee_waived``): the replay, and every later one and the daily job,
        read the waiver and charge no fee, so the fee leaves the installment's total and
        outstanding and the loan's outstanding; a payment that paid it pays, as of its
        own day, what it would have paid without it (the allocation rule), and what a
        paid-off loan no longer owes becomes a refund due. The books move by one
        ``<installment>:fee_waived:adjust`` entry dated `today`. The borrower is told
        (``late_fee_waived``, and whatever the correction made new: ``refund_due``,
        ``loan_closed``). A DEFAULTED loan takes it too (its allowance falls with what
        it owes). Audited as FEE_WAIVER. Returns the waiver, or the one already recorded
        for the same key and reason (then nothing changes).

        Raises:
            NotFound: when the loan has no such installment.
            IdempotencyConflict: the installment's fee was already waived under another
                key or reason, or the key waived another installment's fee.
            LoanCancelled: when the loan is CANCELLED: it owes nothing.
            NoLateFee: the installment carries no late fee (none was charged, the loan's
                cap left none, or a correction took it back).
            CorrectionTooOld: the fee was assessed further back than the correction
                reach, or the loan's books do not hold its history (`replayable`).
            InvalidTimestamp: for a `today` that is not a date or is before disbursement.
            RefundAlreadyPaid: when the correction would change a refund already paid out.
            DomainError: for a blank installment id, reason or key.
            (Nothing changed when any of these is raised.)
        """
        require_id(installment_id, field="installment_id")
        require_id(reason, field="reason")
        require_id(idempotency_key, field="idempotency_key")
        today = self._require_today(today)
        installment = self.installment(installment_id)
        known = self._known_waiver(installment, reason=reason, idempotency_key=idempotency_key)
        if known is not None:
            return known
        self._refuse_if_cancelled("fee waivers")
        overdue_on = installment.overdue_on
        if not installment.late_fee or overdue_on is None:
            raise NoLateFee(
                f"installment {installment.number} of loan {self.loan_id} carries no late fee "
                "to waive",
                about=installment,
            )
        self.check_correction(overdue_on, today=today)
        self._require_replayable(posted)
        waiver = LateFeeWaiver(
            amount=installment.late_fee,
            effective_on=overdue_on,
            waived_on=today,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        if self._paid_refund_entries():
            # A paid-out refund the correction would change is refused (`_correct`) after
            # the waiver is recorded: try it on a copy first, so a refusal changes nothing.
            trial: Loan = copy.deepcopy(self)
            trial._waive(installment_id, waiver, posted, before_daily_job=before_daily_job)
        self._waive(installment_id, waiver, posted, before_daily_job=before_daily_job)
        return waiver

    def _known_waiver(
        self, installment: Installment, *, reason: str, idempotency_key: str
    ) -> LateFeeWaiver | None:
        """The waiver this request already made (the same request again), else None.

        Raises:
            IdempotencyConflict: the installment's fee was waived by another request, or
                this key waived another installment's fee.
        """
        for other in self.installments:
            known = other.late_fee_waiver
            if known is None:
                continue
            if other is installment:
                if (known.idempotency_key, known.reason) == (idempotency_key, reason):
                    return known
                raise IdempotencyConflict(
                    f"the late fee of installment {other.number} of loan {self.loan_id} was "
                    f"already waived on {known.waived_on.isoformat()} under key "
                    f"{known.idempotency_key!r}: {known.reason}",
                    about=other,
                    key=idempotency_key,
                )
            if known.idempotency_key == idempotency_key:
                raise IdempotencyConflict(
                    f"idempotency key {idempotency_key!r} waived the late fee of installment "
                    f"{other.number} of loan {self.loan_id}, not of installment "
                    f"{installment.number}",
                    about=other,
                    key=idempotency_key,
                )
        return None

    def _waive(
        self,
        installment_id: str,
        waiver: LateFeeWaiver,
        posted: Sequence[JournalEntry],
        *,
        before_daily_job: bool,
    ) -> None:
        """`waive_late_fee` once its arguments are checked: record, correct, tell."""
        installment = self.installment(installment_id)
        before = _Before.of(self)
        why = f"late fee of {waiver.amount} cents waived: {waiver.reason}"
        recorder = ChangeRecorder(process=Process.FEE_WAIVER, reason=why)
        recorder.touch(installment)
        installment.late_fee_waiver = waiver
        self.outbox.changes.extend(recorder.changes())
        self._correct(
            cause=f"{installment_id}:fee_waived",
            effective=waiver.effective_on,
            today=waiver.waived_on,
            posted=posted,
            reason=why,
            before=before,
            before_daily_job=before_daily_job,
            process=Process.FEE_WAIVER,
        )
        self._event(
            EventType.LATE_FEE_WAIVED,
            installment_id,
            waiver.waived_on,
            {
                "loan_id": self.loan_id,
                "installment_number": installment.number,
                "due_date": installment.due_date.isoformat(),
                "amount": waiver.amount,
                "loan_status": self.status.value,
                "outstanding_balance": self.outstanding_balance,
            },
        )

    def cancel_returned_disbursement(
        self, *, today: dt.date, posted: Sequence[JournalEntry], reason: str
    ) -> JournalEntry:
        """The rail brought the disbursement back: cancel the loan as of its disbursement.

        The loan becomes CANCELLED (terminal, `completion_date` its disbursement date,
        autopay off) and owes nothing: every installment is CANCELLED with every part,
        total and outstanding 0 and no applications; every payment not reversed applies
        nothing and its whole amount is a refund due (REFUND_DUE where that is new).
        Records are kept: payments with their statuses, collection attempts, the audit.

        The books, all dated `today` (the day the return is learned): the disbursement
        entry mirrored, ``<loan>:returned`` (funding back, receivables down, the
        origination fee's income taken back), returned; then ``<loan>:returned:adjust``,
        which takes back everything else the loan booked (late fees, a charge-off's
        allowance, what payments paid) so that its books hold only the refunds due.
        ``loan_cancelled`` tells the borrower.

        Raises:
            LoanCancelled: when the loan is already CANCELLED (the same return again).
            CorrectionTooOld: when the disbursement date is further back than the
                correction reach before `today`, or the books do not hold the
                disbursement (a loan adopted from the Go service: `replayable`).
            InvalidTimestamp: for a `today` that is not a date or is before disbursement.
            RefundAlreadyPaid: when a payment's refund was paid out but is not its whole
                amount (cancelling would owe back more than was sent): handled by hand.
            DomainError: for a blank reason.
            (Nothing changed when any of these is raised.)
        """
        require_id(reason, field="reason")
        today = self._require_today(today)
        if self.cancelled:
            raise LoanCancelled(
                f"loan {self.loan_id} was already cancelled on {render(self.completion_date)}",
                about=self,
            )
        self.check_correction(self.disbursement_date, today=today)
        self._require_replayable(posted)
        require_paid_unchanged(
            {payment_id: payment.refund for payment_id, payment in self.payments.items()},
            {
                payment_id: RefundDue(
                    payment_id=payment_id, amount=payment.amount, recorded_on=today
                )
                for payment_id, payment in self.payments.items()
                if not payment.status.reversed
            },
            about=self,
            what=f"cancelling loan {self.loan_id}",
        )
        disbursed = next(entry for entry in posted if entry.kind == EntryKind.DISBURSEMENT)
        returned = disbursed.reversal(
            entry_id=entry_id(self.loan_id, Movement.RETURN, product=Product.INSTALLMENT),
            kind=EntryKind.DISBURSEMENT_RETURNED,
            effective_date=today,
        )
        before = self.refunds_due_by_payment()
        reason = f"cancelled as of {self.disbursement_date.isoformat()}: {reason}"
        recorder = ChangeRecorder(process=Process.CORRECTION, reason=reason)
        recorder.touch(self)
        for installment in self.installments:
            recorder.touch(installment)
            installment.principal = installment.origination_fee = installment.late_fee = 0
            installment.total_amount = installment.outstanding_balance = 0
            installment.applications = []
            installment.status = InstallmentStatus.CANCELLED
            installment.process = Process.CORRECTION
            installment.update_reason = reason
        kept = 0
        for payment in self.payments.values():
            if payment.status.reversed:
                continue
            kept += payment.amount
            recorder.touch(payment)
            payment.applications = ()
            if _refunded(payment) != payment.amount:
                payment.refund = RefundDue(
                    payment_id=payment.payment_id, amount=payment.amount, recorded_on=today
                )
        self.outstanding_balance = 0
        self.status = LoanStatus.CANCELLED
        self.completion_date = self.disbursement_date
        self.autopay_enabled = False
        self.outbox.entries.append(returned)
        # What the loan's books hold once cancelled: the cash its payments brought in,
        # all of it owed back, less the refunds already paid out (from funding). The
        # disbursement and its mirror net to nothing.
        cancelled_books = account_balances(self._paid_refund_entries())
        for account, amount in ((CLEARING, kept), (refund_due(self.loan_id), -kept)):
            cancelled_books[account] = cancelled_books.get(account, 0) + amount
        adjustment = adjustment_entry(
            product=Product.INSTALLMENT,
            cause=returned.entry_id,
            reference=self.loan_id,
            posted=account_balances([*posted, *self.outbox.entries]),
            replayed={account: amount for account, amount in cancelled_books.items() if amount},
            on=today,
            memo=reason,
        )
        if adjustment is not None:
            self.outbox.entries.append(adjustment)
        self.outbox.changes.extend(recorder.changes())
        for payment_id, amount in self.refunds_due_by_payment().items():
            refund = self.payments[payment_id].refund
            if refund is not None and before.get(payment_id) != amount:
                self._announce_refund(refund, self.payments[payment_id].amount, today)
        self._event(
            EventType.LOAN_CANCELLED,
            self.loan_id,
            today,
            {
                "loan_id": self.loan_id,
                "loan_status": self.status.value,
                "amount_disbursed": self.amount_disbursed,
                "disbursement_date": self.disbursement_date.isoformat(),
                "outstanding_balance": 0,
                "refund_due": self.refunds_due,
            },
        )
        self.verify()
        return returned

    def record_refund_paid(
        self,
        payment_id: str,
        *,
        paid_on: dt.date,
        reference: str,
        today: dt.date,
        reason: str,
        amount: int | None = None,
        before_settlement: bool = False,
    ) -> RefundDue:
        """Record that the lender paid a payment's refund due out (`loc_core.refunds`).

        The refund becomes PAID (`paid_on`, `paid_reference`), posted
        ``<payment>:refund_paid`` (DR ``refund_due(<loan>)``, CR FUNDING) dated `today`,
        audited, and the borrower told (REFUND_PAID). Any loan status takes it (CLOSED,
        CANCELLED, DEFAULTED). The same payout again changes nothing. A payment still
        PENDING on its rail is refused unless `before_settlement` (the money already
        went out, as the audit then says).

        Raises:
            RefundNotDue: no such payment, it keeps no refund, or its refund was cancelled.
            RefundNotSettled: the payment is still PENDING and not `before_settlement`.
            IdempotencyConflict: the refund was already paid out on another day or reference.
            InvalidRequest: `paid_on` after `today` or before the refund was recorded, or
                an `amount` (the cents sent, when given) other than the refund's.
            InvalidTimestamp: for a `today` that is not a date or is before disbursement.
            DomainError: for a blank reason.
            (Nothing changed when any of these is raised.)
        """
        require_id(reason, field="reason")
        today = self._require_today(today)
        paid_on = require_date(paid_on, field="paid_on")
        refund = record_paid(
            payment_id,
            self.payments.get(payment_id),
            Payout(
                paid_on=paid_on,
                reference=reference,
                today=today,
                reason=reason,
                amount=amount,
                before_settlement=before_settlement,
            ),
            owner=("loan_id", self.loan_id),
            product=Product.INSTALLMENT,
            user_id=self.user_id,
            outbox=self.outbox,
        )
        self.verify()
        return refund

    # --- steps ------------------------------------------------------------------------

    def _book_payment(
        self,
        payment_id: str,
        amount: int,
        *,
        process: Process,
        rail: Rail,
        today: dt.date,
        moved: bool,
        received_on: dt.date | None = None,
        settled: bool = True,
        after_job: bool = False,
    ) -> Payment:
        """`apply_payment`, or with `moved` `book_moved_payment` (documented there).

        A payment booked after the daily job changed the loan today is marked so
        (`Payment.after_daily_job`), so that a replay books it after that day's job too.
        With `received_on` (an operator's backdated payment) the payment is created
        submitted that day, before its job, so its audit record says when it counts
        from; what it moves is still booked `today`. It is COMPLETED then too, settled
        `received_on`: the money was already received and no rail will ever report it
        (a return or chargeback of it is still settled as usual); unless not `settled`
        (a lost debit its rail still settles): then it is PENDING, as a rail's debit is,
        and counts after that day's job when `after_job` (its rail took it after then).
        """
        require_id(payment_id, field="payment_id")
        amount = positive_cents(amount, field="payment amount")
        self._check_collection(payment_id, process, rail)
        today = self._require_today(today)
        if not moved:
            self._refuse_if_closed()
        if payment_id in self.payments:
            raise DuplicatePayment(
                f"payment {payment_id} was already applied to loan {self.loan_id}",
                about=Ref("payment", payment_id, self.user_id),
            )
        if not moved:
            self._refuse_overpayment(f"payment {payment_id}", amount)
        applied = min(amount, self.outstanding_balance)
        applications = allocate(
            payment_id=payment_id,
            amount=applied,
            installments=self.installments,
            payment_date=today,
        )
        reason = f"payment {payment_id} of {amount} cents"
        recorder = ChangeRecorder(process=process, reason=reason)
        recorder.touch(self)
        for app in applications:
            installment = self.installment(app.installment_id)
            recorder.touch(installment)
            installment.applications.append(app)
            installment.outstanding_balance -= app.amount
            if installment.is_paid:
                installment.status = InstallmentStatus.COMPLETED
            installment.process = process
            installment.update_reason = reason
        refund = (
            RefundDue(payment_id=payment_id, amount=amount - applied, recorded_on=today)
            if amount > applied
            else None
        )
        payment = Payment(
            payment_id=payment_id,
            user_id=self.user_id,
            loan_id=self.loan_id,
            amount=amount,
            process=process,
            rail=rail,
            submitted_on=today if received_on is None else received_on,
            applications=applications,
            # Money already received (a backdated payment): no rail will ever settle it.
            status=PaymentStatus.COMPLETED
            if received_on is not None and settled
            else PaymentStatus.PENDING,
            settled_on=received_on if settled else None,
            refund=refund,
            after_daily_job=self.daily_job_changed_on == today
            if received_on is None
            else after_job,
        )
        recorder.created(payment)
        self.payments[payment_id] = payment
        self.outstanding_balance -= applied
        if applied:
            self.outbox.entries.append(
                _journal.payment_entry(
                    payment, defaulted=self.status is LoanStatus.DEFAULTED, today=today
                )
            )
        if refund is not None:
            self._record_refund(refund, amount, announce=received_on is None)
        if applied and self.outstanding_balance == 0:
            self.status = LoanStatus.CLOSED
            self.completion_date = today
            self._event(EventType.LOAN_CLOSED, self.loan_id, today, {"payment_id": payment_id})
        self.outbox.changes.extend(recorder.changes())
        self.verify()
        return payment

    def _complete(self, payment: Payment, today: dt.date) -> None:
        # The rail's day, never before the payment's: a rail's clock a little behind ours
        # at midnight must not date a completion before the debit was submitted.
        today = max(today, payment.submitted_on)
        recorder = ChangeRecorder(process=payment.process, reason="settled: COMPLETED")
        recorder.touch(payment)
        payment.status = PaymentStatus.COMPLETED
        payment.settled_on = today
        self.outbox.changes.extend(recorder.changes())
        self._event(
            EventType.PAYMENT_SUCCEEDED, payment.payment_id, today, {"amount": payment.amount}
        )

    def _unapply(self, payment: Payment, outcome: SettlementOutcome, today: dt.date) -> None:
        for app in payment.applications:  # prove the whole reversal possible before any change
            if app not in self.installment(app.installment_id).applications:
                raise InvariantViolation(
                    f"payment {payment.payment_id} is missing from installment "
                    f"{app.installment_id}",
                    about=payment,
                    invariant="payment_on_its_installments",
                )
        reason = f"payment {payment.payment_id} {outcome.value}"
        recorder = ChangeRecorder(process=Process.UNAPPLY, reason=reason)
        recorder.touch(self)
        recorder.touch(payment)
        if payment.refund is not None:  # the money to give back never stayed: cancel first
            payment.refund.cancel(today)
            self.outbox.entries.append(
                refund_entry(
                    payment.refund,
                    owner=self.loan_id,
                    product=Product.INSTALLMENT,
                    cancel_on=today,
                )
            )
        applied = payment.applied_amount
        if applied and self.status is LoanStatus.CLOSED:
            self.status = LoanStatus.OPEN if self.defaulted_on is None else LoanStatus.DEFAULTED
            self.completion_date = None
        self.outstanding_balance += applied
        for app in payment.applications:
            installment = self.installment(app.installment_id)
            recorder.touch(installment)
            installment.applications.remove(app)
            installment.outstanding_balance += app.amount
            installment.status = self.settled_status(installment)
            installment.process = Process.UNAPPLY
            installment.update_reason = reason
        payment.status = PaymentStatus(outcome.value)
        payment.settled_on = today
        if applied:
            self.outbox.entries.append(
                _journal.payment_entry(
                    payment,
                    defaulted=self.status is LoanStatus.DEFAULTED,
                    today=today,
                    unapply=True,
                )
            )
        self.outbox.changes.extend(recorder.changes())
        self._event(
            EventType.PAYMENT_FAILED,
            payment.payment_id,
            today,
            {"amount": payment.amount, "outcome": outcome.value},
        )

    def _waived(self, installments: list[Installment], today: dt.date) -> set[str]:
        """The installments whose late fee the correction policy waives today.

        With ``late_fee_when_missed_by_return`` off, an installment missed only because of
        a returned or charged-back payment gets no late fee: one that, had every reversed
        payment stood (`replay` with ``standing``), would not have become overdue by
        today (`overdue_on`). Not its status at the end of that history: the same job may
        default the loan (DEFAULTED, overdue all the same), and a payment booked after
        the job that day (`Payment.after_daily_job`) may pay it (COMPLETED), too late to
        keep it from being overdue. The same rule decides in the daily job and inside a
        replay, so on-time and late delivery agree.
        """
        if self.product.corrections.late_fee_when_missed_by_return or not any(
            payment.status.reversed for payment in self.payments.values()
        ):
            return set()
        stood = replay(self, through=today, standing=True)
        return {
            installment.installment_id
            for installment in installments
            if stood.installment(installment.installment_id).overdue_on is None
        }

    def _make_overdue(
        self, installments: list[Installment], today: dt.date, *, waived: set[str]
    ) -> None:
        product = self.product
        holds = self._waiver_holds()
        room = (
            product.late_fee_cap(self.loan_amount)
            - self.late_fees_assessed
            - sum(
                holds.get(i.installment_id, 0) for i in self.installments if _still_held(i, today)
            )
        )
        for installment in installments:
            wanted = product.late_fee_for(installment.total_amount)
            by_operator = installment.late_fee_waiver
            fee = max(min(wanted, room), 0)
            if by_operator is not None and _still_held(installment, today):
                room -= fee  # charged nothing, its fee holds the room until the waiver's day
            if by_operator is not None or installment.installment_id in waived:
                fee = 0
            room -= fee
            overdue_on = product.overdue_on(installment.due_date)
            process = Process.LATE_FEE if fee else Process.OVERDUE
            if by_operator is not None:
                why = f"late fee waived on {by_operator.waived_on}: {by_operator.reason}"
            elif installment.installment_id in waived:
                why = "late fee waived: missed only because of a returned payment"
            else:
                why = _late_fee_reason(fee, wanted)
            reason = f"unpaid on {overdue_on.isoformat()}: {why}"
            recorder = ChangeRecorder(process=process, reason=reason)
            recorder.touch(installment)
            recorder.touch(self)
            installment.status = InstallmentStatus.OVERDUE
            installment.overdue_on = overdue_on
            installment.late_fee = fee
            installment.total_amount += fee
            installment.outstanding_balance += fee
            installment.process = process
            installment.update_reason = reason
            self.outstanding_balance += fee
            if fee:
                installment.late_fee_entries += 1  # a fee taken back and charged again
                self.outbox.entries.append(
                    bookkeeping.late_fee(
                        product=Product.INSTALLMENT,
                        cause=installment.installment_id,
                        reference=self.loan_id,
                        bucket=Bucket.LATE_FEE,
                        amount=fee,
                        on=today,
                        memo=f"installment {installment.number} overdue",
                        occurrence=installment.late_fee_entries,
                    )
                )
            self.outbox.changes.extend(recorder.changes())
            self._overdue_event(installment, today)

    def _waiver_holds(self) -> dict[str, int]:
        """The room in the cap each fee an operator waived holds while it counts.

        The cap counts a waived fee from the day its installment became overdue in this
        history (`overdue_on`) through the day the waiver was booked (`_still_held`), as
        the fee this history charges it there: what is left of the cap, up to its one
        fee, after the fees assessed before it (the installments overdue earlier, or the
        same day and due earlier) and the room the waived fees among them still held
        that day. So a replay of the days up to a waiver charges every other installment
        what the history without it charges, and a waived fee takes no room before it
        was assessed: counted from disbursement, it cut the fees assessed before it, and
        the room they lost went to the fees assessed between it and its waiver, which
        rose (`docs/corrections.md`, "A late fee waived"). The daily job uses the same
        order (`_make_overdue`: the day's installments in due order), so the room a
        waived fee holds is the room it took on its day; it holds it also when the
        correction policy now waives the installment's fee (missed only because of a
        return), which the installment's stored fields cannot tell apart afterwards.
        """
        cap = self.product.late_fee_cap(self.loan_amount)
        assessed = sorted(
            (overdue_on, installment.number, installment)
            for installment in self.installments
            if (overdue_on := installment.overdue_on) is not None
        )
        holds: dict[str, int] = {}
        for position, (day, _, installment) in enumerate(assessed):
            if installment.late_fee_waiver is None:
                continue
            used = sum(
                earlier.late_fee
                + (holds.get(earlier.installment_id, 0) if _still_held(earlier, day) else 0)
                for _, _, earlier in assessed[:position]
            )
            wanted = self.product.late_fee_for(installment.principal + installment.origination_fee)
            holds[installment.installment_id] = max(min(wanted, cap - used), 0)
        return holds

    def _default(self, cause: Installment, today: dt.date) -> None:
        """Default the loan for `cause`, OVERDUE `default_after_days` by `today`.

        The loan defaulted on the day `cause` had been OVERDUE `default_after_days`, not
        on the day a run found it: a run after days the job missed (an outage) dates it
        as a run every day would have, as the correction replay and the adoption of a Go
        loan (`legacy.defaulted_on`) do. Its entry is booked `today`, as a late fee found
        late is.
        """
        patience = dt.timedelta(days=self.product.default_after_days)
        defaulted = today if cause.overdue_on is None else min(today, cause.overdue_on + patience)
        reason = (
            f"installment {cause.number} overdue since {render(cause.overdue_on)} "
            f"for {self.product.default_after_days} days"
        )
        recorder = ChangeRecorder(process=Process.DEFAULT, reason=reason)
        recorder.touch(self)
        self.status = LoanStatus.DEFAULTED
        self.defaulted_on = defaulted
        self.autopay_enabled = False
        for installment in self.installments:
            if not installment.is_paid:
                recorder.touch(installment)
                installment.status = InstallmentStatus.DEFAULTED
                installment.process = Process.DEFAULT
                installment.update_reason = reason
        owed = self.outstanding_balance
        self.charge_off_entries += 1  # a correction may undo a default: never reused
        self.outbox.entries.append(
            bookkeeping.charge_off(
                product=Product.INSTALLMENT,
                cause=cause.installment_id,
                reference=self.loan_id,
                amount=owed,
                on=today,
                memo=reason,
                occurrence=self.charge_off_entries,
            )
        )
        self.outbox.changes.extend(recorder.changes())
        self._event(EventType.LOAN_DEFAULTED, self.loan_id, today, self._charged_off(defaulted))

    # --- helpers ----------------------------------------------------------------------

    def _last_lived(self, posted: Sequence[JournalEntry]) -> dt.date:
        """The last business day the loan's books, payments or daily job show."""
        days = [entry.effective_date for entry in (*posted, *self.outbox.entries)]
        days.extend(payment.submitted_on for payment in self.payments.values())
        if self.daily_job_changed_on is not None:
            days.append(self.daily_job_changed_on)
        return max(days, default=self.disbursement_date)

    def _paid_refund_entries(self) -> list[JournalEntry]:
        """The payout entries of the loan's refunds already paid out."""
        return paid_refund_entries(
            (payment.refund for payment in self.payments.values()),
            owner=self.loan_id,
            product=Product.INSTALLMENT,
        )

    def _charged_off(self, today: dt.date) -> dict[str, AuditValue]:
        """What `loan_defaulted` says: what was charged off, by bucket, named as a line's.

        ``charged_off`` is everything owed (``outstanding_balance``, kept as it was);
        ``principal``; ``interest`` (0: an installment loan bears none); ``fees``, the
        origination fee and late fees unpaid; ``charged_off_on``; ``past_due_since``, the
        day the oldest unpaid installment went overdue.
        """
        principal = fees = 0
        overdue = []
        for installment in self.installments:
            late_fee, origination_fee, unpaid_principal = installment.unpaid_parts()
            principal += unpaid_principal
            fees += late_fee + origination_fee
            if not installment.is_paid and installment.overdue_on is not None:
                overdue.append(installment.overdue_on)
        return {
            "loan_id": self.loan_id,
            "outstanding_balance": self.outstanding_balance,
            "charged_off": self.outstanding_balance,
            "principal": principal,
            "interest": 0,
            "fees": fees,
            "charged_off_on": today.isoformat(),
            "past_due_since": min(overdue).isoformat() if overdue else None,
        }

    def _overdue_event(self, installment: Installment, today: dt.date) -> None:
        self._event(
            EventType.INSTALLMENT_OVERDUE,
            installment.installment_id,
            today,
            {
                "loan_id": self.loan_id,
                "due_date": installment.due_date.isoformat(),
                "late_fee": installment.late_fee,
                "outstanding_balance": installment.outstanding_balance,
            },
        )

    def _publish_news(self, before: _Before, today: dt.date) -> None:
        """The borrower events of what a correction made new."""
        for installment in self.installments:
            if (
                installment.status is InstallmentStatus.OVERDUE
                and installment.installment_id not in before.overdue
            ):
                self._overdue_event(installment, today)
        if self.status is LoanStatus.DEFAULTED and before.status is not LoanStatus.DEFAULTED:
            self._event(EventType.LOAN_DEFAULTED, self.loan_id, today, self._charged_off(today))
        for payment in self.payments.values():
            refund = payment.refund
            if (
                refund is not None
                and refund.is_due
                and before.refunds.get(payment.payment_id) != refund.amount
            ):
                self._announce_refund(refund, payment.amount, today)
        closed = any(event.type is EventType.LOAN_CLOSED for event in self.outbox.events)
        if (
            self.status is LoanStatus.CLOSED
            and before.status is not LoanStatus.CLOSED
            and not closed
        ):
            self._event(EventType.LOAN_CLOSED, self.loan_id, today, {"corrected": True})

    def _check_collection(self, payment_id: str, process: Process, rail: Rail) -> None:
        if not isinstance(process, Process) or process not in _PAYMENT_PROCESSES:
            raise PaymentError(
                f"a payment is applied by AUTOPAY or MANUAL, not {process!r}",
                about=Ref("payment", payment_id, self.user_id),
            )
        if not isinstance(rail, Rail) or rail not in _REVERSAL_BY_RAIL:
            raise PaymentError(
                f"a repayment is collected by ACH or pinless debit, not {rail!r}",
                about=Ref("payment", payment_id, self.user_id),
            )

    def _record_refund(self, refund: RefundDue, payment_amount: int, *, announce: bool) -> None:
        """Post the refund due; with `announce`, tell the borrower (REFUND_DUE).

        A backdated payment's refund is announced by its correction (`_publish_news`),
        which decides how much of it is really owed back.
        """
        self.outbox.entries.append(
            refund_entry(refund, owner=self.loan_id, product=Product.INSTALLMENT)
        )
        if announce:
            self._announce_refund(refund, payment_amount, refund.recorded_on)

    def _announce_refund(self, refund: RefundDue, payment_amount: int, today: dt.date) -> None:
        self._event(
            EventType.REFUND_DUE,
            refund.payment_id,
            today,
            {"loan_id": self.loan_id, "amount": refund.amount, "payment_amount": payment_amount},
        )

    def _refuse_if_cancelled(self, what: str) -> None:
        if self.cancelled:
            raise LoanCancelled(
                f"loan {self.loan_id} is CANCELLED: its disbursement came back, it owes "
                f"nothing and takes no {what}",
                about=self,
            )

    def _refuse_if_closed(self) -> None:
        self._refuse_if_cancelled("payments")
        if self.status is LoanStatus.CLOSED:
            raise InvalidTransition(
                f"loan {self.loan_id} is CLOSED (paid on {render(self.completion_date)}); "
                "it takes no more payments",
                about=self,
            )

    def _refuse_overpayment(self, what: str, amount: int) -> None:
        if amount > self.outstanding_balance:
            raise Overpayment(
                f"{what} of {format_cents(amount)} is more than the "
                f"{format_cents(self.outstanding_balance)} owed on loan {self.loan_id}",
                about=self,
            )

    def _require_today(self, today: dt.date) -> dt.date:
        today = require_date(today)
        if today < self.disbursement_date:
            raise InvalidTimestamp(
                f"{today.isoformat()} is before loan {self.loan_id} was disbursed on "
                f"{self.disbursement_date.isoformat()}",
                about=self,
            )
        return today

    def _event(
        self, kind: EventType, subject_id: str, today: dt.date, data: dict[str, AuditValue]
    ) -> None:
        self.outbox.events.append(DomainEvent(kind, self.user_id, subject_id, today, data))
