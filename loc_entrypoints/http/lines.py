"""Line-of-credit routes: applications, the line, draws, payments and statements.

The caller is the token's subject: a line or application of another user answers 404,
exactly as a missing one, because every command is asked as the caller.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import attrs
from litestar import Response, Router, get, post, put
from litestar.params import FromPath, JSONBody, PathParameter

from loc_core.bookkeeping import Product
from loc_core.creditline import DisputedCharge
from loc_core.errors import InvalidRequest
from loc_core.services.commands import (
    AcceptLineOffer,
    ApplyForLine,
    DisputeBillingError,
    DrawFromLine,
    GetAdverseActionNotice,
    GetLine,
    GetLineApplication,
    GetLineApplicationAgreement,
    GetLinePaymentReceipt,
    GetLineStatement,
    GetStatementDocument,
    ListLineApplications,
    ListLines,
    ListLineStatements,
    PayLine,
    SetLineAutopay,
)
from loc_core.services.queries import application_order, line_order
from loc_entrypoints.http.bodies import strict_body
from loc_entrypoints.http.deps import Bus, Once, Who
from loc_entrypoints.http.idempotency import IdempotencyKey
from loc_entrypoints.http.loans import AutopayRequest, PathId, PaymentRequest, by_submission
from loc_entrypoints.http.pages import Cursor, Limit, newest_first
from loc_entrypoints.http.problems import responses
from loc_entrypoints.http.views import (
    DisputeView,
    DocumentLinkView,
    DrawPage,
    DrawView,
    LineApplicationPage,
    LineApplicationView,
    LinePage,
    LinePaymentPage,
    LinePaymentView,
    LineView,
    StatementPage,
    StatementView,
)

__all__ = ["router"]

_TAGS = ["lines of credit"]


@attrs.frozen
class LineAcceptRequest:
    """The billing cycle day the borrower chooses (1 to 28); None: the product's rule."""

    cycle_day: int | None = None


@attrs.frozen
class DrawRequest:
    """An amount to draw, in cents."""

    amount: int


@attrs.frozen
class LineAutopayView:
    """A line's autopay setting after the change."""

    line_id: str
    autopay_enabled: bool


@attrs.frozen
class DisputeRequest:
    """A billing-error notice: the statement, the charge on it, the amount, what is wrong."""

    statement_date: dt.date
    charge: str
    """Which charge of that statement is wrong: ``draw`` (name it in `draw_id`),
    ``late_fee`` (the fee its cycle charged) or ``interest`` (its interest charge)."""
    amount: int
    """The disputed amount, in cents: at most the charge, less earlier disputes on it."""
    description: str
    draw_id: str | None = None
    """The draw disputed, for ``charge`` ``draw``."""

    def disputed_charge(self) -> DisputedCharge:
        """`charge` as the core names it.

        Raises:
            InvalidRequest: naming ``charge``, for anything else.
        """
        try:
            return DisputedCharge(self.charge)
        except ValueError:
            known = ", ".join(charge.value for charge in DisputedCharge)
            raise InvalidRequest(
                f"charge must be one of {known}; got {self.charge!r}", key="charge"
            ) from None


@attrs.frozen
class LineApplyRequest:
    """A line application needs nothing but the caller: the offer is underwritten."""


