"""Installment-loan routes: eligibility, applications, loans, installments, payments, autopay.

The caller is the token's subject: a loan or application of another user answers 404,
exactly as a missing one, because every command is asked as the caller.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Protocol

import attrs
from litestar import Response, Router, get, post, put
from litestar.params import FromQuery, JSONBody, PathParameter

from loc_core.bookkeeping import Product
from loc_core.errors import NotFound
from loc_core.installment import LoanStatus
from loc_core.services.commands import (
    AcceptOffer,
    ApplyForLoan,
    CheckEligibility,
    GetAdverseActionNotice,
    GetApplicationAgreement,
    GetLoan,
    GetLoanAgreement,
    GetLoanApplication,
    GetPaymentReceipt,
    ListLoanApplications,
    ListLoans,
    MakePayment,
    SetAutopay,
)
from loc_core.services.queries import application_order, loan_order
from loc_entrypoints.http.bodies import strict_body
from loc_entrypoints.http.deps import Bus, Once, Who
from loc_entrypoints.http.idempotency import IdempotencyKey
from loc_entrypoints.http.pages import Cursor, Limit, newest_first
from loc_entrypoints.http.problems import responses
from loc_entrypoints.http.views import (
    DocumentLinkView,
    EligibilityView,
    InstallmentView,
    LoanApplicationPage,
    LoanApplicationView,
    LoanPage,
    LoanPaymentPage,
    LoanPaymentView,
    LoanView,
    ReceiptView,
)

__all__ = ["by_submission", "router"]

_TAGS = ["installment loans"]
PathId = Annotated[str, PathParameter(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")]
"""An id in a path: the library's id characters, at most 128."""


@attrs.frozen
class LoanRequest:
    """The amount a borrower asks to borrow, in cents."""

    requested_amount: int


@attrs.frozen
class AcceptRequest:
    """Whether autopay starts on (it does unless the borrower says otherwise)."""

    autopay_enabled: bool = True


@attrs.frozen
class PaymentRequest:
    """An amount to pay, in cents."""

    amount: int


class _Submitted(Protocol):
    @property
    def submitted_on(self) -> dt.date: ...
    @property
    def payment_id(self) -> str: ...


def by_submission(payment: _Submitted) -> tuple[dt.date, str]:
    """The order payments are listed in (newest first): the day submitted, then the id."""
    return payment.submitted_on, payment.payment_id


@attrs.frozen
class AutopayRequest:
    """Autopay on or off."""

    enabled: bool


@attrs.frozen
class AutopayView:
    """A loan's autopay setting after the change."""

    loan_id: str
    autopay_enabled: bool


@get(
    "/eligibility",
    operation_id="checkLoanEligibility",
    summary="Whether the caller may apply for a loan now",
    responses=responses(),
    tags=_TAGS,
    sync_to_thread=False,
)
def check_eligibility(*, caller: Who, bus: Bus) -> EligibilityView:
    """The eligibility pre-check."""
    return EligibilityView.of(bus.handle(CheckEligibility(caller.user_id)))


