"""Acceptance discloses the offer again when the disbursement date moved its schedule.

An agreement discloses a schedule running from the day it was made; a loan's schedule
runs from the day the money goes out. Regulation Z (12 CFR 1026.17(f)) wants terms made
inaccurate before consummation disclosed again before it: the acceptance is refused with
`TermsChanged`, nothing moves, and the borrower accepts the new agreement. Money that
already moved is never refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from deployment import Deployment
from fakes import Crash, crash_after

from loc_adapters.memory import InMemoryDocumentStore, TextRenderer
from loc_core.applications import ApplicationStatus
from loc_core.disclosures import LoanDisclosure, ScheduledPayment, annual_percentage_rate
from loc_core.errors import NotFound, TermsChanged
from loc_core.installment import Loan, LoanApplication
from loc_core.intents import IntentKind, TransferIntent, request_fingerprint
from loc_core.payments import Direction, Rail
from loc_core.ports import DocumentStore, Severity, TransferRequest, UnitOfWork
from loc_core.services.commands import (
    AcceptOffer,
    GetApplicationAgreement,
    GetLoanAgreement,
    ReadDocument,
    RecoverTransfers,
    RenderDocument,
)
from loc_core.services.filing import DocumentFiler, DocumentKind
from loc_core.services.loans import disbursement_key
from loc_core.services.loans.disbursement import (
    AUTOPAY_CHOICE,
    DISBURSEMENT_RAILS,
    disbursement_intent_id,
)
from loc_entrypoints.http.problems import problem_for

FRIDAY_NIGHT = dt.datetime(2026, 4, 10, 23, 30, tzinfo=dt.UTC)
"""The offer is approved late on Friday 10 April 2026 (UTC)."""
SATURDAY = dt.datetime(2026, 4, 11, 0, 30, tzinfo=dt.UTC)
"""An hour later, well inside the offer's 24 hours, it is Saturday."""
FRIDAYS_DUE_DATES = [
    "2026-04-24",
    "2026-05-08",
    "2026-05-22",
    "2026-06-05",
    "2026-06-22",
    "2026-07-03",
]
SATURDAYS_DUE_DATES = [
    "2026-04-27",
    "2026-05-11",
    "2026-05-26",
    "2026-06-08",
    "2026-06-22",
    "2026-07-06",
]