@post(
    "/applications",
    operation_id="applyForLine",
    summary="Apply for a line of credit (decided at once)",
    responses=responses(409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def apply(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    data: JSONBody[LineApplyRequest],
    idempotency_key: IdempotencyKey,
) -> Response[LineApplicationView]:
    """Apply; the same key and body replay the first answer."""
    return replays.run(
        user_id=caller.user_id,
        route="lines.apply",
        key=idempotency_key,
        body=data,
        status=201,
        answer=lambda: LineApplicationView.of(
            bus.handle(ApplyForLine(caller.user_id, idempotency_key))
        ),
    )


@get(
    "/applications",
    operation_id="listLineApplications",
    summary="The caller's line applications, newest first",
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
) -> LineApplicationPage:
    """A page of applications."""
    found = bus.handle(ListLineApplications(caller.user_id))
    page, following = newest_first(found, application_order, cursor=cursor, limit=limit)
    return LineApplicationPage([LineApplicationView.of(app) for app in page], following)


@get(
    "/applications/{application_id:str}",
    operation_id="getLineApplication",
    summary="One of the caller's line applications",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_application(*, caller: Who, bus: Bus, application_id: PathId) -> LineApplicationView:
    """One application."""
    return LineApplicationView.of(bus.handle(GetLineApplication(caller.user_id, application_id)))


@get(
    "/applications/{application_id:str}/agreement",
    operation_id="getLineApplicationAgreement",
    summary="A short-lived link to a line offer's account-opening disclosure (PDF)",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_application_agreement(*, caller: Who, bus: Bus, application_id: PathId) -> DocumentLinkView:
    """A link to the disclosure; 404 when the application or its disclosure does not exist."""
    return DocumentLinkView.of(
        bus.handle(GetLineApplicationAgreement(caller.user_id, application_id))
    )


@post(
    "/applications/{application_id:str}/accept",
    operation_id="acceptLineOffer",
    summary="Accept an approved offer: the line is opened",
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
    data: JSONBody[LineAcceptRequest],
    idempotency_key: IdempotencyKey,
) -> Response[LineView]:
    """Accept; the same key and body replay the first answer."""
    return replays.run(
        user_id=caller.user_id,
        route=f"lines.accept:{application_id}",
        key=idempotency_key,
        body=data,
        status=201,
        answer=lambda: LineView.of(
            bus.handle(AcceptLineOffer(caller.user_id, application_id, data.cycle_day))
        ),
    )


@get(
    "/",
    operation_id="listLines",
    summary="The caller's lines of credit, newest first",
    responses=responses(),
    tags=_TAGS,
    sync_to_thread=False,
)
def list_lines(
    *,
    caller: Who,
    bus: Bus,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> LinePage:
    """The caller's lines (a borrower has one or two), a page at a time like every list."""
    found = bus.handle(ListLines(caller.user_id))
    page, following = newest_first(found, line_order, cursor=cursor, limit=limit)
    return LinePage([LineView.of(line) for line in page], following)


@get(
    "/{line_id:str}",
    operation_id="getLine",
    summary="A line: balances, available credit, minimum due, due date, status",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_line(*, caller: Who, bus: Bus, line_id: PathId) -> LineView:
    """One line."""
    return LineView.of(bus.handle(GetLine(caller.user_id, line_id)))


@post(
    "/{line_id:str}/draws",
    operation_id="drawFromLine",
    summary="Draw an amount from a line (sent to the borrower's account)",
    responses=responses(404, 409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def draw(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    line_id: PathId,
    data: JSONBody[DrawRequest],
    idempotency_key: IdempotencyKey,
) -> Response[DrawView]:
    """Draw; the same key and body replay the first answer (money moves once)."""
    return replays.run(
        user_id=caller.user_id,
        route=f"lines.draw:{line_id}",
        key=idempotency_key,
        body=data,
        status=201,
        answer=lambda: DrawView.of(
            bus.handle(DrawFromLine(caller.user_id, line_id, data.amount, idempotency_key))
        ),
    )


@get(
    "/{line_id:str}/draws",
    operation_id="listDraws",
    summary="A line's draws, newest first",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def list_draws(
    *,
    caller: Who,
    bus: Bus,
    line_id: PathId,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> DrawPage:
    """A page of draws."""
    line = bus.handle(GetLine(caller.user_id, line_id))
    page, following = newest_first(
        line.draws.values(), lambda d: (d.requested_on, d.draw_id), cursor=cursor, limit=limit
    )
    return DrawPage([DrawView.of(item) for item in page], following)


@post(
    "/{line_id:str}/payments",
    operation_id="payLine",
    summary="Pay an amount toward a line",
    responses=responses(404, 409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def pay(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    line_id: PathId,
    data: JSONBody[PaymentRequest],
    idempotency_key: IdempotencyKey,
) -> Response[LinePaymentView]:
    """Pay; the same key and body replay the first answer (money moves once)."""
    return replays.run(
        user_id=caller.user_id,
        route=f"lines.pay:{line_id}",
        key=idempotency_key,
        body=data,
        status=201,
        answer=lambda: LinePaymentView.of(
            bus.handle(PayLine(caller.user_id, line_id, data.amount, idempotency_key))
        ),
    )


@get(
    "/{line_id:str}/payments",
    operation_id="listLinePayments",
    summary="A line's payments, newest first",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def list_payments(
    *,
    caller: Who,
    bus: Bus,
    line_id: PathId,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> LinePaymentPage:
    """A page of payments."""
    line = bus.handle(GetLine(caller.user_id, line_id))
    page, following = newest_first(
        line.payments.values(), by_submission, cursor=cursor, limit=limit
    )
    return LinePaymentPage([LinePaymentView.of(item) for item in page], following)


@get(
    "/{line_id:str}/payments/{payment_id:str}",
    operation_id="getLinePaymentReceipt",
    summary="The receipt of one payment on a line",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_receipt(
    *,
    caller: Who,
    bus: Bus,
    line_id: PathId,
    payment_id: Annotated[str, PathParameter(min_length=1, max_length=1024)],
) -> LinePaymentView:
    """One payment's receipt, as it stands: its refund applied, sent back or still due."""
    return LinePaymentView.of(
        bus.handle(GetLinePaymentReceipt(caller.user_id, line_id, payment_id))
    )


@get(
    "/{line_id:str}/statements",
    operation_id="listStatements",
    summary="A line's statements, newest first",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def list_statements(
    *,
    caller: Who,
    bus: Bus,
    line_id: PathId,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> StatementPage:
    """A page of statements."""
    found = bus.handle(ListLineStatements(caller.user_id, line_id))
    page, following = newest_first(found, lambda s: (s.statement_date,), cursor=cursor, limit=limit)
    return StatementPage([StatementView.of(item) for item in page], following)


@get(
    "/{line_id:str}/statements/{statement_date:date}",
    operation_id="getStatement",
    summary="A line's statement of one date",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_statement(
    *,
    caller: Who,
    bus: Bus,
    line_id: PathId,
    statement_date: FromPath[dt.date],
) -> StatementView:
    """One statement."""
    return StatementView.of(bus.handle(GetLineStatement(caller.user_id, line_id, statement_date)))


@get(
    "/{line_id:str}/statements/{statement_date:date}/document",
    operation_id="getStatementDocument",
    summary="A short-lived link to a statement's PDF",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_statement_document(
    *,
    caller: Who,
    bus: Bus,
    line_id: PathId,
    statement_date: FromPath[dt.date],
) -> DocumentLinkView:
    """A link to the statement's PDF; 404 when the statement or its PDF does not exist."""
    return DocumentLinkView.of(
        bus.handle(GetStatementDocument(caller.user_id, line_id, statement_date))
    )


@post(
    "/{line_id:str}/disputes",
    operation_id="disputeBillingError",
    summary="Dispute an amount on a statement as a billing error (Regulation Z 1026.13)",
    responses=responses(404, 409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def dispute(
    *,
    caller: Who,
    bus: Bus,
    replays: Once,
    line_id: PathId,
    data: JSONBody[DisputeRequest],
    idempotency_key: IdempotencyKey,
) -> Response[DisputeView]:
    """Dispute; acknowledged at once. The same key and body replay the first answer."""
    return replays.run(
        user_id=caller.user_id,
        route=f"lines.dispute:{line_id}",
        key=idempotency_key,
        body=data,
        status=201,
        answer=lambda: DisputeView.of(
            bus.handle(
                DisputeBillingError(
                    caller.user_id,
                    line_id,
                    data.statement_date,
                    data.disputed_charge(),
                    data.amount,
                    data.description,
                    idempotency_key,
                    data.draw_id,
                )
            )
        ),
    )


@put(
    "/{line_id:str}/autopay",
    operation_id="setLineAutopay",
    summary="Turn a line's autopay (the due date's debit) on or off",
    responses=responses(404, 409, 415, 422),
    tags=_TAGS,
    sync_to_thread=False,
)
def set_autopay(
    *,
    caller: Who,
    bus: Bus,
    line_id: PathId,
    data: JSONBody[AutopayRequest],
) -> LineAutopayView:
    """Set autopay (idempotent by nature: the same request leaves the same setting)."""
    bus.handle(SetLineAutopay(caller.user_id, line_id, data.enabled))
    return LineAutopayView(line_id=line_id, autopay_enabled=data.enabled)


@get(
    "/applications/{application_id:str}/adverse-action-notice",
    operation_id="getLineApplicationAdverseActionNotice",
    summary="A short-lived link to a rejected line application's adverse action notice (PDF)",
    responses=responses(404),
    tags=_TAGS,
    sync_to_thread=False,
)
def get_adverse_action_notice(*, caller: Who, bus: Bus, application_id: PathId) -> DocumentLinkView:
    """A link to the notice; 404 when the application was not rejected or has no notice yet."""
    return DocumentLinkView.of(
        bus.handle(GetAdverseActionNotice(caller.user_id, application_id, Product.CREDITLINE))
    )


router = Router(
    path="/lines",
    guards=[strict_body],
    route_handlers=[
        apply,
        list_applications,
        get_application,
        get_application_agreement,
        get_adverse_action_notice,
        accept,
        list_lines,
        get_line,
        draw,
        list_draws,
        pay,
        list_payments,
        get_receipt,
        list_statements,
        get_statement,
        get_statement_document,
        set_autopay,
        dispute,
    ],
)
"""Every line-of-credit route, under ``/lines``."""
