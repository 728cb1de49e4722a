"""What the API answers: flat attrs views of the core's objects, shaped for clients.

Amounts are integer cents next to a ``currency`` field; rates are decimal strings; dates
and instants are ISO 8601. A view never exposes an aggregate's internals (its outbox,
version or audit state), so the schema stays stable when the core changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loc_core.creditline import (
    BillingDispute,
    CreditLine,
    CreditLineApplication,
    Draw,
    Statement,
)
from loc_core.creditline.payment import LocPayment
from loc_core.installment import Installment, Loan, LoanApplication
from loc_core.installment.payment import Payment
from loc_core.refunds import ReceiptRefund
from loc_core.services.commands import (
    DocumentLink,
    Eligibility,
    LinePaymentReceipt,
    PaymentReceipt,
)

__all__ = [
    "CURRENCY",
    "DisputeView",
    "DocumentLinkView",
    "DrawPage",
    "DrawView",
    "EligibilityView",
    "InstallmentView",
    "LineApplicationPage",
    "LineApplicationView",
    "LinePage",
    "LinePaymentPage",
    "LinePaymentView",
    "LineView",
    "LoanApplicationPage",
    "LoanApplicationView",
    "LoanPage",
    "LoanPaymentPage",
    "LoanPaymentView",
    "LoanView",
    "ReceiptLineView",
    "ReceiptView",
    "RefundView",
    "StatementPage",
    "StatementView",
]

CURRENCY = "USD"
"""The one currency of both products; every view with amounts names it."""


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@attrs.frozen
class EligibilityView:
    """Whether the borrower may apply for a loan now, and every rule that failed."""

    eligible: bool
    reasons: list[str]

    @classmethod
    def of(cls, answer: Eligibility) -> EligibilityView:
        """The view of the pre-check's answer."""
        return cls(eligible=answer.eligible, reasons=list(answer.reasons))


@attrs.frozen
class LoanApplicationView:
    """A loan application: its decision and, when approved, its offer.

    An APPROVED offer whose `loan_amount` is below `requested_amount` is a counteroffer:
    its `adverse_actions` say why, and its combined counteroffer and adverse action
    notice is served like a rejection's notice.
    """

    application_id: str
    status: str
    currency: str
    loan_amount: int
    requested_amount: int | None
    """The amount asked for, in cents; null when unknown (an application filed before
    applications kept it)."""
    origination_fee: int
    total_amount: int
    fee_percent: str | None
    repayment_cadence: str
    installment_count: int
    adverse_actions: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    loan_id: str | None

    @classmethod
    def of(cls, app: LoanApplication) -> LoanApplicationView:
        """The view of an application."""
        return cls(
            application_id=app.application_id,
            status=app.status.value,
            currency=CURRENCY,
            loan_amount=app.loan_amount,
            requested_amount=app.requested_amount,
            origination_fee=app.origination_fee,
            total_amount=app.total_amount,
            fee_percent=_rate(app.fee_percent),
            repayment_cadence=app.repayment_cadence.value,
            installment_count=len(app.proposed_schedule),
            adverse_actions=[action.code for action in app.adverse_actions],
            created_at=app.created_at,
            expires_at=app.expires_at,
            loan_id=app.loan_id,
        )


@attrs.frozen
class LoanView:
    """An installment loan's terms and where it stands."""

    loan_id: str
    application_id: str
    loan_number: str
    status: str
    currency: str
    loan_amount: int
    origination_fee: int
    total_amount: int
    amount_disbursed: int
    outstanding_balance: int
    refunds_due: int
    """Cents owed back to the borrower: the refunds due of payments the loan did not owe."""
    disbursement_date: dt.date
    completion_date: dt.date | None
    autopay_enabled: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, loan: Loan) -> LoanView:
        """The view of a loan."""
        return cls(
            loan_id=loan.loan_id,
            application_id=loan.application_id,
            loan_number=loan.loan_number,
            status=loan.status.value,
            currency=CURRENCY,
            loan_amount=loan.loan_amount,
            origination_fee=loan.origination_fee,
            total_amount=loan.total_amount,
            amount_disbursed=loan.amount_disbursed,
            outstanding_balance=loan.outstanding_balance,
            refunds_due=loan.refunds_due,
            disbursement_date=loan.disbursement_date,
            completion_date=loan.completion_date,
            autopay_enabled=loan.autopay_enabled,
            created_at=loan.created_at,
        )


