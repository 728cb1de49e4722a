"""A line offer's account-opening disclosure is filed when the offer is approved.

Like a loan offer's agreement: rendered and stored after the approval commits, a
failure alerted and queued for a retry, never blocking the offer or its acceptance.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from deployment import LINES_OPENED, Deployment

from loc_adapters.memory import InMemoryDocumentStore, SimulatedUnderwriting, TextRenderer
from loc_core.errors import ExternalServiceError, NotFound
from loc_core.ports import DocumentStore, Severity, Underwriting, agreement_key
from loc_core.ports.documents import adverse_action_notice_key
from loc_core.services.commands import (
    RENDER_DOCUMENT,
    DocumentKind,
    GetLineApplicationAgreement,
    RenderDocument,
)
from loc_core.services.filing import DocumentFiler

USER = "user-1"
VISIBILITY = dt.timedelta(minutes=5)


def rendering(
    *, fail: int = 0, renderer: TextRenderer | None = None, approve: bool = True
) -> tuple[Deployment, InMemoryDocumentStore, TextRenderer]:
    underwriting = SimulatedUnderwriting(
        line_approval_probability=1 if approve else 0, line_limits=(100_000,)
    )
    world = Deployment.build(now=LINES_OPENED, overrides={Underwriting: underwriting})
    store = InMemoryDocumentStore()
    renderer = renderer or TextRenderer(fail_next=fail)
    filer = DocumentFiler(store, world.users, world.alerter, world.queue, renderer)
    world.bus = world.bus.replacing({DocumentStore: store, DocumentFiler: filer})
    world.users.add(USER)
    return world, store, renderer


def figures(body: bytes) -> dict[str, object]:
    head, kind, rest = body.decode().split("\n", 2)
    assert (head, kind) == ("loc text rendering", "line_agreement")
    loaded: dict[str, object] = json.loads(rest)
    return loaded


def test_an_approval_files_the_offers_disclosure() -> None:
    world, store, _ = rendering()
    offer = world.apply_line(USER)
    key = agreement_key(USER, offer.application_id)
    body = figures(store.get(key))
    assert body["borrower_name"] == f"Borrower {USER}"
    shown = body["figures"]
    assert isinstance(shown, dict)
    assert shown["annual_percentage_rate"] == str(offer.apr)
    assert shown["credit_limit"] == offer.credit_limit == 100_000
    assert shown["late_fee"] == 500
    assert shown["application_id"] == offer.application_id
    link = world.bus.handle(GetLineApplicationAgreement(USER, offer.application_id))
    assert link.url.endswith(key)
    assert link.expires_at == world.clock.now() + dt.timedelta(minutes=10)
    assert world.alerts() == []


def test_a_repeated_request_renders_nothing_again() -> None:
    world, _, renderer = rendering()
    first = world.apply_line(USER, key="apply-1")
    again = world.apply_line(USER, key="apply-1")
    assert again.application_id == first.application_id
    assert renderer.rendered == 1


def test_a_rejection_files_no_disclosure_only_its_adverse_action_notice() -> None:
    world, store, renderer = rendering(approve=False)
    rejected = world.apply_line(USER)
    assert rejected.status.value == "REJECTED"
    assert renderer.rendered == 1
    assert list(store.documents) == [adverse_action_notice_key(USER, rejected.application_id)]
    with pytest.raises(NotFound):
        world.bus.handle(GetLineApplicationAgreement(USER, rejected.application_id))


def test_another_borrowers_offer_is_not_found() -> None:
    world, _, _ = rendering()
    offer = world.apply_line(USER)
    with pytest.raises(NotFound):
        world.bus.handle(GetLineApplicationAgreement("user-2", offer.application_id))


def test_a_failed_render_is_alerted_queued_and_rendered_by_the_worker() -> None:
    world, store, _ = rendering(fail=1)
    offer = world.apply_line(USER)
    assert offer.status.value == "APPROVED"  # the failure never fails the offer
    key = agreement_key(USER, offer.application_id)
    assert key not in store.documents
    [alert] = world.alerts(Severity.WARNING)
    assert alert.title == "line_agreement document not rendered; queued for a retry"
    [delivery] = world.queue.receive(max_messages=10, visibility=VISIBILITY)
    assert delivery.message.kind == RENDER_DOCUMENT
    assert delivery.message.deduplication_id == key
    command = RenderDocument.from_message(delivery.message)
    assert command == RenderDocument(DocumentKind.LINE_AGREEMENT, USER, offer.application_id)
    assert world.bus.handle_message(delivery.message) is True
    assert figures(store.get(key))["figures"]["application_id"] == offer.application_id  # type: ignore[index]  # a JSON object
    assert world.bus.handle(command) is False  # delivered again: stored already


def test_a_retry_that_fails_again_raises_so_the_queue_delivers_it_again() -> None:
    world, store, renderer = rendering(fail=2)
    offer = world.apply_line(USER)
    command = RenderDocument(DocumentKind.LINE_AGREEMENT, USER, offer.application_id)
    with pytest.raises(ExternalServiceError):
        world.bus.handle(command)
    assert world.bus.handle(command) is True
    assert agreement_key(USER, offer.application_id) in store.documents
    assert renderer.rendered == 1


def test_acceptance_does_not_wait_for_the_disclosure_as_a_loan_does_not() -> None:
    world, store, _ = rendering(fail=1)
    offer = world.apply_line(USER)
    assert store.documents == {}
    line = world.accept_line(offer.application_id, USER)
    assert line.status.value == "ACTIVE"