class _Renderer(TextRenderer):
    """The text renderer, keeping every agreement it rendered."""

    agreements: list[bytes]
    failures: int
    """How many of the next renders fail."""
    during_render: Callable[[], None] | None
    """Run once, while the next agreement is being rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.agreements, self.failures, self.during_render = [], 0, None

    def agreement(self, disclosure: LoanDisclosure, *, borrower_name: str) -> bytes:
        meanwhile, self.during_render = self.during_render, None
        if meanwhile is not None:
            meanwhile()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("renderer unavailable")
        body = super().agreement(disclosure, borrower_name=borrower_name)
        self.agreements.append(body)
        return body


def rendering_world(now: dt.datetime) -> tuple[Deployment, _Renderer]:
    """A deployment at `now` that files agreements (as text) for user-1, an active borrower."""
    world = Deployment.build(now=now)
    store, renderer = InMemoryDocumentStore(), _Renderer()
    filer = DocumentFiler(store, world.users, world.alerter, world.queue, renderer)
    world.bus = world.bus.replacing({DocumentStore: store, DocumentFiler: filer})
    world.users.add("user-1")
    return world, renderer


def agreement(world: Deployment, application_id: str) -> dict[str, Any]:
    """The figures of the agreement the borrower gets for the application, as the API serves it."""
    link = world.bus.handle(GetApplicationAgreement("user-1", application_id))
    key = link.url.removeprefix("/documents/")
    body = world.bus.handle(ReadDocument("user-1", key)).decode()
    figures: dict[str, Any] = json.loads(body.split("\n", 2)[2])["figures"]
    return figures


def due_dates(figures: dict[str, Any]) -> list[str]:
    return [payment["due_date"] for payment in figures["payments"]]


def schedule_of(loan: Loan) -> list[tuple[str, int]]:
    return [(i.due_date.isoformat(), i.total_amount) for i in loan.installments]


def apr_of(loan: Loan) -> Decimal:
    """The APR of the loan actually made, from its own schedule and disbursement date."""
    return annual_percentage_rate(
        amount_financed=loan.amount_disbursed,
        advanced_on=loan.disbursement_date,
        payments=[
            ScheduledPayment(number=i.number, due_date=i.due_date, amount=i.total_amount)
            for i in loan.installments
        ],
    )


def loans_of(world: Deployment) -> list[Loan]:
    with world.bus.get(UnitOfWork) as uow:
        return uow.loans.for_user("user-1")


def test_an_offer_accepted_the_day_after_its_agreement_is_disclosed_again_first() -> None:
    world, renderer = rendering_world(FRIDAY_NIGHT)
    offer = world.apply_loan()
    first = agreement(world, offer.application_id)
    assert (due_dates(first), first["annual_percentage_rate"]) == (FRIDAYS_DUE_DATES, "36.34")
    world.clock.set(SATURDAY)

    with pytest.raises(TermsChanged, match="review the new agreement and accept again") as refused:
        world.accept_loan(offer.application_id)

    assert (refused.value.entity_id, refused.value.user_id) == (offer.application_id, "user-1")
    problem = problem_for(refused.value)
    assert (problem.status, problem.type) == (422, "https://loc.dev/problems/terms-changed")
    # nothing was disbursed: no rail was asked, no loan, not a cent in the books
    assert (world.sim.submitted, loans_of(world), world.database.ledger.balances()) == ([], [], {})
    assert world.sent() == []
    application = world.loan_application(offer.application_id)
    assert (application.status, application.loan_id) == (ApplicationStatus.APPROVED, None)
    assert application.disclosed_on == SATURDAY.date()
    # the agreement the borrower now reads is the one of a disbursement today
    second = agreement(world, offer.application_id)
    assert (second["disclosed_on"], second["annual_percentage_rate"]) == ("2026-04-11", "35.12")
    assert due_dates(second) == SATURDAYS_DUE_DATES
    assert len(renderer.agreements) == 2
    [change] = [
        record.change
        for record in world.audit("application", offer.application_id)
        if record.change.reason.startswith("disclosed again")
    ]
    assert change.process == "UNDERWRITING"

    world.clock.advance(dt.timedelta(minutes=10))  # the borrower reviews it and accepts again
    loan = world.accept_loan(offer.application_id)

    assert loan.disbursement_date == SATURDAY.date()
    assert schedule_of(loan) == [(p["due_date"], p["amount"]) for p in second["payments"]]
    assert apr_of(loan) == Decimal(second["annual_percentage_rate"])
    assert len(world.sim.submitted) == 1
    assert len(renderer.agreements) == 2  # accepting the terms disclosed files nothing more
    assert agreement(world, offer.application_id) == second


def test_the_agreement_first_given_stays_stored_beside_the_new_one() -> None:
    """Regulation Z keeps evidence of every disclosure given (12 CFR 1026.25): the new
    agreement is filed under its own key and the one the borrower read first is kept."""
    world, renderer = rendering_world(FRIDAY_NIGHT)
    offer = world.apply_loan()
    first_key = world.bus.handle(GetApplicationAgreement("user-1", offer.application_id)).url
    world.clock.set(SATURDAY)
    with pytest.raises(TermsChanged):
        world.accept_loan(offer.application_id)

    second_key = world.bus.handle(GetApplicationAgreement("user-1", offer.application_id)).url
    assert (first_key, second_key) == (
        f"/documents/agreements/user-1/{offer.application_id}.pdf",
        f"/documents/agreements/user-1/{offer.application_id}/disclosed-2026-04-11.pdf",
    )
    stored = [
        world.bus.handle(ReadDocument("user-1", key.removeprefix("/documents/")))
        for key in (first_key, second_key)
    ]
    assert stored == renderer.agreements  # the Friday agreement is unchanged
    loan = world.accept_loan(offer.application_id)
    assert world.bus.handle(GetLoanAgreement("user-1", loan.loan_id)).url == second_key


def test_an_agreement_rendered_while_the_offer_is_disclosed_again_is_not_filed_for_it() -> None:
    """A retried render of Friday's agreement is under way when Saturday's acceptance
    discloses the offer again (and its own render fails): Friday's agreement must not be
    filed as the offer's, or the borrower would read terms the loan will not have."""
    world, renderer = rendering_world(FRIDAY_NIGHT)
    renderer.failures = 1  # the approval's render fails: a retry is queued
    offer = world.apply_loan()
    world.clock.set(SATURDAY)

    def acceptance_meanwhile() -> None:
        renderer.failures = 1  # the redisclosure's own render fails too
        with pytest.raises(TermsChanged):
            world.accept_loan(offer.application_id)

    renderer.during_render = acceptance_meanwhile
    retry = RenderDocument(DocumentKind.AGREEMENT, "user-1", offer.application_id)
    world.bus.handle(retry)

    assert world.loan_application(offer.application_id).agreement_key is None
    with pytest.raises(NotFound):
        agreement(world, offer.application_id)
    world.bus.handle(retry)  # the queued retry renders the terms disclosed now
    assert due_dates(agreement(world, offer.application_id)) == SATURDAYS_DUE_DATES


