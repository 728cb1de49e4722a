"""Money a rail took that nothing was owed for: a refund due to the borrower.

Once a rail has accepted a repayment the money has moved, so booking it is never refused
(`Loan.book_moved_payment`, `CreditLine.book_moved_payment`). What the loan or line still
owes is applied as usual; the excess (all of it on a paid-off loan or line) is kept as a
`RefundDue` on the payment, posted DR CLEARING, CR `refund_due(<loan or line>)`: a
liability, the borrower's credit balance. A return or chargeback of that payment cancels
the refund first (the entry reversed), since the money to give back never arrived.

The lender pays a refund out outside the rails (a check, a credit from the processor's
console) and an operator records it (`record_paid`): the refund becomes PAID, with the
day the money went out and the payout's reference, posted ``<payment id>:refund_paid``
DR ``refund_due(<owner>)``, CR FUNDING, dated the business date it is recorded (as a
correction is). A PAID refund is final: a return or correction that would cancel or
change it is refused (`RefundAlreadyPaid`, `require_paid_unchanged`) and left to
operations; one that leaves it as it was keeps it PAID.

A payout waits for its payment to settle: while the payment is PENDING its rail can
still take the money back, so recording the payout is refused (`RefundNotSettled`)
unless the operator says the money went out before settlement (`Payout.before_settlement`,
audited). A payment no rail will ever settle (an operator's backdated payment, money
already received) is COMPLETED when it is booked, so its refund is payable at once.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Protocol

import attrs

from loc_core.audit import Audited, ChangeRecorder, Fields, Process
from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.errors import (
    IdempotencyConflict,
    InvalidRequest,
    Ref,
    RefundAlreadyPaid,
    RefundNotDue,
    RefundNotSettled,
    Subject,
)
from loc_core.events import DomainEvent, EventType, Outbox
from loc_core.ledger import CLEARING, FUNDING, JournalEntry, refund_due
from loc_core.payments import PaymentStatus, Rail

__all__ = [
    "Payout",
    "ReceiptRefund",
    "RefundDue",
    "RefundHolder",
    "RefundStatus",
    "paid_out",
    "paid_refund_entries",
    "record_paid",
    "refund_audit",
    "refund_entry",
    "refund_paid_entry",
    "require_paid_unchanged",
]


class RefundStatus(enum.Enum):
    """Where a refund due stands; the values are the stored strings."""

    DUE = "DUE"
    """The borrower is owed the amount back."""
    CANCELLED = "CANCELLED"
    """The payment was returned or charged back: the money never stayed, nothing is owed."""
    PAID = "PAID"
    """The lender paid what was left of it back (`RefundDue.paid_on`, `paid_reference`,
    `paid_amount`): final."""
    APPLIED = "APPLIED"
    """All of it was credited to what the line came to owe later (`RefundDue.applied`):
    nothing is owed back. Only a line's refunds are applied (`loc_core.creditline.credit`)."""


