"""Accepting an offer: the money goes out exactly once, and the loan is booked with it.

The disbursement's rail keys are derived from the user and application
(`disbursement_key`), so a retry after a crash between the rail's answer and the commit
gets the same answer back and never sends the money twice. The loan, the converted
application, the disbursement entry and the audit trail are one commit.

The loan's schedule runs from the day the money goes out, and the agreement disclosed a
schedule running from the offer's `disclosed_on` day. Before anything is sent, an
acceptance whose loan would not be the one disclosed (`disclosure_holds`) discloses the
offer again as of today, files its new agreement and is refused with `TermsChanged`
(Regulation Z 1026.17(f)); the borrower reviews it and accepts again. Money that moved
is never refused: a booking whose loan differs from the disclosure (a disbursement
booked by a retry or the recovery job from an intent opened before that check) files the
agreement of the loan made and alerts operations.

Acceptance runs the eligibility rules of applying again before anything is sent
(`check_eligibility`): an offer is accepted only by an active user with no OPEN or
DEFAULTED loan and no other offer's disbursement pending (`disbursement_pending`). The
offer was made on the borrower's standing when they applied; the money goes out on
their standing now (a user deactivated since, or a loan booked since, gets nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

import attrs

from loc_core.applications import ApplicationStatus
from loc_core.disclosures.loans import disclosure_holds
from loc_core.errors import ApplicationAlreadyConverted, NotEligible, Ref, TermsChanged
from loc_core.installment import (
    InstallmentProduct,
    Loan,
    LoanApplication,
    ScheduledInstallment,
    build_schedule,
    check_eligibility,
    check_origination,
    originate,
)
from loc_core.intents import IntentKind, IntentStatus, TransferIntent, request_fingerprint
from loc_core.payments import Direction, Rail
from loc_core.ports import Clock, IdGenerator, Lock, UnitOfWork, Users
from loc_core.services.filing import DocumentFiler, file_agreement
from loc_core.services.kit import committed_alert, leased, lock_key, moment, retry_on_conflict
from loc_core.services.loans.booking import LoanTransfers, intent_details
from loc_core.services.messagebus import Command
from loc_core.services.rails import Transfer
from loc_core.validation import Id, from_key_part, key_part, valid_flag, validated

__all__ = [
    "APPLICATION_LEASE",
    "DISBURSEMENT_RAILS",
    "AcceptOffer",
    "LoanMaker",
    "Originator",
    "accept_offer",
    "application_lease_key",
    "book_disbursement",
    "disbursed_on",
    "disbursement_intent_id",
    "disbursement_key",
    "disbursement_pending",
    "parse_disbursement_key",
]

DISBURSEMENT_RAILS: tuple[Rail, ...] = (Rail.PINLESS, Rail.ACH)
"""Loan proceeds go out by pinless debit card push first (instant), then ACH."""

_DISBURSE = "disburse"

AUTOPAY_CHOICE = {True: "autopay", False: "manual"}
"""A disbursement intent's `item_id`: the borrower's autopay choice, which the loan needs."""


APPLICATION_LEASE = dt.timedelta(seconds=30)
"""How long one borrower's application (or an acceptance's checks) is protected from a
concurrent one."""


def application_lease_key(user_id: str) -> str:
    """The borrower's loan application lease: applying and accepting an offer hold it.

    ``loc-loan-application:user_id:<u>:item_id:installment``: deciding an application and
    checking an acceptance up to its disbursement intent never run at once for one
    borrower, so an offer and a disbursement cannot both pass each other's checks.
    """
    return lock_key("loan-application", user_id=user_id, item_id="installment")


def disbursement_intent_id(user_id: str, application_id: str) -> str:
    """The intent of an application's disbursement: ``disburse:<user>:<application>``.

    Each id is a `key_part` (a ``:`` inside an id is escaped, so ``us-east-1:4f9a`` stays
    one field).
    """
    return f"{_DISBURSE}:{key_part(user_id)}:{key_part(application_id)}"


def disbursement_pending(
    uow: UnitOfWork, user_id: str, applications: Iterable[LoanApplication]
) -> bool:
    """Whether one of `applications` (the user's) has a disbursement neither booked nor abandoned.

    Such an offer may already have paid the borrower (a rail failed with its outcome
    unknown, or a process died after the rail): its loan is booked by the retry or the
    recovery job, so no other loan may be offered or made meanwhile. Only offers not yet
    converted are asked (each one read by its intent id, consistently). Call inside `uow`.
    """
    for application in applications:
        if application.loan_id is not None or application.status is ApplicationStatus.REJECTED:
            continue
        intent = uow.intents.find(disbursement_intent_id(user_id, application.application_id))
        if (
            intent is not None
            and intent.user_id == user_id
            and intent.status is IntentStatus.PENDING
        ):
            return True
    return False


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


def disbursed_on(intent: TransferIntent) -> dt.date:
    """The day a disbursement's money went out: the day its intent was last opened.

    The rails are asked right after the intent is committed, or reopened after every rail
    declined (its `updated_at`). A settlement event held since (`TransferIntent.hold`)
    stamps the intent later; then the day it was first opened is taken (a reopened intent
    holding an event is the one case this can misdate, by the days between the two).
    """
    opened = intent.created_at if intent.held_events else intent.updated_at
    return opened.date()


class LoanMaker(Protocol):
    """Makes the loan of an offer disbursed by `rail` (`Originator.maker`)."""

    def __call__(
        self, offer: LoanApplication, rail: Rail, confirmation_id: str, disbursed_on: dt.date
    ) -> Loan:
        """The loan, with new ids, its schedule from `disbursed_on`; `offer` is converted."""
        ...

    def check(self, offer: LoanApplication, rail: Rail) -> None:
        """Refuse, changing nothing, an offer the call would refuse (before money moves)."""
        ...

    def file_agreement(self, offer: LoanApplication) -> None:
        """File the agreement of the offer's terms as stored (never raises, as on approval)."""
        ...


@attrs.frozen
class _Maker:
    """A `LoanMaker` for one borrower at one moment (`Originator.maker`)."""

    originator: Originator
    autopay_enabled: bool
    account_last_four: str | None
    now: dt.datetime

    def __call__(
        self, offer: LoanApplication, rail: Rail, confirmation_id: str, disbursed_on: dt.date
    ) -> Loan:
        """The loan, with new ids, its schedule from `disbursed_on`; `offer` is converted."""
        new_id = self.originator.ids.new_id
        return originate(
            offer,
            product=self.originator.product,
            loan_id=new_id(),
            installment_id=lambda _number: new_id(),
            disbursed_on=disbursed_on,
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

    def file_agreement(self, offer: LoanApplication) -> None:
        """File the agreement of the offer's terms as stored (`file_agreement`)."""
        originator = self.originator
        file_agreement(
            offer,
            filer=originator.filer,
            uow=originator.uow,
            clock=originator.clock,
            product=originator.product,
        )


@attrs.frozen
class Originator:
    """Making a loan from an offer: what acceptance and the recovery job share."""

    users: Users
    ids: IdGenerator
    clock: Clock
    product: InstallmentProduct
    uow: UnitOfWork
    filer: DocumentFiler
    """Files an agreement when an offer's terms are disclosed again."""

    def maker(self, user_id: str, *, autopay_enabled: bool) -> LoanMaker:
        """A function making the loan of `user_id`'s offer, disbursed by a rail, booked now."""
        user = self.users.get(user_id)
        now, _ = moment(self.clock)
        return _Maker(self, autopay_enabled, user.account_last_four or None, now)


def accept_offer(
    command: AcceptOffer,
    *,
    transfers: LoanTransfers,
    originator: Originator,
    clock: Clock,
    lock: Lock,
) -> Loan:
    """Disburse the offer (pinless push first, then ACH) and book the loan, exactly once.

    A repeat after success returns the loan already made. When every rail declines or is
    down, nothing is booked and the offer stays open (operations are alerted when every
    rail is down); the borrower may try again while the offer lives. The disbursement's
    transfer intent is committed before any rail is asked, so a retry after a crash (or
    the recovery job) books the loan the money went out for, even if the offer expired
    meanwhile.

    Before anything is sent, the loan it would make today must be the one the offer's
    agreement disclosed (`disclosure_holds`); otherwise the offer is disclosed again as of
    today and the acceptance refused. A resumed intent is not checked: its money may
    have moved.

    The borrower must still pass the rules of applying (`check_eligibility`): active, no
    OPEN or DEFAULTED loan, no other offer's disbursement pending; a resumed intent is not
    asked either.

    Raises:
        NotFound: for an unknown application or user.
        ApplicationNotApproved, ApplicationExpired, ApplicationAlreadyConverted: when
            the offer cannot be accepted now; nothing was sent.
        NotEligible: with every rule of applying the borrower fails now (the offer being
            accepted counts as no live offer); nothing was sent.
        LockNotAcquired: while an application (or another acceptance's checks) of the
            borrower holds their application lease; nothing was sent, retry.
        TermsChanged: when the schedule moved with the disbursement date: the offer was
            disclosed again (new terms committed, new agreement filed); nothing was sent.
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
            _require_same_choice(stored, command, made)
        return made
    # Under the borrower's application lease, as applying: an application decided
    # meanwhile sees this intent (`disbursement_pending`), and this check sees its offer.
    lease = application_lease_key(command.user_id)
    with leased(lock, lease, owner=f"accept:{command.application_id}", ttl=APPLICATION_LEASE):
        intent, make_loan = _open_intent(command, transfers, originator, stored, now=now)
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


def _open_intent(
    command: AcceptOffer,
    transfers: LoanTransfers,
    originator: Originator,
    stored: TransferIntent | None,
    *,
    now: dt.datetime,
) -> tuple[TransferIntent, LoanMaker]:
    """Check the acceptance and commit its disbursement intent; the intent and the maker.

    An open `stored` intent is not checked: its money may have moved.
    """
    uow = transfers.uow
    with uow:
        application = uow.loan_applications.get(command.user_id, command.application_id)
        resuming = stored is not None and stored.is_open  # the money may have moved
        if not resuming:
            application.require_convertible(now)
            _require_eligible(uow, originator, application, now=now)
    make_loan = originator.maker(command.user_id, autopay_enabled=command.autopay_enabled)

    if not resuming:  # everything originate checks, before any money moves
        make_loan.check(application, DISBURSEMENT_RAILS[0])
        _require_disclosed_terms(application, originator=originator, now=now)
    intent = transfers.movements.open(
        TransferIntent(
            intent_id=disbursement_intent_id(command.user_id, command.application_id),
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
    return intent, make_loan


def _require_eligible(
    uow: UnitOfWork, originator: Originator, offer: LoanApplication, *, now: dt.datetime
) -> None:
    """Refuse an acceptance by a borrower who would not be let apply now (inside `uow`).

    Raises:
        NotFound: no such user.
        NotEligible: with every failed rule but `LIVE_APPLICATION` (the offer accepted).
    """
    user_id = offer.user_id
    others = [
        application
        for application in uow.loan_applications.for_user(user_id)
        if application.application_id != offer.application_id
    ]
    reasons = check_eligibility(
        user_active=originator.users.get(user_id).active,
        loan_statuses=[loan.status for loan in uow.loans.for_user(user_id)],
        applications=(),
        now=now,
        disbursing=disbursement_pending(uow, user_id, others),
    )
    if reasons:
        raise NotEligible(reasons, user_id=user_id)


def _require_same_choice(intent: TransferIntent, command: AcceptOffer, made: Loan) -> None:
    """Refuse an acceptance of a converted offer that asks for another autopay choice.

    A repeat of the acceptance that made the loan (a retry after a crash) returns it; one
    asking for the other choice is a new request the loan cannot answer by itself.

    Raises:
        ApplicationAlreadyConverted: the loan was made with the other choice.
    """
    if intent.item_id == AUTOPAY_CHOICE[command.autopay_enabled]:
        return
    chosen = "on" if intent.item_id == AUTOPAY_CHOICE[True] else "off"
    raise ApplicationAlreadyConverted(
        f"application {command.application_id} already became loan {made.loan_id}, accepted "
        f"with autopay {chosen}: change autopay on the loan instead",
        about=Ref("loan_application", command.application_id, command.user_id),
    )


def _require_disclosed_terms(
    application: LoanApplication, *, originator: Originator, now: dt.datetime
) -> None:
    """Refuse, after disclosing the offer again, an acceptance whose loan was not disclosed.

    Raises:
        TermsChanged: the loan disbursed today would not be the one disclosed.
    """
    today = now.date()
    schedule = build_schedule(
        total_amount=application.total_amount,
        count=len(application.proposed_schedule),
        disbursed_on=today,
        product=originator.product,
    )
    if disclosure_holds(application, schedule=schedule, disbursed_on=today):
        return
    uow = originator.uow
    reason = (
        f"disclosed again as of {today.isoformat()}: the schedule moved with the disbursement date"
    )

    def attempt() -> LoanApplication:
        with uow:
            stored = uow.loan_applications.get(application.user_id, application.application_id)
            stored.require_convertible(now)  # a concurrent acceptance may have made the loan
            if disclosure_holds(stored, schedule=schedule, disbursed_on=today):
                return stored  # a concurrent acceptance disclosed it again already
            stored.disclose_again(schedule=schedule, disclosed_on=today, now=now, reason=reason)
            uow.loan_applications.save(stored)
            uow.commit(actor="api", request_id=f"disclose:{application.application_id}")
            return stored

    redisclosed = retry_on_conflict(attempt)
    file_agreement(
        redisclosed,
        filer=originator.filer,
        uow=uow,
        clock=originator.clock,
        product=originator.product,
    )
    raise TermsChanged(
        f"application {application.application_id} disclosed its terms for a disbursement "
        f"on {application.disclosed_on.isoformat()}; disbursed on {today.isoformat()} its "
        "schedule and APR move with the disbursement date, so it was disclosed again: "
        "review the new agreement and accept again",
        about=application.ref,
    )


def book_disbursement(
    transfers: LoanTransfers,
    intent: TransferIntent,
    transfer: Transfer,
    make_loan: LoanMaker,
) -> tuple[Loan, TransferIntent]:
    """Book the loan whose proceeds `transfer` sent, with its intent BOOKED, in one commit.

    An offer that expired meanwhile is converted anyway: the borrower has the money. The
    schedule runs from the day the money went out (`disbursed_on`), whenever it is
    booked. A loan that is not the one the offer disclosed is booked all the same, with
    the offer disclosed again on the loan's terms in the same commit; then its agreement
    is filed and operations are alerted (WARNING): the borrower signed other terms.
    """
    uow = transfers.uow
    day = disbursed_on(intent)

    def attempt() -> tuple[Loan, TransferIntent, LoanApplication | None]:
        with uow:
            stored = uow.intents.get(intent.user_id, intent.intent_id)
            made = uow.loans.by_application(intent.user_id, intent.account_id)
            if made is not None:  # a concurrent acceptance got the same answer and booked it
                return made, stored, None
            application = uow.loan_applications.get(intent.user_id, intent.account_id)
            disclosed_on = application.disclosed_on
            loan = make_loan(application, transfer.rail, transfer.confirmation_id, day)
            schedule = tuple(
                ScheduledInstallment(i.total_amount, i.due_date) for i in loan.installments
            )
            restated = not disclosure_holds(application, schedule=schedule, disbursed_on=day)
            if restated:
                application.disclose_again(
                    schedule=schedule,
                    disclosed_on=day,
                    now=loan.created_at,
                    reason=(
                        f"disclosed again as loan {loan.loan_id} was made: disbursed on "
                        f"{day.isoformat()}, not on {disclosed_on.isoformat()} as disclosed"
                    ),
                )
            uow.loans.add(loan)
            uow.loan_applications.save(application)
            if restated:  # committed with the loan: a crash after it cannot lose it
                loan.outbox.events.append(
                    committed_alert(
                        "loan made on terms its agreement did not disclose: agreement filed again",
                        {
                            **intent_details(intent),
                            "loan_id": loan.loan_id,
                            "disbursed_on": day.isoformat(),
                            "first_due_date": loan.installments[0].due_date.isoformat(),
                        },
                        user_id=loan.user_id,
                        subject_id=loan.loan_id,
                        on=day,
                    )
                )
            booked = transfers.movements.booked(
                uow, stored, transfer, outcome=loan.loan_id, events=list(loan.outbox.events)
            )
            uow.commit(actor="api", request_id=intent.request_key)
            return loan, booked, application if restated else None

    with transfers.booking(transfer, what="loan disbursement", details=intent_details(intent)):
        loan, booked, restated = retry_on_conflict(attempt)
    if restated is not None:
        # A crash before this leaves the application without an agreement key: the
        # missing-documents job files it (`filing.render_missing_documents`).
        make_loan.file_agreement(restated)
    return loan, booked
