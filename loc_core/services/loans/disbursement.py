"""Accepting an offer: the money goes out exactly once, and the loan is booked with it.

The disbursement's rail keys are derived from the user and application
(`disbursement_key`), so a retry after a crash between the rail's answer and the commit
gets the same answer back and never sends the money twice. The loan, the converted
application, the disbursement entry and the audit trail are one commit.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable

import attrs

from loc_core.errors import ConcurrencyConflict
from loc_core.events import AuditValue
from loc_core.installment import InstallmentProduct, Loan, LoanApplication, originate
from loc_core.payments import Direction, Rail
from loc_core.ports import Clock, IdGenerator, Users
from loc_core.services.kit import moment
from loc_core.services.loans.booking import LoanTransfers
from loc_core.services.messagebus import Command
from loc_core.services.rails import submit_in_order
from loc_core.validation import Id, from_key_part, key_part, valid_flag, validated

__all__ = [
    "DISBURSEMENT_RAILS",
    "AcceptOffer",
    "accept_offer",
    "disbursement_key",
    "parse_disbursement_key",
]

DISBURSEMENT_RAILS: tuple[Rail, ...] = (Rail.PINLESS, Rail.ACH)
"""Loan proceeds go out by pinless debit card push first (instant), then ACH."""

_DISBURSE = "disburse"


def disbursement_key(user_id: str, application_id: str, rail: Rail) -> str:
    """The rail idempotency key of an application's disbursement on `rail`.

    ``disburse:<user>:<application>:<rail>``, each id a `key_part` (a ``:`` inside an id
    is escaped, so ``us-east-1:4f9a`` stays one field).
    """
    return f"{_DISBURSE}:{key_part(user_id)}:{key_part(application_id)}:{rail.value}"


def parse_disbursement_key(key: str) -> tuple[str, str] | None:
    """The (user id, application id) a disbursement key names, or None for another key."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != _DISBURSE or not all(parts[1:3]):  # noqa: PLR2004 - the key's four fields
        return None
    return from_key_part(parts[1]), from_key_part(parts[2])


@attrs.frozen(field_transformer=validated)
class AcceptOffer(Command[Loan]):
    """The borrower accepts an APPROVED offer."""

    user_id: Id
    application_id: Id
    autopay_enabled: bool = attrs.field(default=True, validator=valid_flag)
    """Whether autopay collects the installments (the borrower may turn it off later)."""


def accept_offer(
    command: AcceptOffer,
    *,
    transfers: LoanTransfers,
    users: Users,
    ids: IdGenerator,
    clock: Clock,
    product: InstallmentProduct,
) -> Loan:
    """Disburse the offer (pinless push first, then ACH) and book the loan, exactly once.

    A repeat after success returns the loan already made. When every rail declines or is
    down, nothing is booked and the offer stays open (operations are alerted when every
    rail is down); the borrower may try again while the offer lives.

    Raises:
        NotFound: for an unknown application or user.
        ApplicationNotApproved, ApplicationExpired, ApplicationAlreadyConverted: when
            the offer cannot be accepted now; nothing was sent.
        RailDeclined: when every rail declined the transfer.
        RailUnavailable: when no rail accepted and at least one could not be reached.
        ExternalServiceError: when a rail failed with its outcome unknown; no other
            rail was asked, and a retry uses the same transfer keys.
    """
    uow = transfers.uow
    now, today = moment(clock)
    with uow:
        made = uow.loans.by_application(command.user_id, command.application_id)
        if made is not None:
            return made
        application = uow.loan_applications.get(command.user_id, command.application_id)
        application.require_convertible(now)
    user = users.get(command.user_id)

    def make_loan(
        offer: LoanApplication,
        rail: Rail,
        confirmation_id: str,
        *,
        new_id: Callable[[], str] = ids.new_id,
        disbursed: bool = True,
    ) -> Loan:
        return originate(
            offer,
            product=product,
            loan_id=new_id(),
            installment_id=lambda _number: new_id(),
            disbursed_on=today,
            rail=rail,
            confirmation_id=confirmation_id,
            now=now,
            autopay_enabled=command.autopay_enabled,
            account_last_four=user.account_last_four or None,
            disbursed=disbursed,
        )

    # Everything originate checks is checked before any money moves, on a copy.
    checks = itertools.count(1)
    make_loan(
        copy.deepcopy(application),
        DISBURSEMENT_RAILS[0],
        "check",
        new_id=lambda: f"check-{next(checks)}",
        disbursed=False,
    )
    details: dict[str, AuditValue] = {
        "user_id": command.user_id,
        "application_id": command.application_id,
        "amount": application.amount_disbursed,
    }
    transfer = transfers.accepted(
        submit_in_order(
            transfers.rails,
            order=DISBURSEMENT_RAILS,
            key=lambda rail: disbursement_key(command.user_id, command.application_id, rail),
            direction=Direction.CREDIT,
            user_id=command.user_id,
            amount=application.amount_disbursed,
            reference=command.application_id,
        ),
        f"disbursement of application {command.application_id}",
        details=details,
        failed="loc.loans.disbursements.failed",
    )
    with transfers.booking(transfer, what="loan disbursement", details=details), uow:
        made = uow.loans.by_application(command.user_id, command.application_id)
        if made is not None:  # a concurrent acceptance got the same answer and booked it
            return made
        application = uow.loan_applications.get(command.user_id, command.application_id)
        loan = make_loan(application, transfer.rail, transfer.confirmation_id)
        uow.loans.add(loan)
        uow.loan_applications.save(application)
        try:
            events = uow.commit(actor="api", request_id=command.application_id)
        except ConcurrencyConflict:
            made = uow.loans.by_application(command.user_id, command.application_id)
            if made is None:
                raise
            return made
    transfers.publish(events)
    transfers.metrics.increment(
        "loc.loans.disbursements.sent", tags=(f"rail:{transfer.rail.value}",)
    )
    return loan