@attrs.frozen
class InstallmentView:
    """One installment of a loan."""

    installment_id: str
    number: int
    due_date: dt.date
    status: str
    currency: str
    principal: int
    origination_fee: int
    late_fee: int
    total_amount: int
    outstanding_balance: int

    @classmethod
    def of(cls, item: Installment) -> InstallmentView:
        """The view of an installment."""
        return cls(
            installment_id=item.installment_id,
            number=item.number,
            due_date=item.due_date,
            status=item.status.value,
            currency=CURRENCY,
            principal=item.principal,
            origination_fee=item.origination_fee,
            late_fee=item.late_fee,
            total_amount=item.total_amount,
            outstanding_balance=item.outstanding_balance,
        )


@attrs.frozen
class RefundView:
    """The part of a loan's or a line's payment nothing was owed for, and what became of it."""

    amount: int
    """Cents of the payment the loan or line did not owe: with what it paid, its amount."""
    status: str
    """DUE (owed back), APPLIED (a line's: all of it paid later charges), PAID (the rest
    sent back) or CANCELLED (the payment came back)."""
    recorded_on: dt.date
    """The day the refund is dated (the payment's day, for most)."""
    applied: int
    """Cents of it that paid what a line came to owe later (a draw, interest, a fee);
    always 0 on a loan."""
    paid_amount: int
    """Cents sent back to the borrower (0 until the payout is recorded)."""
    paid_on: dt.date | None
    """The day it was sent back, as recorded."""
    paid_reference: str | None
    """How it was sent back: the payout's reference (a check number, a transfer id)."""
    remaining: int
    """Cents still owed back to the borrower."""

    @classmethod
    def of(cls, refund: ReceiptRefund) -> RefundView:
        """The view of a payment's refund."""
        return cls(
            amount=refund.amount,
            status=refund.status.value,
            recorded_on=refund.recorded_on,
            applied=refund.applied,
            paid_amount=refund.paid_amount,
            paid_on=refund.paid_on,
            paid_reference=refund.paid_reference,
            remaining=refund.remaining,
        )


@attrs.frozen
class LoanPaymentView:
    """A payment on a loan, as listed."""

    payment_id: str
    loan_id: str
    currency: str
    amount: int
    rail: str
    process: str
    status: str
    submitted_on: dt.date
    settled_on: dt.date | None
    refund: RefundView | None
    """The part of `amount` the loan did not owe (None: it owed it all)."""

    @classmethod
    def of(cls, payment: Payment) -> LoanPaymentView:
        """The view of a loan payment."""
        return cls(
            payment_id=payment.payment_id,
            loan_id=payment.loan_id,
            currency=CURRENCY,
            amount=payment.amount,
            rail=payment.rail.value,
            process=payment.process.value,
            status=payment.status.value,
            submitted_on=payment.submitted_on,
            settled_on=payment.settled_on,
            refund=None
            if payment.refund is None
            else RefundView.of(ReceiptRefund.of(payment.refund)),
        )


@attrs.frozen
class ReceiptLineView:
    """What a loan payment paid on one installment."""

    installment_id: str
    installment_number: int
    due_date: dt.date
    amount: int
    late_fee: int
    origination_fee: int
    principal: int


@attrs.frozen
class ReceiptView:
    """A loan payment's receipt: what it paid and what the loan owes after it.

    `lines` and `refund`'s amount add up to `amount`.
    """

    payment_id: str
    loan_id: str
    loan_number: str
    currency: str
    amount: int
    rail: str
    status: str
    submitted_on: dt.date
    settled_on: dt.date | None
    lines: list[ReceiptLineView]
    loan_outstanding_balance: int
    loan_status: str
    as_of: dt.date
    refund: RefundView | None
    """The part of `amount` the loan did not owe and what became of it (None: none)."""

    @classmethod
    def of(cls, receipt: PaymentReceipt) -> ReceiptView:
        """The view of a receipt."""
        return cls(
            payment_id=receipt.payment_id,
            loan_id=receipt.loan_id,
            loan_number=receipt.loan_number,
            currency=CURRENCY,
            amount=receipt.amount,
            rail=receipt.rail.value,
            status=receipt.status.value,
            submitted_on=receipt.submitted_on,
            settled_on=receipt.settled_on,
            lines=[
                ReceiptLineView(
                    installment_id=line.installment_id,
                    installment_number=line.installment_number,
                    due_date=line.due_date,
                    amount=line.amount,
                    late_fee=line.late_fee,
                    origination_fee=line.origination_fee,
                    principal=line.principal,
                )
                for line in receipt.lines
            ],
            loan_outstanding_balance=receipt.loan_outstanding_balance,
            loan_status=receipt.loan_status.value,
            as_of=receipt.as_of,
            refund=None if receipt.refund is None else RefundView.of(receipt.refund),
        )