@attrs.define(kw_only=True)
class RefundDue:
    """The part of a payment that paid nothing owed, owed back to the borrower."""

    payment_id: str
    amount: int
    """Positive cents: the payment's amount less what it applied."""
    recorded_on: dt.date
    """The business date the refund was booked: its ``:refund_due`` entry's date (the
    payment's day when booked with it; the correction's day for one a correction made)."""
    status: RefundStatus = RefundStatus.DUE
    cancelled_on: dt.date | None = None
    """The business date the payment's return or chargeback cancelled the refund: its
    ``:refund_cancelled`` entry's date (the day the return was learned)."""
    paid_on: dt.date | None = None
    """The day the lender sent the money back, as the operator recorded it."""
    paid_reference: str | None = None
    """The operator's reference for the payout: a check number, a processor transfer id."""
    paid_booked_on: dt.date | None = None
    """The business date the payout was recorded: its entry's date, and the line
    statement's cycle that shows it."""
    applied: int = 0
    """Cents of it credited to charges the line came to owe later (a draw, interest, a
    fee, a returned payment's buckets): no longer owed back. Always 0 on a loan."""
    paid_amount: int | None = None
    """The cents the lender sent when it paid the refund out: what was left of it then
    (`remaining`), the whole amount unless part was applied first."""

    @property
    def sent(self) -> int:
        """The cents paid out: `paid_amount` once PAID, else 0.

        A refund stored PAID before `paid_amount` existed has none: it paid its whole amount.
        """
        if not self.is_paid:
            return 0
        return self.amount if self.paid_amount is None else self.paid_amount

    @property
    def remaining(self) -> int:
        """What is still owed back: the amount less what was applied and what was paid out.

        0 for a CANCELLED or APPLIED refund and for one paid out (a PAID refund stored
        before `paid_amount` existed too: it paid its whole amount). Only a line's replay,
        which marks a paid-out refund PAID from its payment's day, sees a PAID refund with
        something left: what the line applied of it before the payout.
        """
        if self.status is RefundStatus.CANCELLED:
            return 0
        return max(0, self.amount - self.applied - self.sent)

    def apply(self, cents: int) -> None:
        """Credit `cents` of what is owed back to the line's charges (APPLIED when all is)."""
        if not 0 < cents <= self.remaining:
            raise ValueError(
                f"cannot apply {cents} cents of the refund of payment {self.payment_id}: "
                f"{self.remaining} cents remain"
            )
        self.applied += cents
        if self.status is RefundStatus.DUE and self.remaining == 0:
            self.status = RefundStatus.APPLIED

    @property
    def is_due(self) -> bool:
        """Whether the borrower is still owed the amount."""
        return self.status is RefundStatus.DUE

    @property
    def is_paid(self) -> bool:
        """Whether the lender already paid the amount back."""
        return self.status is RefundStatus.PAID

    def problems(self) -> list[str]:
        """How the refund contradicts itself.

        A PAID one says when, how and when booked it was paid out; no other one does.
        """
        # A PAID refund stored before `paid_amount` existed has none: it paid the whole amount.
        paid = (self.paid_on, self.paid_reference, self.paid_booked_on)
        if self.is_paid and None in paid:
            return [f"refund of payment {self.payment_id} is PAID without its payout"]
        if not self.is_paid and (*paid, self.paid_amount) != (None, None, None, None):
            return [f"refund of payment {self.payment_id} has a payout but is {self.status.value}"]
        if not 0 <= self.applied <= self.amount:
            return [
                f"refund of payment {self.payment_id} applied {self.applied} of {self.amount} cents"
            ]
        if (
            self.is_paid
            and self.paid_amount is not None
            and self.applied + self.paid_amount != self.amount
        ):
            paid_out = f"{self.paid_amount} paid out"
            return [f"refund of payment {self.payment_id}: {self.applied} applied and {paid_out}"]
        if (self.status is RefundStatus.APPLIED) != (
            self.status is not RefundStatus.CANCELLED
            and not self.is_paid
            and self.applied == self.amount
        ):
            applied = f"{self.applied} of {self.amount} cents applied"
            return [f"refund of payment {self.payment_id} is {self.status.value} with {applied}"]
        return []

    def cancel(self, on: dt.date) -> None:
        """Mark the refund CANCELLED on `on` (its payment was returned or charged back)."""
        self.status, self.cancelled_on = RefundStatus.CANCELLED, on


_NOT_PAYABLE = {
    RefundStatus.CANCELLED: "it was cancelled: the payment was returned or charged back",
    RefundStatus.APPLIED: "all of it was applied to what the line came to owe since",
}
"""Refunds with nothing left to pay out, and why."""