@post(
    "/applications",
    operation_id="applyForLoan",
    summary="Apply for an installment loan (decided at once)",
    responses=responses(409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def apply(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    data: JSONBody[LoanRequest],
    idempotency_key: IdempotencyKey,
) -> Response[LoanApplicationView]:
    """Apply; the same key and body replay the first answer."""
    return replays.run(
        user_id=caller.user_id,
        route="loans.apply",
        key=idempotency_key,
        body=data,
        status=201,
        answer=lambda: LoanApplicationView.of(
            bus.handle(ApplyForLoan(caller.user_id, data.requested_amount, idempotency_key))
        ),
    )


@get(
    "/applications",
    operation_id="listLoanApplications",
    summary="The caller's loan applications, newest first",
    responses=responses(),
    tags=_TAGS,
    sync_to_thread=False,
)
def list_applications(
    *,
    caller: Who,
    bus: Bus,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> LoanApplicationPage:
    """A page of applications."""
    found = bus.handle(ListLoanApplications(caller.user_id))
    page, following = newest_first(found, application_order, cursor=cursor, limit=limit)
    return LoanApplicationPage([LoanApplicationView.of(app) for app in page], following)


@get(
    "/applications/{application_id:str}",
    operation_id="getLoanApplication",
    summary="One of the caller's loan applications",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_application(*, caller: Who, bus: Bus, application_id: PathId) -> LoanApplicationView:
    """One application."""
    return LoanApplicationView.of(bus.handle(GetLoanApplication(caller.user_id, application_id)))


@post(
    "/applications/{application_id:str}/accept",
    operation_id="acceptLoanOffer",
    summary="Accept an approved offer: the loan is opened and disbursed",
    responses=responses(404, 409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def accept(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    application_id: PathId,
    data: JSONBody[AcceptRequest],
    idempotency_key: IdempotencyKey,
) -> Response[LoanView]:
    """Accept; the same key and body replay the first answer."""
    return replays.run(
        user_id=caller.user_id,
        route=f"loans.accept:{application_id}",
        key=idempotency_key,
        body=data,
        status=201,
        answer=lambda: LoanView.of(
            bus.handle(
                AcceptOffer(caller.user_id, application_id, autopay_enabled=data.autopay_enabled)
            )
        ),
    )


@get(
    "/",
    operation_id="listLoans",
    summary="The caller's loans, newest first, optionally of one status",
    responses=responses(),
    tags=_TAGS,
    sync_to_thread=False,
)
def list_loans(
    *,
    caller: Who,
    bus: Bus,
    status: FromQuery[LoanStatus | None] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> LoanPage:
    """A page of loans."""
    found = bus.handle(ListLoans(caller.user_id, status))
    page, following = newest_first(found, loan_order, cursor=cursor, limit=limit)
    return LoanPage([LoanView.of(loan) for loan in page], following)


@get(
    "/{loan_id:str}",
    operation_id="getLoan",
    summary="One of the caller's loans",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_loan(*, caller: Who, bus: Bus, loan_id: PathId) -> LoanView:
    """One loan."""
    return LoanView.of(bus.handle(GetLoan(caller.user_id, loan_id)))


@get(
    "/{loan_id:str}/installments",
    operation_id="listInstallments",
    summary="A loan's installments, in order",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def list_installments(*, caller: Who, bus: Bus, loan_id: PathId) -> list[InstallmentView]:
    """Every installment (a loan has a handful; no pagination)."""
    loan = bus.handle(GetLoan(caller.user_id, loan_id))
    ordered = sorted(loan.installments, key=lambda item: item.number)
    return [InstallmentView.of(item) for item in ordered]


@post(
    "/{loan_id:str}/payments",
    operation_id="payLoan",
    summary="Pay an amount toward a loan",
    responses=responses(404, 409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def pay(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    loan_id: PathId,
    data: JSONBody[PaymentRequest],
    idempotency_key: IdempotencyKey,
) -> Response[ReceiptView]:
    """Pay; the same key and body replay the first answer (money moves once)."""
    return replays.run(
        user_id=caller.user_id,
        route=f"loans.pay:{loan_id}",
        key=idempotency_key,
        body=data,
        status=201,
        answer=lambda: ReceiptView.of(
            bus.handle(MakePayment(caller.user_id, loan_id, data.amount, idempotency_key))
        ),
    )


@get(
    "/{loan_id:str}/payments",
    operation_id="listLoanPayments",
    summary="A loan's payments, newest first",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def list_payments(
    *,
    caller: Who,
    bus: Bus,
    loan_id: PathId,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> LoanPaymentPage:
    """A page of payments."""
    loan = bus.handle(GetLoan(caller.user_id, loan_id))
    page, following = newest_first(
        loan.payments.values(), by_submission, cursor=cursor, limit=limit
    )
    return LoanPaymentPage([LoanPaymentView.of(payment) for payment in page], following)


@get(
    "/{loan_id:str}/payments/{payment_id:str}",
    operation_id="getLoanPaymentReceipt",
    summary="The receipt of one payment on a loan",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_receipt(
    *,
    caller: Who,
    bus: Bus,
    loan_id: PathId,
    payment_id: Annotated[str, PathParameter(min_length=1, max_length=1024)],
) -> ReceiptView:
    """One payment's receipt."""
    receipt = bus.handle(GetPaymentReceipt(caller.user_id, payment_id))
    if receipt.loan_id != loan_id:
        raise NotFound(
            f"no payment {payment_id} on loan {loan_id}",
            entity="payment",
            entity_id=payment_id,
            user_id=caller.user_id,
        )
    return ReceiptView.of(receipt)


@put(
    "/{loan_id:str}/autopay",
    operation_id="setAutopay",
    summary="Turn a loan's autopay on or off",
    responses=responses(404, 409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def set_autopay(
    *,
    caller: Who,
    bus: Bus,
    loan_id: PathId,
    data: JSONBody[AutopayRequest],
) -> AutopayView:
    """Set autopay (idempotent by nature: the same request leaves the same setting)."""
    bus.handle(SetAutopay(caller.user_id, loan_id, data.enabled))
    return AutopayView(loan_id=loan_id, autopay_enabled=data.enabled)


@get(
    "/applications/{application_id:str}/agreement",
    operation_id="getLoanApplicationAgreement",
    summary="A short-lived link to a loan application's agreement (PDF)",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_application_agreement(*, caller: Who, bus: Bus, application_id: PathId) -> DocumentLinkView:
    """A link to the agreement; 404 when the application or its agreement does not exist."""
    return DocumentLinkView.of(bus.handle(GetApplicationAgreement(caller.user_id, application_id)))


@get(
    "/{loan_id:str}/agreement",
    operation_id="getLoanAgreement",
    summary="A short-lived link to a loan's agreement (PDF)",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_loan_agreement(*, caller: Who, bus: Bus, loan_id: PathId) -> DocumentLinkView:
    """A link to the agreement; 404 when the loan or its agreement does not exist."""
    return DocumentLinkView.of(bus.handle(GetLoanAgreement(caller.user_id, loan_id)))


@get(
    "/applications/{application_id:str}/adverse-action-notice",
    operation_id="getLoanApplicationAdverseActionNotice",
    summary=(
        "A short-lived link to a rejected loan application's adverse action notice, or a "
        "counteroffer's combined counteroffer and adverse action notice (PDF)"
    ),
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_adverse_action_notice(*, caller: Who, bus: Bus, application_id: PathId) -> DocumentLinkView:
    """A link to the notice; 404 unless rejected or a counteroffer, or while no notice is stored."""
    return DocumentLinkView.of(
        bus.handle(GetAdverseActionNotice(caller.user_id, application_id, Product.INSTALLMENT))
    )


router = Router(
    path="/loans",
    guards=[strict_body],
    route_handlers=[
        check_eligibility,
        apply,
        list_applications,
        get_application,
        get_application_agreement,
        get_adverse_action_notice,
        accept,
        list_loans,
        get_loan,
        get_loan_agreement,
        list_installments,
        pay,
        list_payments,
        get_receipt,
        set_autopay,
    ],
)
"""Every installment-loan route, under ``/loans``."""
