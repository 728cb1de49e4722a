"""Accepting an offer: the money goes out exactly once, and the loan is booked with it.

The disbursement's rail keys are derived from the user and application
(`disbursement_key`), so a retry after a crash between the rail's answer and the commit
gets the same answer back and never sends the money twice. The loan, the converted
application, the disbursement entry and the audit trail are one commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs

from loc_core.installment import (
    InstallmentProduct,
    Loan,
    LoanApplication,
    check_origination,
    originate,
)
from loc_core.intents import IntentKind, IntentStatus, TransferIntent, request_fingerprint
from loc_core.payments import Direction, Rail
from loc_core.ports import Clock, IdGenerator, Users
from loc_core.services.kit import moment, retry_on_conflict
from loc_core.services.loans.booking import LoanTransfers, intent_details
from loc_core.services.messagebus import Command
from loc_core.services.rails import Transfer
from loc_core.validation import Id, from_key_part, key_part, valid_flag, validated

__all__ = [
    "DISBURSEMENT_RAILS",
    "AcceptOffer",
    "LoanMaker",
    "Originator",
    "accept_offer",
    "book_disbursement",
    "disbursement_intent_id",
    "disbursement_key",
    "parse_disbursement_key",
]

DISBURSEMENT_RAILS: tuple[Rail, ...] = (Rail.PINLESS, Rail.ACH)
"""Loan proceeds go out by pinless debit card push first (instant), then ACH."""

_DISBURSE = "disburse"

AUTOPAY_CHOICE = {True: "autopay", False: "manual"}
"""A disbursement intent's `item_id`: the borrower's autopay choice, which the loan needs."""


def disbursement_intent_id(user_id: str, application_id: str) -> str:
    """The intent of an application's disbursement: ``disburse:<user>:<application>``.

    Each id is a `key_part` (a ``:`` inside an id is escaped, so ``us-east-1:4f9a`` stays
    one field).
    """
    return f"{_DISBURSE}:{key_part(user_id)}:{key_part(application_id)}"


def disbursement_key(user_id: str, application_id: str, rail: Rail) -> str:
    """The rail idempotency key of an application's disbursement on `rail`."""
    return f"{disbursement_intent_id(user_id, application_id)}:{rail.value}"


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


class LoanMaker(Protocol):
    """Makes the loan of an offer disbursed by `rail` (`Originator.maker`)."""

    def __call__(self, offer: LoanApplication, rail: Rail, confirmation_id: str) -> Loan:
        """The loan, with new ids; `offer` is marked converted."""
        ...

    def check(self, offer: LoanApplication, rail: Rail) -> None:
        """Refuse, changing nothing, an offer the call would refuse (before money moves)."""
        ...


@attrs.frozen
class _Maker:
    """A `LoanMaker` for one borrower at one moment (`Originator.maker`)."""

    originator: Originator
    autopay_enabled: bool
    account_last_four: str | None
    now: dt.datetime

    def __call__(self, offer: LoanApplication, rail: Rail, confirmation_id: str) -> Loan:
        """The loan, with new ids; `offer` is marked converted."""
        new_id = self.originator.ids.new_id
        return originate(
            offer,
            product=self.originator.product,
            loan_id=new_id(),
            installment_id=lambda _number: new_id(),
            disbursed_on=self.now.date(),
            rail=rail,
            confirmation_id=confirmation_id,
            now=self.now,
            autopay_enabled=self.autopay_enabled,
            account_last_four=self.account_last_four,
            disbursed=True,
        )

    def check(self, offer: LoanApplication, rail: Rail) -> None:
        """Refuse, changing nothing, an offer the call would refuse (`check_origination`)."""
        check_origination(
            offer,
            product=self.originator.product,
            disbursed_on=self.now.date(),
            rail=rail,
            now=self.now,
            autopay_enabled=self.autopay_enabled,
            account_last_four=self.account_last_four,
        )


