"""The operations audit reads: an entity's, a user's and an action's trail, paginated."""

from __future__ import annotations

from typing import Any

from http_api import Api


def pages(api: Api, path: str, limit: int) -> list[dict[str, Any]]:
    """Every item of an audit trail, following `next_cursor` page after page."""
    headers = api.headers("ops", service=True)
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        answer = api.client.get(path, headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= limit
        found += page["items"]
        if page["next_cursor"] is None:
            return found
        params["cursor"] = page["next_cursor"]


def test_a_users_and_an_actions_trail_page_newest_first(api: Api) -> None:
    loan = api.open_loan("alice")
    api.open_loan("bob")
    paid = api.post("alice", f"/loans/{loan['loan_id']}/payments", {"amount": 5_000})
    assert paid.status_code == 201, paid.text

    alice = pages(api, "/operations/audit/users/alice", 3)
    assert {item["user_id"] for item in alice} == {"alice"}
    assert alice[0]["process"] == "MANUAL"  # the payment came last
    times = [item["recorded_at"] for item in alice]
    assert times == sorted(times, reverse=True)
    assert len({item["record_id"] for item in alice}) == len(alice)

    manual = pages(api, "/operations/audit/actions/MANUAL", 2)
    assert manual
    assert {item["process"] for item in manual} == {"MANUAL"}
    assert {item["record_id"] for item in manual} <= {item["record_id"] for item in alice}

    trail = pages(api, f"/operations/audit/loan/{loan['loan_id']}", 1)
    assert [item["process"] for item in trail][-1] == "MANUAL"  # oldest first


def test_audit_reads_are_for_the_service_role_and_check_their_input(api: Api) -> None:
    for path in ("/operations/audit/users/alice", "/operations/audit/actions/AUTOPAY"):
        assert api.get("alice", path).status_code == 403
    headers = api.headers("ops", service=True)
    unknown = api.client.get("/operations/audit/actions/NOT_AN_ACTION", headers=headers)
    assert unknown.status_code == 400
    forged = api.client.get(
        "/operations/audit/users/alice", headers=headers, params={"cursor": "bm9wZQ"}
    )
    assert forged.status_code == 400
    assert forged.headers["content-type"].startswith("application/problem+json")
    empty = api.client.get("/operations/audit/users/nobody", headers=headers)
    assert empty.json() == {"items": [], "next_cursor": None}