@attrs.frozen
class LineApplicationView:
    """A line-of-credit application: its decision and, when approved, its offer."""

    application_id: str
    status: str
    currency: str
    credit_limit: int | None
    apr: str | None
    minimum_payment_percent: str | None
    adverse_actions: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    line_id: str | None

    @classmethod
    def of(cls, app: CreditLineApplication) -> LineApplicationView:
        """The view of a line application."""
        return cls(
            application_id=app.application_id,
            status=app.status.value,
            currency=CURRENCY,
            credit_limit=app.credit_limit,
            apr=_rate(app.apr),
            minimum_payment_percent=_rate(app.minimum_payment_percent),
            adverse_actions=[action.code for action in app.adverse_actions],
            created_at=app.created_at,
            expires_at=app.expires_at,
            line_id=app.line_id,
        )


@attrs.frozen
class LineView:
    """A line of credit: its balances, available credit, minimum due and due date."""

    line_id: str
    application_id: str
    status: str
    currency: str
    credit_limit: int
    apr: str
    minimum_payment_percent: str
    cycle_day: int
    opened_on: dt.date
    principal_balance: int
    interest_balance: int
    fee_balance: int
    total_balance: int
    refunds_due: int
    """Cents owed back to the borrower (a credit balance): refunds due not yet applied
    to later charges or sent back."""
    pending_draws: int
    available_credit: int
    minimum_due: int
    due_date: dt.date | None
    autopay_enabled: bool

    @classmethod
    def of(cls, line: CreditLine) -> LineView:
        """The view of a line."""
        return cls(
            line_id=line.line_id,
            application_id=line.application_id,
            status=line.status.value,
            currency=CURRENCY,
            credit_limit=line.credit_limit,
            apr=str(line.apr),
            minimum_payment_percent=str(line.minimum_payment_percent),
            cycle_day=line.cycle_day,
            opened_on=line.opened_on,
            principal_balance=line.principal_balance,
            interest_balance=line.interest_balance,
            fee_balance=line.fee_balance,
            total_balance=line.total_balance,
            refunds_due=line.refunds_due,
            pending_draws=line.pending_draws_total,
            available_credit=line.available_credit,
            minimum_due=line.minimum_payment_outstanding,
            due_date=line.next_due_date,
            autopay_enabled=line.autopay_enabled,
        )


@attrs.frozen
class DisputeView:
    """A billing-error dispute on a line (Regulation Z 1026.13) and where it stands."""

    dispute_id: str
    line_id: str
    currency: str
    statement_date: dt.date
    charge: str
    """``draw``, ``late_fee`` or ``interest``: which charge of the statement is disputed."""
    charge_ref: str
    """The draw's id, the late fee's reference, or the statement date (interest)."""
    charge_date: dt.date
    """The charge's own date: an error found is credited as of it."""
    amount: int
    """The disputed cents: not collected and not past due while the dispute is OPEN."""
    description: str
    status: str
    """OPEN, RESOLVED_ERROR or RESOLVED_NO_ERROR."""
    received_on: dt.date
    resolve_by: dt.date
    """The last day the lender may take to resolve it."""
    resolved_on: dt.date | None
    explanation: str
    credited: int
    """Cents an error found gave back: what the line owed less, plus any refund due it
    raised (the amount, the interest on it, any fee it caused)."""
    owed_again_on: dt.date | None
    """Once resolved: the day what the hold kept unpaid is due again."""

    @classmethod
    def of(cls, dispute: BillingDispute) -> DisputeView:
        """The view of a dispute."""
        return cls(
            dispute_id=dispute.dispute_id,
            line_id=dispute.line_id,
            currency=CURRENCY,
            statement_date=dispute.statement_date,
            charge=dispute.charge.value,
            charge_ref=dispute.charge_ref,
            charge_date=dispute.charge_on,
            amount=dispute.amount,
            description=dispute.description,
            status=dispute.status.value,
            received_on=dispute.received_on,
            resolve_by=dispute.resolve_by,
            resolved_on=dispute.resolved_on,
            explanation=dispute.explanation,
            credited=dispute.credited,
            owed_again_on=dispute.owed_again_on,
        )


@attrs.frozen
class DrawView:
    """A draw on a line: the money sent to the borrower."""

    draw_id: str
    line_id: str
    currency: str
    amount: int
    status: str
    requested_on: dt.date
    rail: str | None
    settled_on: dt.date | None
    failure_reason: str
    returned_on: dt.date | None
    """The day the line learned the rail brought the money back (status RETURNED)."""

    @classmethod
    def of(cls, draw: Draw) -> DrawView:
        """The view of a draw."""
        return cls(
            draw_id=draw.draw_id,
            line_id=draw.line_id,
            currency=CURRENCY,
            amount=draw.amount,
            status=draw.status.value,
            requested_on=draw.requested_on,
            rail=None if draw.rail is None else draw.rail.value,
            settled_on=draw.settled_on,
            failure_reason=draw.failure_reason,
            returned_on=draw.returned_on,
        )