def refund_entry(
    refund: RefundDue, *, owner: str, product: Product, cancel_on: dt.date | None = None
) -> JournalEntry:
    """DR CLEARING, CR the owner's refund-due liability; with `cancel_on`, its mirror."""
    cancelled = cancel_on is not None
    cash = {CLEARING: refund.amount}
    owed = {refund_due(owner): refund.amount}
    return JournalEntry.build(
        entry_id=entry_id(
            refund.payment_id,
            Movement.CANCEL_REFUND if cancelled else Movement.REFUND_DUE,
            product=product,
        ),
        kind=EntryKind.REFUND_CANCELLED if cancelled else EntryKind.REFUND_DUE,
        effective_date=cancel_on if cancel_on is not None else refund.recorded_on,
        reference=owner,
        debits=owed if cancelled else cash,
        credits=cash if cancelled else owed,
        memo=f"payment {refund.payment_id}: "
        + ("refund cancelled" if cancelled else "nothing owed, refund due"),
    )


def refund_paid_entry(refund: RefundDue, *, owner: str, product: Product) -> JournalEntry:
    """DR the owner's refund-due liability, CR FUNDING: a PAID refund's payout."""
    if refund.paid_booked_on is None:
        raise ValueError(f"refund of payment {refund.payment_id} was never paid out")
    sent = refund.sent
    return JournalEntry.build(
        entry_id=entry_id(refund.payment_id, Movement.PAY_REFUND, product=product),
        kind=EntryKind.REFUND_PAID,
        effective_date=refund.paid_booked_on,
        reference=owner,
        debits={refund_due(owner): sent},
        credits={FUNDING: sent},
        memo=f"payment {refund.payment_id}: refund paid out ({refund.paid_reference})",
    )


def paid_refund_entries(
    refunds: Iterable[RefundDue | None], *, owner: str, product: Product
) -> list[JournalEntry]:
    """The payout entries of the PAID refunds among `refunds`.

    A correction's replay recreates refunds as DUE and posts no payout: the replayed
    books take these too, so the adjustment never takes back money already sent.
    """
    return [
        refund_paid_entry(refund, owner=owner, product=product)
        for refund in refunds
        if refund is not None and refund.is_paid
    ]


def paid_out(refunds: Iterable[RefundDue | None]) -> int:
    """What the lender paid back of `refunds` (the PAID ones), in cents: out of FUNDING."""
    return sum(refund.sent for refund in refunds if refund is not None)


class RefundHolder(Audited, Protocol):
    """A payment that may keep a refund (a loan's or a line's), as audited."""

    @property
    def payment_id(self) -> str:
        """The payment's id."""
        ...

    @property
    def amount(self) -> int:
        """The payment's amount, in cents."""
        ...

    @property
    def refund(self) -> RefundDue | None:
        """Its refund due, if it took money nothing was owed for."""
        ...

    @property
    def status(self) -> PaymentStatus:
        """Where the payment stands on its rail (PENDING: it can still come back)."""
        ...

    @property
    def rail(self) -> Rail:
        """The rail that took it."""
        ...


@attrs.frozen(kw_only=True)
class Payout:
    """An operator's record that the lender paid a refund out (`record_paid`)."""

    paid_on: dt.date
    reference: str
    today: dt.date
    reason: str
    amount: int | None = None
    """The cents the operator sent, when they say: it must be the refund's amount."""
    before_settlement: bool = False
    """The operator sent the money while the payment was still PENDING on its rail, and
    says so: the payout is taken, and its audit record says it was paid out unsettled."""


