"""Applying for a loan: pre-check, underwriting, and an offer (or a rejection) on file."""

from __future__ import annotations

import attrs

from loc_core.errors import ExternalServiceError, NotEligible
from loc_core.installment import InstallmentProduct, LoanApplication
from loc_core.money import positive_cents
from loc_core.ports import Metrics
from loc_core.services.filing import DocumentFiler, file_agreement
from loc_core.services.kit import moment
from loc_core.services.loans.disbursement import APPLICATION_LEASE, application_lease_key
from loc_core.services.loans.eligibility import CheckEligibility, check_loan_eligibility
from loc_core.services.messagebus import Command, Publisher
from loc_core.services.underwriting import ApplicationDesk
from loc_core.validation import Cents, Id, Key, key_part, validated

__all__ = ["APPLICATION_LEASE", "ApplyForLoan", "apply_for_loan"]


@attrs.frozen(field_transformer=validated)
class ApplyForLoan(Command[LoanApplication]):
    """A borrower asks for an installment loan of `requested_amount` cents."""

    user_id: Id
    requested_amount: Cents
    idempotency_key: Key
    """Chosen by the client; the same key replays the first answer."""


def apply_for_loan(
    command: ApplyForLoan,
    *,
    desk: ApplicationDesk,
    product: InstallmentProduct,
    metrics: Metrics,
    filer: DocumentFiler,
    publish: Publisher,
) -> LoanApplication:
    """Pre-check, ask underwriting, and file an APPROVED offer or a REJECTED application.

    An approval carries a loan number taken from the counter now (so a rejection uses
    none), a proposed schedule and a TTL. The whole use case holds the borrower's
    application lease, so two concurrent requests cannot both pass the pre-check and
    leave two live offers. A repeat with the same idempotency key returns the
    application filed the first time. After the approval commits, the agreement is
    rendered and stored (`file_agreement`; a repeat renders it only if it is still
    missing); a rendering failure is alerted and never fails the application. A
    rejection commits an ``application_declined`` event with it and publishes it: its
    adverse action notice is filed (`file_adverse_action_notice`), then the borrower is
    told (12 CFR 1002.9). An approval for less than the amount requested is a
    counteroffer: it keeps underwriting's reasons and the consumer report its decision
    used, and commits an ``application_countered`` event, published the same way (the
    combined counteroffer and adverse action notice, comment 9(a)(1)-6). Reasons or a
    report that come with an approval of the whole amount are not kept: no adverse action
    was taken. A pre-check refusal (`NotEligible`) files nothing and notifies nobody: the
    caller is answered at once with every reason.

    Raises:
        InvalidAmount: for a requested amount that is not positive integer cents.
        NotEligible: with every failed pre-check rule; nothing is filed.
        ExternalServiceError: when underwriting approved without a fee, or for less than
            the amount requested without a reason; nothing is filed.
        LockNotAcquired: while another application of the borrower is being decided.
        IdempotencyConflict: when the key was used for another request.
    """
    positive_cents(command.requested_amount, field="requested_amount")

    application_id = desk.decide_once(
        command,
        key=f"apply_for_loan:{key_part(command.user_id)}:{key_part(command.idempotency_key)}",
        lease=application_lease_key(command.user_id),
        owner=lambda: command.idempotency_key,
        ttl=APPLICATION_LEASE,
        decide=lambda: _decide(command, desk, product, metrics, publish),
    )
    with desk.uow as uow:
        application = uow.loan_applications.get(command.user_id, application_id)
    if file_agreement(application, filer=filer, uow=desk.uow, clock=desk.clock, product=product):
        with desk.uow as uow:
            application = uow.loan_applications.get(command.user_id, application_id)
    return application


def _decide(
    command: ApplyForLoan,
    desk: ApplicationDesk,
    product: InstallmentProduct,
    metrics: Metrics,
    publish: Publisher,
) -> str:
    eligibility = check_loan_eligibility(
        CheckEligibility(command.user_id), uow=desk.uow, users=desk.users, clock=desk.clock
    )
    if not eligibility.eligible:
        metrics.increment(
            "loc.loans.applications.not_eligible",
            tags=tuple(f"reason:{r}" for r in eligibility.reasons),
        )
        raise NotEligible(eligibility.reasons, user_id=command.user_id)
    decision = desk.underwriting.decide_loan(
        command.user_id, requested_amount=command.requested_amount
    )
    now, _ = moment(desk.clock)
    if decision.approved:
        if decision.fee is None:
            raise ExternalServiceError(
                f"underwriting approved user {command.user_id} without an origination fee",
                user_id=command.user_id,
            )
        # Never more credit than the borrower asked for: an approval above the request
        # (underwriting's "approved up to") offers the amount requested.
        offered = min(decision.loan_amount, command.requested_amount)
        countered = offered < command.requested_amount
        if countered and not decision.adverse_actions:
            raise ExternalServiceError(
                f"underwriting approved user {command.user_id} for {offered} of "
                f"the {command.requested_amount} cents requested without a reason: a "
                "counteroffer's adverse action notice states why (12 CFR 1002.9(a)(1)(iv))",
                user_id=command.user_id,
            )
        application = LoanApplication.approve(
            product=product,
            user_id=command.user_id,
            application_id=desk.ids.new_id(),
            loan_number=desk.ids.next_loan_number(),
            loan_amount=offered,
            fee=decision.fee,
            now=now,
            installment_count=decision.installment_count,
            requested_amount=command.requested_amount,
            adverse_actions=decision.adverse_actions if countered else (),
            consumer_report=decision.consumer_report if countered else None,
        )
    else:
        application = LoanApplication.reject(
            user_id=command.user_id,
            application_id=desk.ids.new_id(),
            adverse_actions=decision.adverse_actions,
            now=now,
            cadence=product.cadence,
            requested_amount=command.requested_amount,
            consumer_report=decision.consumer_report,
        )
    with desk.uow as uow:
        uow.loan_applications.add(application)
        events = uow.commit(actor="api", request_id=command.idempotency_key)
    publish(events)
    metrics.increment(
        "loc.loans.applications.decided", tags=(f"status:{application.status.value}",)
    )
    return application.application_id