def test_a_weekend_day_later_with_the_same_due_dates_is_disclosed_again_for_its_apr() -> None:
    """Saturday's and Sunday's schedules both roll to Mondays, but a day less of credit
    for the same payments costs 0.72 points of APR: more than Regulation Z's 1/8."""
    world, renderer = rendering_world(dt.datetime(2026, 4, 11, 10, tzinfo=dt.UTC))
    offer = world.apply_loan()
    first = agreement(world, offer.application_id)
    world.at(dt.date(2026, 4, 12), hour=9)
    with pytest.raises(TermsChanged):
        world.accept_loan(offer.application_id)
    second = agreement(world, offer.application_id)
    assert due_dates(second) == due_dates(first) == SATURDAYS_DUE_DATES
    assert (first["annual_percentage_rate"], second["annual_percentage_rate"]) == ("35.12", "35.84")
    loan = world.accept_loan(offer.application_id)
    assert apr_of(loan) == Decimal("35.84")
    assert len(renderer.agreements) == 2


def test_an_offer_accepted_the_day_it_was_made_is_not_disclosed_again() -> None:
    world, renderer = rendering_world(FRIDAY_NIGHT - dt.timedelta(hours=12))
    offer = world.apply_loan()
    disclosed = agreement(world, offer.application_id)
    world.clock.advance(dt.timedelta(hours=11, minutes=59))  # 23:29, still Friday
    loan = world.accept_loan(offer.application_id)
    assert schedule_of(loan) == [(p["due_date"], p["amount"]) for p in disclosed["payments"]]
    assert apr_of(loan) == Decimal(disclosed["annual_percentage_rate"])
    assert len(renderer.agreements) == 1
    application = world.loan_application(offer.application_id)
    assert (application.redisclosed_on, application.disclosed_on) == (None, FRIDAY_NIGHT.date())
    assert world.audit_processes("application", offer.application_id) == [
        "UNDERWRITING",
        "UNDERWRITING",  # the agreement's key, saved on approval
        "CREATION",
    ]


def test_without_a_renderer_the_offer_is_still_disclosed_again() -> None:
    """With no document to file, the offer's terms still move: the loan is made on them."""
    world = Deployment.build(now=FRIDAY_NIGHT)
    world.users.add("user-1")
    offer = world.apply_loan()
    world.clock.set(SATURDAY)
    with pytest.raises(TermsChanged):
        world.accept_loan(offer.application_id)
    application = world.loan_application(offer.application_id)
    assert [line.due_date.isoformat() for line in application.proposed_schedule] == (
        SATURDAYS_DUE_DATES
    )
    assert application.agreement_key is None
    assert world.sim.submitted == []
    loan = world.accept_loan(offer.application_id)
    assert [i.due_date for i in loan.installments] == [
        line.due_date for line in application.proposed_schedule
    ]


# --- money that moved is never refused -------------------------------------------------


def test_the_recovery_job_books_a_disbursement_from_the_day_the_money_went_out() -> None:
    """Accepted Monday, its process died after the rail paid; the job books it Tuesday."""
    world, renderer = rendering_world(dt.datetime(2026, 4, 13, 10, tzinfo=dt.UTC))
    offer = world.apply_loan()
    disclosed = agreement(world, offer.application_id)
    world.rails.handler = crash_after(world.sim, {Rail.PINLESS})
    with pytest.raises(Crash):
        world.bus.handle(AcceptOffer("user-1", offer.application_id))
    world.at(dt.date(2026, 4, 14), hour=7)  # the next morning's run

    assert world.bus.handle(RecoverTransfers()).booked == 1

    [loan] = loans_of(world)
    assert loan.disbursement_date == dt.date(2026, 4, 13)  # not the 14th, when it was booked
    assert schedule_of(loan) == [(p["due_date"], p["amount"]) for p in disclosed["payments"]]
    assert apr_of(loan) == Decimal(disclosed["annual_percentage_rate"])
    assert [e.effective_date for e in world.ledger(loan.loan_id)] == [dt.date(2026, 4, 13)]
    assert len(renderer.agreements) == 1
    assert world.alerts(Severity.WARNING) == []