def record_paid(
    payment_id: str,
    payment: RefundHolder | None,
    payout: Payout,
    *,
    owner: tuple[str, str],
    product: Product,
    user_id: str,
    outbox: Outbox,
) -> RefundDue:
    """Mark `payment`'s refund PAID: its payout entry, audit and REFUND_PAID event in `outbox`.

    `payment` is what the loan or line holds as `payment_id` (None: nothing); `owner` is
    the loan or line (``("loan_id", id)``). The same payout recorded again
    changes nothing and answers the refund as it is.

    Raises:
        RefundNotDue: no such payment, it keeps no refund, or its refund was cancelled.
        IdempotencyConflict: the refund was already paid out on another day or reference.
        InvalidRequest: the payout's `amount`, when given, is not the refund's (key
            ``amount``: a correction changed the refund since), `paid_on` after `today`
            or before the refund was recorded
            (key ``paid_on``), or a blank reference or reason (key ``reference``,
            ``reason``).
        RefundNotSettled: the payment is still PENDING on its rail (it can still be
            returned or charged back) and the payout does not say `before_settlement`.
        (Nothing changed when any of these is raised.)
    """
    field, owner_id = owner
    refund = None if payment is None else payment.refund
    if payment is None or refund is None or refund.status in _NOT_PAYABLE:
        why = (
            "it holds no such payment"
            if payment is None
            else "it keeps no refund"
            if refund is None
            else _NOT_PAYABLE[refund.status]
        )
        raise RefundNotDue(
            f"no refund is due on payment {payment_id!r} of {field} {owner_id}: {why}",
            about=Ref("payment", payment_id, user_id),
        )
    owed = refund.sent if refund.is_paid else refund.remaining
    if payout.amount is not None and payout.amount != owed:
        # A correction since the alert (a cancelled loan, a returned draw) or a later
        # charge the line applied part of it to changed what is owed back: recording the
        # refund's amount would book money that was not sent.
        applied = f", {refund.applied} cents of it applied to the line" if refund.applied else ""
        raise InvalidRequest(
            f"the refund of payment {payment.payment_id} is {owed} cents "
            f"({refund.status.value}{applied}), not the {payout.amount} cents recorded as "
            "sent: handle the difference by hand",
            key="amount",
        )
    asked = (payout.paid_on, payout.reference)
    if refund.is_paid:
        if (refund.paid_on, refund.paid_reference) != asked:
            raise IdempotencyConflict(
                f"the refund of payment {payment.payment_id} was paid out on "
                f"{refund.paid_on} ({refund.paid_reference}), not on {payout.paid_on} "
                f"({payout.reference})",
                about=payment,
                key=f"refund_paid:{payment.payment_id}",
            )
        return refund
    if not payout.reference.strip():
        raise InvalidRequest("a refund paid out needs the payout's reference", key="reference")
    if not payout.reason.strip():  # the audit trail says why, for a loan's or a line's
        raise InvalidRequest("a refund paid out needs a reason", key="reason")
    if not refund.recorded_on <= payout.paid_on <= payout.today:
        raise InvalidRequest(
            f"a refund recorded on {refund.recorded_on} cannot be paid out on "
            f"{payout.paid_on} (today is {payout.today})",
            key="paid_on",
        )
    unsettled = payment.status is PaymentStatus.PENDING
    if unsettled and not payout.before_settlement:
        # The rail can still take the money back (an ACH return, a chargeback): a payout
        # now could send money the lender never keeps. Wait for its completion.
        raise RefundNotSettled(
            f"payment {payment.payment_id} is still PENDING on {payment.rail.value}: its "
            "rail can still return it, so its refund is paid out once the rail completes "
            "it (or say before_settlement, if the money already went out)",
            about=payment,
        )
    early = f" before payment {payment.payment_id} settled" if unsettled else ""
    recorder = ChangeRecorder(
        process=Process.SETTLEMENT,
        reason=f"refund paid out on {payout.paid_on} ({payout.reference}){early}: {payout.reason}",
    )
    recorder.touch(payment)
    refund.paid_amount = refund.remaining
    refund.status = RefundStatus.PAID
    refund.paid_on, refund.paid_reference = payout.paid_on, payout.reference
    refund.paid_booked_on = payout.today
    outbox.entries.append(refund_paid_entry(refund, owner=owner_id, product=product))
    outbox.changes.extend(recorder.changes())
    outbox.events.append(
        DomainEvent(
            EventType.REFUND_PAID,
            user_id,
            payment.payment_id,
            payout.today,
            {
                "loan_id": owner_id if field == "loan_id" else None,
                "line_id": owner_id if field == "line_id" else None,
                "amount": refund.paid_amount,  # what was sent: a line may have applied part
                "paid_on": payout.paid_on.isoformat(),
                "reference": payout.reference,
            },
        )
    )
    return refund


