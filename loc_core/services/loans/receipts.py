"""Payment receipts (seed ``receipts/``): what a payment was and exactly what it paid.

A payment a rail took when the loan owed less (a payoff and an in-flight autopay both
landed, a backdated payment, a loan whose disbursement came back) keeps the part nothing
was owed for as its refund due: the receipt shows that refund next to the installments
the payment paid, so its lines and its refund add up to the payment's amount.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.installment import Loan, LoanStatus, Process
from loc_core.payments import PaymentStatus, Rail
from loc_core.ports import Clock, UnitOfWork
from loc_core.refunds import ReceiptRefund
from loc_core.services.kit import moment, payment_not_found
from loc_core.services.messagebus import Command
from loc_core.validation import Id, TransferKey, validated

__all__ = ["GetPaymentReceipt", "PaymentReceipt", "ReceiptLine", "get_payment_receipt", "receipt"]


@attrs.frozen
class ReceiptLine:
    """What a payment paid into one installment, by bucket."""

    installment_id: str
    installment_number: int
    due_date: dt.date
    amount: int
    late_fee: int
    origination_fee: int
    principal: int


@attrs.frozen
class PaymentReceipt:
    """A borrower's receipt for one payment."""

    payment_id: str
    user_id: str
    loan_id: str
    loan_number: str
    amount: int
    submitted_on: dt.date
    rail: Rail
    process: Process
    status: PaymentStatus
    """PENDING until the rail settles it; RETURNED or CHARGED_BACK if it came back."""
    settled_on: dt.date | None
    lines: tuple[ReceiptLine, ...]
    """Per installment, oldest first. With `refund`'s amount they add up to `amount`.

    A RETURNED or CHARGED_BACK payment keeps the lines it paid (owed again since) and
    its refund (CANCELLED), so they still add up to its amount."""
    loan_outstanding_balance: int
    """What the loan owed when the receipt was made (right after the payment, for the
    receipt a payment returns)."""
    loan_status: LoanStatus
    as_of: dt.date
    """The business day the receipt was made."""
    refund: ReceiptRefund | None = None
    """What became of the part of `amount` the loan did not owe (None: it owed it all)."""


@attrs.frozen(field_transformer=validated)
class GetPaymentReceipt(Command[PaymentReceipt]):
    """A borrower asks for the receipt of one of their payments, by its id.

    Reads belong to their owner: a payment on another borrower's loan is `NotFound`.
    """

    user_id: Id
    payment_id: TransferKey
    """The payment's id: the key of the transfer that paid it, as the library built it."""


def receipt(loan: Loan, payment_id: str, *, as_of: dt.date) -> PaymentReceipt:
    """The receipt of `payment_id` on `loan`, as the loan stands.

    Raises:
        NotFound: when no such payment was applied to the loan.
    """
    payment = loan.payments.get(payment_id)
    if payment is None:
        raise payment_not_found(payment_id, f"loan {loan.loan_id}", user_id=loan.user_id)
    lines = []
    for app in payment.applications:
        installment = loan.installment(app.installment_id)
        lines.append(
            ReceiptLine(
                installment_id=app.installment_id,
                installment_number=installment.number,
                due_date=installment.due_date,
                amount=app.amount,
                late_fee=app.late_fee,
                origination_fee=app.origination_fee,
                principal=app.principal,
            )
        )
    return PaymentReceipt(
        payment_id=payment.payment_id,
        user_id=loan.user_id,
        loan_id=loan.loan_id,
        loan_number=loan.loan_number,
        amount=payment.amount,
        submitted_on=payment.submitted_on,
        rail=payment.rail,
        process=payment.process,
        status=payment.status,
        settled_on=payment.settled_on,
        lines=tuple(lines),
        loan_outstanding_balance=loan.outstanding_balance,
        loan_status=loan.status,
        as_of=as_of,
        refund=None if payment.refund is None else ReceiptRefund.of(payment.refund),
    )


def get_payment_receipt(
    query: GetPaymentReceipt, *, uow: UnitOfWork, clock: Clock
) -> PaymentReceipt:
    """The receipt of one of the borrower's payments, found through the payments index.

    Reads only. The index names the payment's owner; a payment another borrower made is
    answered exactly like one nobody made, so the asker learns nothing about it.

    Raises:
        NotFound: when none of the borrower's loans carries the payment.
    """
    _, today = moment(clock)
    with uow:
        owner = uow.loans.find_payment(query.payment_id)
        if owner is None or owner.user_id != query.user_id:
            raise payment_not_found(
                query.payment_id, "any of the borrower's loans", user_id=query.user_id
            )
        loan = uow.loans.get(query.user_id, owner.owner_id)
    return receipt(loan, query.payment_id, as_of=today)
