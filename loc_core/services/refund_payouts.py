"""An operator records that the lender paid a refund due out, on a loan or a line.

The money goes outside `loc` (a check, an ACH credit from the processor's console); this
records it (`RecordRefundPaid`): the payment's refund becomes PAID with the day it went
out and the payout's reference, posted ``<payment id>:refund_paid`` (DR
``refund_due(<loan or line>)``, CR FUNDING) dated the business date it is recorded,
audited, and the borrower is told (``refund_paid``). Any status of loan or line takes it.

One command serves both products: the operator knows the payment from the ``refund due``
alert, and the payments index names the loan or line that holds it (as settlement finds
a payment's owner), so the operator's tool never has to know which product it was.

Recording the same payout again changes nothing and answers the same `RefundPaid`;
another day or reference for a refund already paid out is `IdempotencyConflict`.

A payout waits for its payment to settle: while the payment is PENDING on its rail (an
ACH debit can still be returned, a pinless one charged back) it is refused
(`RefundNotSettled`), with nothing changed; once the rail completes the payment the same
command is taken. An operator's backdated payment is COMPLETED when booked (the money
was already received), so its refund is payable at once. An operator who already sent
the money while the payment was PENDING (a rail that never reports) says so with
`before_settlement`: the payout is taken and its audit record says it was paid out
before the payment settled.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.bookkeeping import Product
from loc_core.creditline import CreditLine
from loc_core.events import DomainEvent
from loc_core.refunds import RefundDue
from loc_core.services.kit import payment_not_found, retry_on_conflict
from loc_core.services.lines import LineWriter
from loc_core.services.messagebus import Command
from loc_core.validation import Cents, Day, Flag, Id, NonBlankText, TransferKey, validated

__all__ = ["RecordRefundPaid", "RefundPaid", "record_refund_paid"]


Reference = NonBlankText
"""The operator's reference for a payout: non-blank free text (a check number, a
processor transfer id)."""
Reason = NonBlankText
"""Why the payout is recorded: non-blank free text, for the audit trail (either product)."""


@attrs.frozen
class RefundPaid:
    """A refund paid out, as recorded."""

    product: Product
    owner_id: str
    """The loan or line that holds the payment."""
    payment_id: str
    amount: int
    """Cents paid back."""
    paid_on: dt.date
    reference: str
    booked_on: dt.date
    """The business date the payout was recorded (its entry's date)."""

    @classmethod
    def of(cls, refund: RefundDue, *, product: Product, owner_id: str) -> RefundPaid:
        """The answer for a PAID `refund`."""
        if refund.paid_on is None or refund.paid_reference is None or refund.paid_booked_on is None:
            raise ValueError(f"refund of payment {refund.payment_id} is not paid out")
        return cls(
            product=product,
            owner_id=owner_id,
            payment_id=refund.payment_id,
            amount=refund.amount if refund.paid_amount is None else refund.paid_amount,
            paid_on=refund.paid_on,
            reference=refund.paid_reference,
            booked_on=refund.paid_booked_on,
        )


@attrs.frozen(field_transformer=validated)
class RecordRefundPaid(Command[RefundPaid]):
    """An operator records that the refund due on `payment_id` was paid out."""

    user_id: Id
    payment_id: TransferKey
    """The payment that holds the refund (the ``refund due`` alert names it)."""
    paid_on: Day
    """The day the money went out: not after today, not before the refund was recorded."""
    reference: Reference
    """The payout's reference: a check number, the processor's transfer id."""
    reason: Reason
    """Why, as the audit trail should say it: not blank."""
    amount: Cents
    """The cents sent: refused unless it is what is left of the refund to pay out (its
    amount less what a line applied to later charges; a correction or a charge since the
    ``refund due`` alert may have changed it, and nothing may book money not sent)."""
    before_settlement: Flag = False
    """The money already went out while the payment was still PENDING on its rail (one
    that never reports): take the payout anyway, audited as paid out before settlement.
    Without it such a payout is refused (`RefundNotSettled`)."""


def record_refund_paid(command: RecordRefundPaid, *, lines: LineWriter) -> RefundPaid:
    """Mark the payment's refund PAID on its loan or line, once; the refund as paid.

    Raises:
        NotFound: no loan or line of the borrower holds the payment.
        RefundNotDue: the payment keeps no refund, or its refund was cancelled (the
            payment was returned); nothing changed.
        RefundNotSettled: the payment is still PENDING on its rail and the command does
            not say `before_settlement`; nothing changed.
        IdempotencyConflict: the refund was already paid out on another day or reference.
        InvalidRequest: `paid_on` after the business date or before the refund was
            recorded, or an `amount` other than what is left of the refund; nothing
            changed.
    """
    uow = lines.uow
    with uow:
        loan_owner = uow.loans.find_payment(command.payment_id)
        owner = loan_owner if loan_owner is not None else uow.lines.find_payment(command.payment_id)
    if owner is None or owner.user_id != command.user_id:
        raise payment_not_found(
            command.payment_id, "any of the borrower's loans or lines", user_id=command.user_id
        )
    request_id = f"refund-paid:{command.payment_id}"
    if loan_owner is None:

        def change(line: CreditLine, today: dt.date) -> RefundDue:
            return line.record_refund_paid(
                payment_id=command.payment_id,
                paid_on=command.paid_on,
                reference=command.reference,
                today=today,
                reason=command.reason,
                amount=command.amount,
                before_settlement=command.before_settlement,
            )

        paid, _ = lines.change(
            command.user_id, owner.owner_id, change, actor="operator", request_id=request_id
        )
        return RefundPaid.of(paid, product=Product.CREDITLINE, owner_id=owner.owner_id)

    def attempt() -> tuple[RefundDue, list[DomainEvent]]:
        with uow:
            loan = uow.loans.get(command.user_id, owner.owner_id)
            refund = loan.record_refund_paid(
                command.payment_id,
                paid_on=command.paid_on,
                reference=command.reference,
                today=lines.today,
                reason=command.reason,
                amount=command.amount,
                before_settlement=command.before_settlement,
            )
            if not loan.outbox:  # the same payout again
                return refund, []
            uow.loans.save(loan)
            return refund, uow.commit(actor="operator", request_id=request_id)

    refund, events = retry_on_conflict(attempt)
    lines.publish(events)
    return RefundPaid.of(refund, product=Product.INSTALLMENT, owner_id=owner.owner_id)
