"""Through the API: an offer accepted after its schedule moved is refused with 422
``terms-changed``, its new agreement is the one served, and accepting again makes the loan."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from deployment import Deployment
from http_api import Api
from litestar.testing import TestClient

from loc_adapters.memory import InMemoryDocumentStore, TextRenderer
from loc_core.ports import DocumentStore
from loc_core.services.filing import DocumentFiler
from loc_entrypoints.http import create_app

FRIDAY_NIGHT = dt.datetime(2026, 4, 10, 23, 30, tzinfo=dt.UTC)
SATURDAY = dt.datetime(2026, 4, 11, 0, 30, tzinfo=dt.UTC)


@pytest.fixture
def api() -> Iterator[Api]:
    """The app over a deployment that files agreements (as text), late on a Friday."""
    world = Deployment.build(now=FRIDAY_NIGHT)
    store = InMemoryDocumentStore()
    filer = DocumentFiler(store, world.users, world.alerter, world.queue, TextRenderer())
    world.bus = world.bus.replacing({DocumentStore: store, DocumentFiler: filer})
    world.users.add("alice")
    with TestClient(create_app(bus=world.bus)) as client:
        yield Api(world, client)


def agreement(api: Api, application_id: str) -> dict[str, Any]:
    """The figures of the agreement the application's link serves to its borrower."""
    link = api.get("alice", f"/loans/applications/{application_id}/agreement")
    assert link.status_code == 200, link.text
    served = api.get("alice", link.json()["url"])
    assert served.status_code == 200, served.text
    figures: dict[str, Any] = json.loads(served.text.split("\n", 2)[2])["figures"]
    return figures


def test_an_acceptance_the_next_day_answers_terms_changed_then_the_retry_makes_the_loan(
    api: Api,
) -> None:
    applied = api.post("alice", "/loans/applications", {"requested_amount": 30_000})
    assert applied.status_code == 201, applied.text
    application_id = applied.json()["application_id"]
    before = agreement(api, application_id)
    api.world.clock.set(SATURDAY)
    accept = f"/loans/applications/{application_id}/accept"

    refused = api.post("alice", accept, {}, key="accept-1")

    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"] == "https://loc.dev/problems/terms-changed"
    assert "review the new agreement and accept again" in problem["detail"]
    assert api.world.sim.submitted == []
    after = agreement(api, application_id)
    assert after["disclosed_on"] == "2026-04-11" != before["disclosed_on"]
    assert after["payments"] != before["payments"]

    accepted = api.post("alice", accept, {}, key="accept-1")  # the same key: the 422 freed it

    assert accepted.status_code == 201, accepted.text
    loan_id = accepted.json()["loan_id"]
    installments = api.get("alice", f"/loans/{loan_id}/installments")
    assert [(i["due_date"], i["total_amount"]) for i in installments.json()] == [
        (p["due_date"], p["amount"]) for p in after["payments"]
    ]