def require_paid_unchanged(
    live: Mapping[str, RefundDue | None],
    corrected: Mapping[str, RefundDue | None],
    *,
    about: Subject,
    what: str,
) -> None:
    """Refuse a correction whose result `corrected` changes a refund `live` holds PAID.

    `live` and `corrected` map payment ids to their refunds before and after (a payment
    the correction drops, or whose refund it cancels, counts as 0).

    Raises:
        RefundAlreadyPaid: naming the first such payment, its amount and the new one.
    """
    for payment_id, refund in live.items():
        if refund is None or not refund.is_paid:
            continue
        paid = refund.sent
        again = corrected.get(payment_id)
        # What the corrected history leaves to pay out: its amount less what it applied
        # to the line's charges before the payout (a line's; a loan applies nothing).
        left = (
            0
            if again is None or again.status is RefundStatus.CANCELLED
            else again.amount - again.applied
        )
        if left != paid:
            raise RefundAlreadyPaid(
                f"{what} would make the refund of payment {payment_id} {left} cents, but "
                f"{paid} cents were already paid out on {refund.paid_on} "
                f"({refund.paid_reference}): handle it by hand",
                about=Ref("payment", payment_id, about.user_id),
                paid=paid,
                corrected=left,
            )


def refund_audit(refund: RefundDue | None) -> Fields:
    """A payment's audited refund fields and their values (none without a refund).

    A line's refund partly or wholly applied to later charges adds what was applied; a
    PAID refund adds when and how it was paid out, and how much.
    """
    if refund is None:
        return (), ()
    names: tuple[str, ...] = _REFUND_AUDITED
    values: tuple[object, ...] = (refund.amount, refund.status, refund.cancelled_on)
    if refund.applied:
        names, values = (*names, "refund_applied"), (*values, refund.applied)
    if refund.is_paid:
        names = (*names, "refund_paid_on", "refund_paid_reference", "refund_paid_amount")
        values = (*values, refund.paid_on, refund.paid_reference, refund.paid_amount)
    return names, values


_REFUND_AUDITED = ("refund_due", "refund_status", "refund_cancelled_on")


@attrs.frozen(kw_only=True)
class ReceiptRefund:
    """A payment receipt's account of its refund due: the part nothing was owed for.

    The payment's receipt (a loan's or a line's) shows the lines or buckets it paid and
    this: together they are the payment's amount. What became of the refund follows:
    applied to the line's later charges, sent back, cancelled, or still owed back.
    """

    amount: int
    """Cents of the payment nothing was owed for: its amount less what it paid."""
    status: RefundStatus
    recorded_on: dt.date
    """The day the refund was booked (`RefundDue.recorded_on`): its payment's, or the day
    the correction that made it was booked (a backdated payment keyed late, a draw
    returned after the payment paid it off)."""
    applied: int
    """Cents of it credited to what the line came to owe later; always 0 on a loan."""
    paid_amount: int
    """Cents sent back to the borrower: 0 until an operator records the payout."""
    paid_on: dt.date | None
    """The day the lender sent it, as recorded (None until it is)."""
    paid_reference: str | None
    """How it was sent: the payout's reference (a check number, a processor transfer id)."""
    remaining: int
    """Cents still owed back to the borrower: 0 once PAID, APPLIED or CANCELLED."""

    @classmethod
    def of(cls, refund: RefundDue) -> ReceiptRefund:
        """The receipt's account of `refund`, as it stands."""
        return cls(
            amount=refund.amount,
            status=refund.status,
            recorded_on=refund.recorded_on,
            applied=refund.applied,
            paid_amount=refund.sent,
            paid_on=refund.paid_on,
            paid_reference=refund.paid_reference,
            remaining=refund.remaining,
        )
