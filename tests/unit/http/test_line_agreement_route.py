"""The line offer's account-opening disclosure through a short-lived link, to its owner only."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from deployment import LINES_OPENED, Deployment
from http_api import Api
from litestar.testing import TestClient
from pypdf import PdfReader

from loc_adapters.documents import PdfRenderer
from loc_adapters.memory import InMemoryDocumentStore
from loc_core.ports import PDF, DocumentStore, agreement_key
from loc_core.services.filing import DocumentFiler
from loc_entrypoints.http import create_app

NOT_FOUND = "https://loc.dev/problems/not-found"


@pytest.fixture
def api() -> Iterator[Api]:
    """The app over a deployment that renders PDFs (the shared fixture renders none)."""
    world = Deployment.build(now=LINES_OPENED, seed=3)
    store = InMemoryDocumentStore()
    filer = DocumentFiler(store, world.users, world.alerter, world.queue, PdfRenderer())
    world.bus = world.bus.replacing({DocumentStore: store, DocumentFiler: filer})
    with TestClient(create_app(bus=world.bus)) as client:
        yield Api(world, client)


def read_link(api: Api, user: str, path: str) -> str:
    answer = api.get(user, path)
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["url"]
    return url


def test_an_approved_offer_links_its_disclosure_to_its_borrower_only(api: Api) -> None:
    applied = api.post("alice", "/lines/applications", {})
    assert applied.status_code == 201, applied.text
    offer = applied.json()
    path = f"/lines/applications/{offer['application_id']}/agreement"
    url = read_link(api, "alice", path)
    assert url == f"/documents/{agreement_key('alice', offer['application_id'])}"

    pdf = api.get("alice", url)
    assert pdf.headers["content-type"].startswith(PDF)
    text = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert f"for Draws {offer['apr']}%" in text
    assert "Credit limit $1,000.00" in text
    assert "Up to $5.00 Charged on the day after the due date" in text

    for other in (path, url):
        refused = api.get("bob", other)
        assert refused.status_code == 404
        assert refused.json()["type"] == NOT_FOUND


def test_an_offer_without_a_stored_disclosure_is_not_found(api: Api) -> None:
    applied = api.post("alice", "/lines/applications", {})
    key = agreement_key("alice", applied.json()["application_id"])
    store = api.world.bus.get(DocumentStore)
    assert isinstance(store, InMemoryDocumentStore)
    del store.documents[key]
    missing = api.get("alice", f"/lines/applications/{applied.json()['application_id']}/agreement")
    assert missing.status_code == 404
    assert missing.json()["type"] == NOT_FOUND
    assert api.get("alice", "/lines/applications/no-such-offer/agreement").status_code == 404