@attrs.frozen
class Originator:
    """Making a loan from an offer: what acceptance and the recovery job share."""

    users: Users
    ids: IdGenerator
    clock: Clock
    product: InstallmentProduct

    def maker(self, user_id: str, *, autopay_enabled: bool) -> LoanMaker:
        """A function making the loan of `user_id`'s offer, disbursed today by a rail."""
        user = self.users.get(user_id)
        now, _ = moment(self.clock)
        return _Maker(self, autopay_enabled, user.account_last_four or None, now)


def accept_offer(
    command: AcceptOffer,
    *,
    transfers: LoanTransfers,
    originator: Originator,
    clock: Clock,
) -> Loan:
    """Disburse the offer (pinless push first, then ACH) and book the loan, exactly once.

    A repeat after success returns the loan already made. When every rail declines or is
    down, nothing is booked and the offer stays open (operations are alerted when every
    rail is down); the borrower may try again while the offer lives. The disbursement's
    transfer intent is committed before any rail is asked, so a retry after a crash (or
    the recovery job) books the loan the money went out for, even if the offer expired
    meanwhile.

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
    now, _ = moment(clock)
    intent_id = disbursement_intent_id(command.user_id, command.application_id)
    with uow:
        made = uow.loans.by_application(command.user_id, command.application_id)
        stored = uow.intents.find(intent_id)
    if made is not None:
        if stored is not None and stored.user_id == command.user_id:
            transfers.movements.finish(stored)  # a crash may have left its events unsent
        return made
    with uow:
        application = uow.loan_applications.get(command.user_id, command.application_id)
        resuming = stored is not None and stored.is_open  # the money may have moved
        if not resuming:
            application.require_convertible(now)
    make_loan = originator.maker(command.user_id, autopay_enabled=command.autopay_enabled)

    if not resuming:  # everything originate checks, before any money moves
        make_loan.check(application, DISBURSEMENT_RAILS[0])
    intent = transfers.movements.open(
        TransferIntent(
            intent_id=intent_id,
            user_id=command.user_id,
            kind=IntentKind.DISBURSEMENT,
            account_id=command.application_id,
            item_id=AUTOPAY_CHOICE[command.autopay_enabled],
            direction=Direction.CREDIT,
            amount=application.amount_disbursed,
            rails=DISBURSEMENT_RAILS,
            fingerprint=request_fingerprint(
                "accept_offer", command.user_id, command.application_id
            ),
            request_key=command.application_id,
            created_at=now,
            updated_at=now,
        )
    )
    if intent.status is IntentStatus.BOOKED:
        transfers.movements.finish(intent)
        with uow:
            return uow.loans.get(command.user_id, intent.outcome)
    transfer = transfers.move(
        intent,
        f"disbursement of application {command.application_id}",
        failed="loc.loans.disbursements.failed",
    )
    loan, booked = book_disbursement(transfers, intent, transfer, make_loan)
    transfers.movements.finish(booked)
    transfers.metrics.increment(
        "loc.loans.disbursements.sent", tags=(f"rail:{transfer.rail.value}",)
    )
    return loan


def book_disbursement(
    transfers: LoanTransfers,
    intent: TransferIntent,
    transfer: Transfer,
    make_loan: LoanMaker,
) -> tuple[Loan, TransferIntent]:
    """Book the loan whose proceeds `transfer` sent, with its intent BOOKED, in one commit.

    An offer that expired meanwhile is converted anyway: the borrower has the money.
    """
    uow = transfers.uow

    def attempt() -> tuple[Loan, TransferIntent]:
        with uow:
            stored = uow.intents.get(intent.user_id, intent.intent_id)
            made = uow.loans.by_application(intent.user_id, intent.account_id)
            if made is not None:  # a concurrent acceptance got the same answer and booked it
                return made, stored
            application = uow.loan_applications.get(intent.user_id, intent.account_id)
            loan = make_loan(application, transfer.rail, transfer.confirmation_id)
            uow.loans.add(loan)
            uow.loan_applications.save(application)
            booked = transfers.movements.booked(
                uow, stored, transfer, outcome=loan.loan_id, events=list(loan.outbox.events)
            )
            uow.commit(actor="api", request_id=intent.request_key)
            return loan, booked

    with transfers.booking(transfer, what="loan disbursement", details=intent_details(intent)):
        return retry_on_conflict(attempt)
