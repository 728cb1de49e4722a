"""Applying for a line of credit: the eligibility pre-check, underwriting, the stored answer.

Replaces the seed's credit-line application handler (``LOCAPP#``). Eligibility (chosen,
mirroring the loan pre-check): the user is active, has no line that is not CLOSED
(ACTIVE or SUSPENDED: ``OPEN_LINE``; DEFAULTED: ``DEFAULTED_LINE``), and holds no live
offer (an APPROVED application neither expired nor converted: ``LIVE_APPLICATION``).
Every failed rule is reported at once in `NotEligible.reasons`.

The check and the write happen under the per-user lease
``loc-line-application:user_id:<u>:item_id:<u>``, so two requests with different keys
cannot both pass the check. The command is idempotent by its key (`run_once`): a repeat
returns the application the first request stored and asks underwriting nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs

from loc_core.applications import ApplicationStatus
from loc_core.creditline import CreditLine, CreditLineApplication, CreditLineProduct, LineStatus
from loc_core.errors import NotEligible
from loc_core.services.filing import DocumentFiler, file_line_agreement
from loc_core.services.kit import lock_key
from loc_core.services.lines._unit import LEASE_TTL
from loc_core.services.messagebus import Command, Publisher
from loc_core.services.underwriting import ApplicationDesk
from loc_core.validation import Id, Key, key_part, validated

__all__ = ["ApplyForLine", "LineIneligibility", "apply_for_line", "line_eligibility"]


class LineIneligibility(enum.Enum):
    """A rule of the pre-check; the value is the code `NotEligible.reasons` carries."""

    USER_INACTIVE = "USER_INACTIVE"
    OPEN_LINE = "OPEN_LINE"
    """An ACTIVE or SUSPENDED line."""
    DEFAULTED_LINE = "DEFAULTED_LINE"
    LIVE_APPLICATION = "LIVE_APPLICATION"
    """An APPROVED offer that has neither expired nor been accepted."""


def _is_live(application: CreditLineApplication, now: dt.datetime) -> bool:
    return (
        application.status is ApplicationStatus.APPROVED
        and application.line_id is None
        and not application.is_expired(now)
    )


def line_eligibility(
    *,
    user_active: bool,
    lines: Iterable[CreditLine],
    applications: Iterable[CreditLineApplication],
    now: dt.datetime,
) -> tuple[str, ...]:
    """The codes of every failed rule, in `LineIneligibility` order; empty when eligible."""
    statuses = {line.status for line in lines}
    failed = {
        LineIneligibility.USER_INACTIVE: user_active is not True,
        LineIneligibility.OPEN_LINE: bool(statuses & {LineStatus.ACTIVE, LineStatus.SUSPENDED}),
        LineIneligibility.DEFAULTED_LINE: LineStatus.DEFAULTED in statuses,
        LineIneligibility.LIVE_APPLICATION: any(_is_live(app, now) for app in applications),
    }
    return tuple(rule.value for rule, broken in failed.items() if broken)


@attrs.frozen(field_transformer=validated)
class ApplyForLine(Command[CreditLineApplication]):
    """A borrower asks for a line of credit."""

    user_id: Id
    idempotency_key: Key
    """Chosen by the client; the same key always means this same request."""


def apply_for_line(
    command: ApplyForLine,
    *,
    desk: ApplicationDesk,
    product: CreditLineProduct,
    publish: Publisher,
    filer: DocumentFiler,
) -> CreditLineApplication:
    """Check eligibility, ask underwriting, and store its APPROVED or REJECTED answer.

    After an approval commits, the offer's account-opening disclosure (12 CFR 1026.6(b))
    is rendered and stored (`file_line_agreement`; a repeat renders it only if it is
    still missing); a rendering failure is alerted and queued, and never fails the
    application, as a loan offer's agreement. A rejection commits an
    ``application_declined`` event with it and publishes it: its adverse action notice is
    filed (`file_adverse_action_notice`), then the borrower is told (12 CFR 1002.9). A
    pre-check refusal (`NotEligible`) files nothing and notifies nobody.

    Returns:
        The stored application: an offer (limit, APR, minimum percent, `expires_at`) or a
        rejection with its adverse actions.

    Raises:
        NotFound: no such user.
        NotEligible: with every failed rule; nothing is stored and the key may be reused.
        LockNotAcquired: another application of the user is being decided right now.
        IdempotencyConflict: the key was used for another request, or is still running.
        ExternalServiceError: underwriting failed; nothing is stored.
        InvalidRate, InvalidAmount: underwriting approved terms the product forbids.
    """
    user_id = command.user_id

    application_id = desk.decide_once(
        command,
        key=f"loc-line-application:{key_part(user_id)}:{key_part(command.idempotency_key)}",
        lease=lock_key("line-application", user_id=user_id, item_id=user_id),
        owner=desk.ids.new_id,
        ttl=LEASE_TTL,
        decide=lambda: _decide(command, desk, product, publish),
    )
    with desk.uow as uow:
        application = uow.line_applications.get(user_id, application_id)
    file_line_agreement(application, filer=filer, product=product)
    return application


def _decide(
    command: ApplyForLine, desk: ApplicationDesk, product: CreditLineProduct, publish: Publisher
) -> str:
    now = desk.clock.now()
    user = desk.users.get(command.user_id)
    with desk.uow as uow:
        reasons = line_eligibility(
            user_active=user.active,
            lines=uow.lines.for_user(command.user_id),
            applications=uow.line_applications.for_user(command.user_id),
            now=now,
        )
    if reasons:
        raise NotEligible(reasons, user_id=command.user_id)
    decision = desk.underwriting.decide_line(command.user_id)
    application_id = desk.ids.new_id()
    if decision.approved:
        application = CreditLineApplication.approved(
            application_id=application_id,
            user_id=command.user_id,
            created_at=now,
            credit_limit=decision.credit_limit,
            apr=decision.apr,
            minimum_payment_percent=decision.minimum_payment_percent,
            product=product,
        )
    else:
        application = CreditLineApplication.rejected(
            application_id=application_id,
            user_id=command.user_id,
            created_at=now,
            adverse_actions=decision.adverse_actions,
            product=product,
            consumer_report=decision.consumer_report,
        )
    with desk.uow as uow:
        uow.line_applications.add(application)
        events = uow.commit(actor="api", request_id=command.idempotency_key)
    publish(events)
    return application_id