@attrs.frozen
class LinePaymentView:
    """A payment on a line: what it paid, bucket by bucket, and its refund.

    What it paid and `refund`'s amount add up to `amount`.
    """

    payment_id: str
    line_id: str
    currency: str
    amount: int
    rail: str
    status: str
    submitted_on: dt.date
    settled_on: dt.date | None
    paid_fees: int
    paid_interest: int
    paid_principal: int
    refund: RefundView | None
    """The part of `amount` the line did not owe and what became of it (None: none)."""

    @classmethod
    def of(cls, payment: LocPayment | LinePaymentReceipt) -> LinePaymentView:
        """The view of a line payment or of its receipt."""
        if isinstance(payment, LinePaymentReceipt):
            fees, interest, principal = (
                payment.paid.fees,
                payment.paid.interest,
                payment.paid.principal,
            )
            refund = payment.refund
        else:
            fees, interest, principal = (
                payment.paid_fees,
                payment.paid_interest,
                payment.paid_principal,
            )
            refund = None if payment.refund is None else ReceiptRefund.of(payment.refund)
        return cls(
            payment_id=payment.payment_id,
            line_id=payment.line_id,
            currency=CURRENCY,
            amount=payment.amount,
            rail=payment.rail.value,
            status=payment.status.value,
            submitted_on=payment.submitted_on,
            settled_on=payment.settled_on,
            paid_fees=fees,
            paid_interest=interest,
            paid_principal=principal,
            refund=None if refund is None else RefundView.of(refund),
        )


@attrs.frozen
class StatementView:
    """A line's statement for one cycle."""

    line_id: str
    statement_date: dt.date
    cycle_start: dt.date
    cycle_end: dt.date
    currency: str
    apr: str
    opening_balance: int
    closing_balance: int
    interest_charged: int
    fees_charged: int
    past_due_amount: int
    minimum_payment: int
    due_date: dt.date

    @classmethod
    def of(cls, statement: Statement) -> StatementView:
        """The view of a statement."""
        opening, closing = statement.opening, statement.closing
        return cls(
            line_id=statement.line_id,
            statement_date=statement.statement_date,
            cycle_start=statement.cycle_start,
            cycle_end=statement.cycle_end,
            currency=CURRENCY,
            apr=str(statement.apr),
            opening_balance=opening.principal + opening.interest + opening.fees,
            closing_balance=closing.principal + closing.interest + closing.fees,
            interest_charged=statement.interest_charged,
            fees_charged=statement.fees_charged,
            past_due_amount=statement.past_due_amount,
            minimum_payment=statement.minimum_payment,
            due_date=statement.due_date,
        )


# --- pages: one class per item type, so each has its own schema -----------------------


@attrs.frozen
class LoanApplicationPage:
    """A page of loan applications; `next_cursor` fetches the next one (None: the last)."""

    items: list[LoanApplicationView]
    next_cursor: str | None


@attrs.frozen
class LoanPage:
    """A page of loans, newest first."""

    items: list[LoanView]
    next_cursor: str | None


@attrs.frozen
class LinePage:
    """A page of lines of credit, newest first."""

    items: list[LineView]
    next_cursor: str | None


@attrs.frozen
class LoanPaymentPage:
    """A page of a loan's payments."""

    items: list[LoanPaymentView]
    next_cursor: str | None


@attrs.frozen
class LineApplicationPage:
    """A page of line applications."""

    items: list[LineApplicationView]
    next_cursor: str | None


@attrs.frozen
class DrawPage:
    """A page of a line's draws."""

    items: list[DrawView]
    next_cursor: str | None


@attrs.frozen
class LinePaymentPage:
    """A page of a line's payments."""

    items: list[LinePaymentView]
    next_cursor: str | None


@attrs.frozen
class StatementPage:
    """A page of a line's statements, newest first."""

    items: list[StatementView]
    next_cursor: str | None


@attrs.frozen
class DocumentLinkView:
    """A short-lived link to a document (a statement's PDF, an agreement) and its expiry."""

    url: str
    """A presigned URL, or the API's ``/documents/...`` route (bearer token needed)."""
    expires_at: dt.datetime

    @classmethod
    def of(cls, link: DocumentLink) -> DocumentLinkView:
        """The view of a link."""
        return cls(url=link.url, expires_at=link.expires_at)
