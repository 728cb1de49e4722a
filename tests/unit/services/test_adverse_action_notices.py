"""A rejected application tells its applicant: an adverse action notice, filed and sent once.

Regulation B (12 CFR 1002.9(a)(1)(i), (a)(2)): a creditor notifies an applicant of the
action taken on a completed application. A rejection (either product) commits an
``application_declined`` event with the application; publishing it files the notice's
PDF, then tells the borrower. Before, the rejection was stored and nobody was told.
"""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest
from adverse_actions import REASONS, REPORT, Underwriter
from deployment import LINES_OPENED, Deployment
from fakes import Crash, CrashingNotifier

from loc_adapters.memory import InMemoryDocumentStore, TextRenderer
from loc_core.applications import ConsumerReport, declined_event
from loc_core.bookkeeping import Product
from loc_core.errors import InvalidRequest
from loc_core.events import AuditValue, DomainEvent, EventType
from loc_core.ports import DocumentStore, Notifier, Severity, Underwriting, UnitOfWork
from loc_core.ports.documents import adverse_action_notice_key
from loc_core.services.commands import (
    RENDER_DOCUMENT,
    ApplyForLine,
    ApplyForLoan,
    DocumentKind,
    GetAdverseActionNotice,
    RecoverTransfers,
    RenderDocument,
)
from loc_core.services.filing import DocumentFiler
from loc_core.services.moving import RECOVERY_AFTER

VISIBILITY = dt.timedelta(minutes=5)


def rendering(
    *, fail: int = 0, line_report: ConsumerReport | None = None
) -> tuple[Deployment, InMemoryDocumentStore, TextRenderer]:
    underwriter = Underwriter(line_report=line_report)
    world = Deployment.build(now=LINES_OPENED, overrides={Underwriting: underwriter})
    store, renderer = InMemoryDocumentStore(), TextRenderer(fail_next=fail)
    filer = DocumentFiler(store, world.users, world.alerter, world.queue, renderer)
    world.bus = world.bus.replacing({DocumentStore: store, DocumentFiler: filer})
    for user in ("alice", "dora"):
        world.users.add(user)
    return world, store, renderer


def declined(world: Deployment) -> list[DomainEvent]:
    return [e for e in world.notifier.sent if e.type is EventType.APPLICATION_DECLINED]


def notice_text(body: bytes) -> dict[str, object]:
    head, kind, rest = body.decode().split("\n", 2)
    assert (head, kind) == ("loc text rendering", "adverse_action_notice")
    loaded: dict[str, object] = json.loads(rest)
    return loaded


def test_a_rejected_loan_application_files_its_notice_and_tells_the_applicant_once() -> None:
    world, store, renderer = rendering()
    apply = ApplyForLoan("alice", 80_000, "apply-1")

    rejected = world.bus.handle(apply)
    assert world.bus.handle(apply).application_id == rejected.application_id  # a repeat

    [event] = declined(world)
    app_id = rejected.application_id
    assert (event.user_id, event.subject_id, event.occurred_on) == ("alice", app_id, world.today)
    data = event.data
    assert data["product"] == "installment"
    assert data["requested_amount"] == 80_000
    assert data["decided_on"] == world.today.isoformat()
    assert data["reasons_given"] == 5
    assert [(data[f"reason_{n}_code"], data[f"reason_{n}_text"]) for n in range(1, 5)] == [
        (reason.code, reason.text) for reason in REASONS[:4]
    ]
    assert data["document"] == f"/loans/applications/{app_id}/adverse-action-notice"
    assert data["report_score"] == 512

    key = adverse_action_notice_key("alice", app_id)
    shown = notice_text(store.get(key))
    assert shown["borrower_name"] == "Borrower alice"
    figures = shown["figures"]
    assert isinstance(figures, dict)
    assert [r["code"] for r in figures["reasons"]] == [
        "INCOME",
        "DELINQUENT",
        "HISTORY",
        "INQUIRIES",
    ]
    assert figures["consumer_report"]["agency_name"] == REPORT.agency_name
    assert renderer.rendered == 1
    link = world.bus.handle(GetAdverseActionNotice("alice", app_id, Product.INSTALLMENT))
    assert link.url.endswith(key)


def test_a_rejected_line_application_files_its_notice_and_tells_the_applicant_once() -> None:
    world, store, renderer = rendering()
    apply = ApplyForLine("dora", "apply-1")

    rejected = world.bus.handle(apply)
    world.bus.handle(apply)

    [event] = declined(world)
    assert event.subject_id == rejected.application_id
    assert event.data["product"] == "creditline"
    assert event.data["requested_amount"] is None  # a line request names no limit
    assert event.data["reason_4_code"] == "INQUIRIES"
    assert event.data["report_agency_name"] is None  # no consumer report was used
    figures = notice_text(store.get(adverse_action_notice_key("dora", rejected.application_id)))
    assert figures["figures"]["consumer_report"] is None  # type: ignore[index]  # a JSON object
    assert renderer.rendered == 1


def test_a_process_that_died_before_telling_is_finished_by_the_recovery_job_once() -> None:
    world, store, renderer = rendering()
    dying = world.replacing(Notifier, CrashingNotifier(world.notifier))
    with pytest.raises(Crash):
        dying.handle(ApplyForLoan("alice", 80_000, "apply-1"))
    assert declined(world) == []

    world.clock.advance(RECOVERY_AFTER + dt.timedelta(minutes=1))
    assert world.bus.handle(RecoverTransfers()).republished == 1
    assert world.bus.handle(RecoverTransfers()).republished == 0

    [event] = declined(world)  # delivered twice (the dead attempt, the recovery): told once
    assert renderer.rendered == 1  # filed by the first delivery, found stored by the second
    assert list(store.documents) == [adverse_action_notice_key("alice", event.subject_id)]


