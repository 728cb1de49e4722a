"""A loan approved for less than requested is a counteroffer: its notice is filed with it.

Regulation B (12 CFR 1002.9(a)(1)(iv), comment 9(a)(1)-6, model form C-4): an offer of
less than the amount requested is a counteroffer, and an applicant who neither accepts
nor uses it is owed an adverse action notice. The combined counteroffer and adverse
action notice is filed when the counteroffer is made: the approval keeps the amount
requested, underwriting's reasons and the consumer report its decision used, commits an
``application_countered`` event, and publishing it files the notice before the borrower
is told. Before, the approval kept none of these and nobody was sent a notice.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import attrs
import pytest
from adverse_actions import REPORT
from deployment import LINES_OPENED, Deployment

from loc_adapters.iterable.contract import track_body
from loc_adapters.memory import InMemoryDocumentStore, SimulatedUnderwriting, TextRenderer
from loc_adapters.memory.people import CAPPED
from loc_core.applications import ApplicationStatus
from loc_core.bookkeeping import Product
from loc_core.errors import ExternalServiceError, InvalidRequest, NotFound
from loc_core.events import DomainEvent, EventType
from loc_core.installment import OriginationFee
from loc_core.ports import (
    DocumentStore,
    IdGenerator,
    LineDecision,
    LoanDecision,
    Underwriting,
    UnitOfWork,
)
from loc_core.ports.documents import adverse_action_notice_key
from loc_core.services.commands import (
    ApplyForLoan,
    DocumentKind,
    GetAdverseActionNotice,
    RenderDocument,
)
from loc_core.services.filing import DocumentFiler

VISIBILITY = dt.timedelta(minutes=5)


def rendering(*, fail: int = 0) -> tuple[Deployment, InMemoryDocumentStore]:
    """Loans above $400.00 are offered $400.00; the decision used `REPORT`."""
    underwriting = SimulatedUnderwriting(
        loan_approval_probability=1, max_loan_amount=40_000, consumer_report=REPORT
    )
    world = Deployment.build(now=LINES_OPENED, overrides={Underwriting: underwriting})
    store, renderer = InMemoryDocumentStore(), TextRenderer(fail_next=fail)
    filer = DocumentFiler(store, world.users, world.alerter, world.queue, renderer)
    world.bus = world.bus.replacing({DocumentStore: store, DocumentFiler: filer})
    world.users.add("alice")
    return world, store


def countered(world: Deployment) -> list[DomainEvent]:
    return [e for e in world.notifier.sent if e.type is EventType.APPLICATION_COUNTERED]


def figures(store: InMemoryDocumentStore, application_id: str) -> dict[str, object]:
    head, kind, rest = (
        store.get(adverse_action_notice_key("alice", application_id)).decode().split("\n", 2)
    )
    assert (head, kind) == ("loc text rendering", "adverse_action_notice")
    shown: dict[str, object] = json.loads(rest)["figures"]
    return shown


class Offering:
    """Underwriting that approves everyone for `loan_amount` at 5%, saying nothing why."""

    def __init__(self, loan_amount: int) -> None:
        self.loan_amount = loan_amount

    def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
        del user_id, requested_amount
        return LoanDecision(
            approved=True, loan_amount=self.loan_amount, fee=OriginationFee.percentage(Decimal(5))
        )

    def decide_line(self, user_id: str) -> LineDecision:
        del user_id
        return LineDecision(approved=False)


def test_a_counteroffer_files_the_combined_notice_and_tells_the_applicant_once() -> None:
    world, store = rendering()
    apply = ApplyForLoan("alice", 45_000, "apply-1")

    offer = world.bus.handle(apply)
    assert world.bus.handle(apply).application_id == offer.application_id  # a repeat

    app_id = offer.application_id
    assert (offer.status, offer.loan_amount, offer.requested_amount) == (
        ApplicationStatus.APPROVED,
        40_000,
        45_000,
    )
    assert (offer.adverse_actions, offer.consumer_report) == ((CAPPED,), REPORT)
    [event] = countered(world)
    assert event.data["offered_amount"] == 40_000
    assert event.data["requested_amount"] == 45_000
    assert event.data["reason_1_code"] == CAPPED.code
    assert event.data["document"] == f"/loans/applications/{app_id}/adverse-action-notice"
    sent = track_body(event)["dataFields"]  # what Iterable gets: never the consumer report
    assert sent["offered_amount"] == 40_000
    assert not [name for name in sent if name.startswith("report_")]

    shown = figures(store, app_id)
    assert shown["requested_amount"] == 45_000
    assert shown["counteroffer"]["loan_amount"] == 40_000  # type: ignore[index]  # a JSON object
    assert shown["counteroffer"]["total_amount"] == 42_000  # type: ignore[index]  # a JSON object
    assert [r["code"] for r in shown["reasons"]] == [CAPPED.code]  # type: ignore[attr-defined]  # a JSON list
    assert shown["consumer_report"]["agency_name"] == REPORT.agency_name  # type: ignore[index]  # a JSON object
    link = world.bus.handle(GetAdverseActionNotice("alice", app_id, Product.INSTALLMENT))
    assert link.url.endswith(adverse_action_notice_key("alice", app_id))

    record = world.audit("application", app_id)[0]  # its creation (then its agreement's key)
    audited = {f.field: f.new for f in record.change.fields}
    assert audited["requested_amount"] == 45_000
    assert audited["adverse_actions"] == CAPPED.code


def test_an_offer_of_the_amount_requested_is_no_counteroffer_and_has_no_notice() -> None:
    world, store = rendering()
    offer = world.bus.handle(ApplyForLoan("alice", 40_000, "apply-1"))
    assert (offer.requested_amount, offer.is_counteroffer, offer.adverse_actions) == (
        40_000,
        False,
        (),
    )
    assert countered(world) == []
    assert adverse_action_notice_key("alice", offer.application_id) not in store.documents
    with pytest.raises(NotFound, match="no counteroffer"):
        world.bus.handle(GetAdverseActionNotice("alice", offer.application_id, Product.INSTALLMENT))


def test_a_counteroffer_without_a_reason_is_not_trusted() -> None:
    world, store = rendering()
    with pytest.raises(ExternalServiceError, match="without a reason"):
        world.replacing(Underwriting, Offering(10_000)).handle(ApplyForLoan("alice", 30_000, "k"))
    with world.bus.get(UnitOfWork) as uow:
        assert uow.loan_applications.for_user("alice") == []
    assert world.bus.get(IdGenerator).next_loan_number() == "FM-000001"  # none taken
    assert store.documents == {}


def test_an_approval_above_the_request_offers_the_amount_requested() -> None:
    world, store = rendering()
    offer = world.replacing(Underwriting, Offering(100_000)).handle(
        ApplyForLoan("alice", 30_000, "k-1")
    )
    assert (offer.loan_amount, offer.origination_fee, offer.requested_amount) == (
        30_000,
        1_500,
        30_000,
    )
    assert not offer.is_counteroffer
    assert countered(world) == []
    assert adverse_action_notice_key("alice", offer.application_id) not in store.documents


def test_a_queued_counteroffer_notice_renders_the_offer_as_stored_and_only_it() -> None:
    world, store = rendering(fail=1)  # the notice's render fails on the publish
    offer = world.bus.handle(ApplyForLoan("alice", 45_000, "apply-1"))
    [event] = countered(world)  # told anyway
    key = adverse_action_notice_key("alice", offer.application_id)
    assert key not in store.documents

    forged = attrs.evolve(event, data={**event.data, "offered_amount": 45_000})
    with pytest.raises(InvalidRequest, match="does not match the application as stored"):
        world.bus.handle(
            RenderDocument(
                DocumentKind.ADVERSE_ACTION_NOTICE, "alice", offer.application_id, event=forged
            )
        )
    assert key not in store.documents

    [delivery] = [
        d
        for d in world.queue.receive(max_messages=10, visibility=VISIBILITY)
        if d.message.deduplication_id == key
    ]
    assert RenderDocument.from_message(delivery.message).event == event
    assert world.bus.handle_message(delivery.message) is True
    assert figures(store, offer.application_id)["counteroffer"]["loan_amount"] == 40_000  # type: ignore[index]  # a JSON object