def test_a_disbursement_accepted_after_its_redisclosure_is_recovered_on_those_terms() -> None:
    world, _ = rendering_world(FRIDAY_NIGHT)
    offer = world.apply_loan()
    world.clock.set(SATURDAY)
    with pytest.raises(TermsChanged):
        world.accept_loan(offer.application_id)
    world.rails.handler = crash_after(world.sim, {Rail.PINLESS})
    with pytest.raises(Crash):
        world.bus.handle(AcceptOffer("user-1", offer.application_id))
    world.at(dt.date(2026, 4, 13), hour=7)  # Monday: the offer lapsed, the money moved

    assert world.bus.handle(RecoverTransfers()).booked == 1

    [loan] = loans_of(world)
    disclosed = agreement(world, offer.application_id)
    assert loan.disbursement_date == SATURDAY.date()
    assert schedule_of(loan) == [(p["due_date"], p["amount"]) for p in disclosed["payments"]]
    assert due_dates(disclosed) == SATURDAYS_DUE_DATES
    assert len(world.sim.submitted) == 1
    assert world.alerts(Severity.WARNING) == []  # the loan made is the one disclosed


def money_moved_without_a_disclosure_check(world: Deployment, offer: LoanApplication) -> None:
    """A disbursement under way when this check was deployed: its intent was opened and the
    rail paid the borrower today, then the process died (as `accept_offer` did before)."""
    now = world.clock.now()
    intent = TransferIntent(
        intent_id=disbursement_intent_id("user-1", offer.application_id),
        user_id="user-1",
        kind=IntentKind.DISBURSEMENT,
        account_id=offer.application_id,
        item_id=AUTOPAY_CHOICE[True],
        direction=Direction.CREDIT,
        amount=offer.amount_disbursed,
        rails=DISBURSEMENT_RAILS,
        fingerprint=request_fingerprint("accept_offer", "user-1", offer.application_id),
        request_key=offer.application_id,
        created_at=now,
        updated_at=now,
    )
    with world.bus.get(UnitOfWork) as uow:
        uow.intents.add(intent)
        uow.commit(actor="intent", request_id=offer.application_id)
    key = disbursement_key("user-1", offer.application_id, Rail.PINLESS)
    request = TransferRequest(
        key, Rail.PINLESS, Direction.CREDIT, "user-1", offer.amount_disbursed, offer.application_id
    )
    assert world.sim.submit(request).accepted


def test_money_that_moved_on_undisclosed_terms_is_booked_and_the_agreement_filed_again() -> None:
    world, renderer = rendering_world(FRIDAY_NIGHT)
    offer = world.apply_loan()
    world.clock.set(SATURDAY)
    money_moved_without_a_disclosure_check(world, offer)
    world.at(dt.date(2026, 4, 13), hour=7)

    assert world.bus.handle(RecoverTransfers()).booked == 1

    [loan] = loans_of(world)
    disclosed = agreement(world, offer.application_id)
    assert loan.disbursement_date == SATURDAY.date()
    assert due_dates(disclosed) == SATURDAYS_DUE_DATES
    assert schedule_of(loan) == [(p["due_date"], p["amount"]) for p in disclosed["payments"]]
    assert apr_of(loan) == Decimal(disclosed["annual_percentage_rate"])
    assert len(renderer.agreements) == 2
    application = world.loan_application(offer.application_id)
    assert (application.loan_id, application.disclosed_on) == (loan.loan_id, SATURDAY.date())
    [alert] = world.alerts(Severity.WARNING)
    assert alert.title == "loan made on terms its agreement did not disclose: agreement filed again"
    assert (alert.details["loan_id"], alert.details["disbursed_on"]) == (loan.loan_id, "2026-04-11")
    assert world.sent() == ["loan_disbursed"]