def test_a_failed_render_is_queued_with_its_event_and_rendered_by_the_worker() -> None:
    world, store, _ = rendering(fail=1)
    rejected = world.bus.handle(ApplyForLoan("alice", 80_000, "apply-1"))
    assert len(declined(world)) == 1  # the notification goes anyway
    key = adverse_action_notice_key("alice", rejected.application_id)
    assert key not in store.documents
    [alert] = world.alerts(Severity.WARNING)
    assert alert.title == "adverse_action_notice document not rendered; queued for a retry"

    [delivery] = world.queue.receive(max_messages=10, visibility=VISIBILITY)
    assert (delivery.message.kind, delivery.message.deduplication_id) == (RENDER_DOCUMENT, key)
    command = RenderDocument.from_message(delivery.message)
    assert command.document is DocumentKind.ADVERSE_ACTION_NOTICE
    assert command.event == declined(world)[0]
    assert world.bus.handle_message(delivery.message) is True
    assert notice_text(store.get(key))["figures"]["requested_amount"] == 80_000  # type: ignore[index]  # a JSON object
    assert world.bus.handle(command) is False  # delivered again: stored already


def queued_notice(world: Deployment) -> DomainEvent:
    """The ``application_declined`` event of the one notice a failed render left queued."""
    [delivery] = world.queue.receive(max_messages=10, visibility=VISIBILITY)
    event = RenderDocument.from_message(delivery.message).event
    assert event is not None
    return event


def files_forged(
    world: Deployment,
    store: InMemoryDocumentStore,
    user_id: str,
    application_id: str,
    forged: DomainEvent,
) -> bool:
    """Hand a queued notice carrying `forged` to the worker, which must refuse it; filed?"""
    command = RenderDocument(
        DocumentKind.ADVERSE_ACTION_NOTICE, user_id, application_id, event=forged
    )
    with pytest.raises(InvalidRequest, match="does not match the application as stored"):
        world.bus.handle(command)
    return adverse_action_notice_key(user_id, application_id) in store.documents


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param({"reason_1_text": "You asked for it"}, id="reason"),
        pytest.param({"decided_on": "2026-02-01"}, id="date"),
        pytest.param({"report_score": 700}, id="score"),
        pytest.param({"report_agency_phone": "1-900-555-0100"}, id="agency"),
    ],
)
def test_a_queued_notice_its_application_does_not_bear_out_is_never_filed(
    forgery: dict[str, AuditValue],
) -> None:
    world, store, _ = rendering(fail=1)
    rejected = world.bus.handle(ApplyForLoan("alice", 80_000, "apply-1"))
    event = queued_notice(world)
    forged = attrs.evolve(event, data={**event.data, **forgery})
    assert not files_forged(world, store, "alice", rejected.application_id, forged)


def test_a_queued_notice_cannot_add_a_report_its_decision_did_not_use() -> None:
    world, store, _ = rendering(fail=1)
    rejected = world.bus.handle(ApplyForLine("dora", "apply-1"))  # no consumer report used
    event = queued_notice(world)
    used = declined_event(
        product=Product.CREDITLINE,
        user_id="dora",
        application_id=rejected.application_id,
        decided_on=world.today,
        adverse_actions=REASONS,
        consumer_report=REPORT,
    )
    report = {name: value for name, value in used.data.items() if name.startswith("report_")}
    forged = attrs.evolve(event, data={**event.data, **report})
    assert not files_forged(world, store, "dora", rejected.application_id, forged)


def test_a_rejected_application_keeps_the_report_its_decision_used_and_audits_it() -> None:
    world, _, _ = rendering(line_report=REPORT)
    loan = world.bus.handle(ApplyForLoan("alice", 80_000, "apply-1"))
    line = world.bus.handle(ApplyForLine("dora", "apply-1"))
    with world.bus.get(UnitOfWork) as uow:
        kept = (
            uow.loan_applications.get("alice", loan.application_id).consumer_report,
            uow.line_applications.get("dora", line.application_id).consumer_report,
        )
    assert kept == (REPORT, REPORT)
    for application_id in (loan.application_id, line.application_id):
        [record] = world.audit("application", application_id)
        [audited] = [f.new for f in record.change.fields if f.field == "consumer_report"]
        assert isinstance(audited, str)
        assert json.loads(audited)["report_score"] == 512
        assert json.loads(audited)["report_agency_name"] == REPORT.agency_name


def test_an_older_queued_notice_without_a_report_is_rendered_with_the_stored_one() -> None:
    world, store, _ = rendering(fail=1)
    rejected = world.bus.handle(ApplyForLoan("alice", 80_000, "apply-1"))
    event = queued_notice(world)
    older = attrs.evolve(
        event,
        data={name: None if name.startswith("report_") else v for name, v in event.data.items()},
    )
    command = RenderDocument(
        DocumentKind.ADVERSE_ACTION_NOTICE, "alice", rejected.application_id, event=older
    )
    assert world.bus.handle(command) is True
    shown = notice_text(store.get(adverse_action_notice_key("alice", rejected.application_id)))
    report = shown["figures"]["consumer_report"]  # type: ignore[index]  # a JSON object
    assert report["agency_name"] == REPORT.agency_name
    assert report["score"]["value"] == 512
