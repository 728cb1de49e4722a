"""A rejected application's adverse action notice through a short-lived link, to its applicant.

A loan counteroffer's combined counteroffer and adverse action notice too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from adverse_actions import Underwriter
from deployment import LINES_OPENED, Deployment
from http_api import Api
from litestar.testing import TestClient

from loc_adapters.memory import InMemoryDocumentStore, SimulatedUnderwriting, TextRenderer
from loc_core.ports import DocumentStore, Underwriting
from loc_core.ports.documents import adverse_action_notice_key
from loc_core.services.filing import DocumentFiler
from loc_entrypoints.http import create_app

NOT_FOUND = "https://loc.dev/problems/not-found"


@pytest.fixture
def api() -> Iterator[Api]:
    """The app over a deployment whose underwriter rejects loans above $500.00 and dora's line."""
    yield from serving(Underwriter())


@pytest.fixture
def countering() -> Iterator[Api]:
    """The app over a deployment whose underwriter offers $400.00 for any loan above it."""
    yield from serving(SimulatedUnderwriting(loan_approval_probability=1, max_loan_amount=40_000))


def serving(underwriting: Underwriting) -> Iterator[Api]:
    world = Deployment.build(now=LINES_OPENED, seed=3, overrides={Underwriting: underwriting})
    store = InMemoryDocumentStore()
    filer = DocumentFiler(store, world.users, world.alerter, world.queue, TextRenderer())
    world.bus = world.bus.replacing({DocumentStore: store, DocumentFiler: filer})
    with TestClient(create_app(bus=world.bus)) as client:
        yield Api(world, client)


def applied(api: Api, user: str, path: str, body: object, status: str) -> str:
    answer = api.post(user, path, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == status
    application_id: str = answer.json()["application_id"]
    return application_id


def assert_not_found(api: Api, user: str, path: str) -> None:
    answer = api.get(user, path)
    assert answer.status_code == 404, answer.text
    assert answer.json()["type"] == NOT_FOUND


@pytest.mark.parametrize(
    ("user", "path", "body"),
    [
        ("alice", "/loans/applications", {"requested_amount": 80_000}),
        ("dora", "/lines/applications", {}),
    ],
)
def test_the_applicant_reads_the_notice_of_a_rejection_and_nobody_else_does(
    api: Api, user: str, path: str, body: object
) -> None:
    rejected = applied(api, user, path, body, "REJECTED")
    route = f"{path}/{rejected}/adverse-action-notice"
    answer = api.get(user, route)
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert url == f"/documents/{adverse_action_notice_key(user, rejected)}"
    document = api.get(user, url)
    assert document.status_code == 200
    assert b"adverse_action_notice" in document.content

    for other in (route, url):
        assert_not_found(api, "bob", other)
    other_product = "/lines" if path.startswith("/loans") else "/loans"
    assert_not_found(api, user, f"{other_product}/applications/{rejected}/adverse-action-notice")


def test_an_approved_application_has_no_notice(api: Api) -> None:
    loan = applied(api, "alice", "/loans/applications", {"requested_amount": 30_000}, "APPROVED")
    line = applied(api, "alice", "/lines/applications", {}, "APPROVED")
    assert_not_found(api, "alice", f"/loans/applications/{loan}/adverse-action-notice")
    assert_not_found(api, "alice", f"/lines/applications/{line}/adverse-action-notice")


def test_the_applicant_reads_the_notice_of_a_counteroffer_and_nobody_else_does(
    countering: Api,
) -> None:
    answer = countering.post("alice", "/loans/applications", {"requested_amount": 45_000})
    assert answer.status_code == 201, answer.text
    offer = answer.json()
    assert (offer["status"], offer["loan_amount"], offer["requested_amount"]) == (
        "APPROVED",
        40_000,
        45_000,
    )
    assert offer["adverse_actions"] == ["AMOUNT_ABOVE_MAXIMUM"]
    route = f"/loans/applications/{offer['application_id']}/adverse-action-notice"
    link = countering.get("alice", route)
    assert link.status_code == 200, link.text
    document = countering.get("alice", link.json()["url"])
    assert document.status_code == 200
    assert b'"counteroffer"' in document.content
    assert_not_found(countering, "bob", route)
