"""A statement's PDF and a loan's agreement through short-lived links, to their owner only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from http_api import STATEMENT_DATE, Api

from loc_core.ports import (
    DOCUMENT_LINK_LIFETIME,
    PDF,
    Clock,
    DocumentStore,
    agreement_key,
    statement_key,
)

NOT_FOUND = "https://loc.dev/problems/not-found"


@pytest.fixture
def documents(api: Api) -> DocumentStore:
    return api.world.bus.get(DocumentStore)


@pytest.fixture
def billed_line(api: Api) -> dict[str, Any]:
    """Alice's line with its first statement billed (on 2026-04-05), its PDF not yet stored."""
    line = api.open_line("alice")
    api.at(dt.date(2026, 3, 12))
    api.post("alice", f"/lines/{line['line_id']}/draws", {"amount": 20_000})
    api.at(STATEMENT_DATE, 8)
    billed = api.post(
        "ops", "/operations/jobs/billing_job", {"business_date": "2026-04-05"}, service=True
    )
    assert billed.status_code == 200, billed.text
    return line


def assert_not_found(answer: Any) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == NOT_FOUND


def read_link(api: Api, user: str, path: str) -> str:
    """The link the route gives, checked to expire `DOCUMENT_LINK_LIFETIME` from now."""
    answer = api.get(user, path)
    assert answer.status_code == 200, answer.text
    link = answer.json()
    now = api.world.bus.get(Clock).now()
    assert dt.datetime.fromisoformat(link["expires_at"]) == now + DOCUMENT_LINK_LIFETIME
    url: str = link["url"]
    return url


def test_a_statements_pdf_is_linked_once_stored_and_served_to_its_owner(
    api: Api, documents: DocumentStore, billed_line: dict[str, Any]
) -> None:
    path = f"/lines/{billed_line['line_id']}/statements/2026-04-05/document"
    assert_not_found(api.get("alice", path))  # the statement exists, its PDF not yet

    documents.put(
        statement_key("alice", billed_line["line_id"], STATEMENT_DATE), b"%PDF-1", content_type=PDF
    )
    url = read_link(api, "alice", path)
    assert url == f"/documents/statements/alice/{billed_line['line_id']}/2026-04-05.pdf"
    served = api.get("alice", url)
    assert served.status_code == 200, served.text
    assert (served.content, served.headers["content-type"]) == (b"%PDF-1", PDF)

    assert_not_found(api.get("bob", path))
    assert_not_found(api.get("bob", url))
    assert api.client.get(url).status_code == 401


def test_a_statement_that_does_not_exist_has_no_document(
    api: Api, billed_line: dict[str, Any]
) -> None:
    line_path = f"/lines/{billed_line['line_id']}"
    assert_not_found(api.get("alice", f"{line_path}/statements/2026-05-05/document"))
    assert_not_found(api.get("alice", "/lines/no-such-line/statements/2026-04-05/document"))


def test_a_loans_agreement_is_its_applications_and_only_its_owners(
    api: Api, documents: DocumentStore
) -> None:
    loan = api.open_loan("alice")
    application_path = f"/loans/applications/{loan['application_id']}/agreement"
    loan_path = f"/loans/{loan['loan_id']}/agreement"
    assert_not_found(api.get("alice", application_path))
    assert_not_found(api.get("alice", loan_path))

    key = agreement_key("alice", loan["application_id"])
    documents.put(key, b"%PDF-agreement", content_type=PDF)
    url = read_link(api, "alice", application_path)
    assert url == read_link(api, "alice", loan_path) == f"/documents/{key}"
    assert api.get("alice", url).content == b"%PDF-agreement"

    for path in (application_path, loan_path, url):
        assert_not_found(api.get("bob", path))
    assert_not_found(api.get("alice", "/loans/no-such-loan/agreement"))


@pytest.mark.parametrize(
    "key",
    ["audit/date=2026-04-05/r-1.jsonl", "agreements/alice/missing.pdf", "agreements/alice"],
)
def test_the_document_route_serves_no_other_key(
    api: Api, documents: DocumentStore, key: str
) -> None:
    documents.put("audit/date=2026-04-05/r-1.jsonl", b"{}", content_type="application/x-ndjson")
    assert_not_found(api.get("alice", f"/documents/{key}"))
