"""Both products through the API alone, as a borrower (and an operator) would."""

from __future__ import annotations

import base64
import datetime as dt

from http_api import STATEMENT_DATE, Api


def take_a_loan_and_pay_it(api: Api) -> None:
    assert api.get("alice", "/loans/eligibility").json() == {"eligible": True, "reasons": []}
    loan = api.open_loan("alice")
    assert loan["status"] == "OPEN"
    assert loan["currency"] == "USD"
    assert loan["amount_disbursed"] == 30_000
    loan_id = loan["loan_id"]

    installments = api.get("alice", f"/loans/{loan_id}/installments").json()
    assert sum(item["total_amount"] for item in installments) == loan["total_amount"]
    paid = api.post("alice", f"/loans/{loan_id}/payments", {"amount": 5_000})
    assert paid.status_code == 201, paid.text
    receipt = paid.json()
    assert receipt["loan_outstanding_balance"] == loan["outstanding_balance"] - 5_000

    listed = api.get("alice", f"/loans/{loan_id}/payments").json()
    assert [p["payment_id"] for p in listed["items"]] == [receipt["payment_id"]]
    again = api.get("alice", f"/loans/{loan_id}/payments/{receipt['payment_id']}").json()
    assert again["amount"] == 5_000
    assert api.get("alice", "/loans", status="OPEN").json()["items"][0]["loan_id"] == loan_id
    assert api.get("alice", "/loans", status="CLOSED").json()["items"] == []
    off = api.client.put(
        f"/loans/{loan_id}/autopay", headers=api.headers("alice"), json={"enabled": False}
    )
    assert off.json() == {"loan_id": loan_id, "autopay_enabled": False}
    assert api.get("alice", f"/loans/{loan_id}").json()["autopay_enabled"] is False


def draw_pay_and_read_a_statement(api: Api) -> None:
    line = api.open_line("alice")
    line_id = line["line_id"]
    assert line["available_credit"] == line["credit_limit"]
    api.at(dt.date(2026, 3, 12))
    drawn = api.post("alice", f"/lines/{line_id}/draws", {"amount": 40_000})
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["amount"] == 40_000
    paid = api.post("alice", f"/lines/{line_id}/payments", {"amount": 1_000})
    assert paid.status_code == 201, paid.text
    now = api.get("alice", f"/lines/{line_id}").json()
    assert now["available_credit"] == line["credit_limit"] - 40_000 + 1_000

    api.at(STATEMENT_DATE, 8)
    billed = api.post(
        "ops", "/operations/jobs/billing_job", {"business_date": "2026-04-05"}, service=True
    )
    assert billed.status_code == 200, billed.text
    statements = api.get("alice", f"/lines/{line_id}/statements").json()
    [listed] = statements["items"]
    assert listed["statement_date"] == "2026-04-05"
    statement = api.get("alice", f"/lines/{line_id}/statements/2026-04-05").json()
    assert statement["closing_balance"] >= 39_000
    assert statement["minimum_payment"] > 0
    assert [d["draw_id"] for d in api.get("alice", f"/lines/{line_id}/draws").json()["items"]]
    assert len(api.get("alice", f"/lines/{line_id}/payments").json()["items"]) == 1
    checked = api.post("ops", "/operations/users/alice/reconcile", None, service=True).json()
    assert checked["matches"] is True
    assert [c["line_id"] for c in checked["lines"]] == [line_id]
    trail = api.client.get(
        f"/operations/audit/line/{line_id}", headers=api.headers("ops", service=True)
    ).json()
    assert trail["items"][0]["entity_id"] == line_id
    assert {item["user_id"] for item in trail["items"]} == {"alice"}
    assert api.get("alice", f"/operations/audit/line/{line_id}").status_code == 403


def test_a_borrower_uses_both_products_through_the_api_alone(api: Api) -> None:
    take_a_loan_and_pay_it(api)
    draw_pay_and_read_a_statement(api)


def test_operations_need_the_service_role(api: Api) -> None:
    refused = api.post("alice", "/operations/users/alice/reconcile", None)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_lists_page_with_an_opaque_cursor(api: Api) -> None:
    loan_id = api.open_loan("alice")["loan_id"]
    path = f"/loans/{loan_id}/payments"
    for amount in (1_000, 2_000, 3_000):
        assert (
            api.post("alice", f"/loans/{loan_id}/payments", {"amount": amount}).status_code == 201
        )
    path = f"/loans/{loan_id}/payments"
    first = api.get("alice", path, limit=2).json()
    assert len(first["items"]) == 2
    second = api.get("alice", path, limit=2, cursor=first["next_cursor"]).json()
    assert second["next_cursor"] is None
    amounts = [p["amount"] for p in first["items"] + second["items"]]
    assert sorted(amounts) == [1_000, 2_000, 3_000]
    bad = api.get("alice", path, cursor="not-a-cursor")
    assert bad.status_code == 400
    assert bad.json()["fields"] == ["cursor"]
    too_many = api.get("alice", path, limit=101)
    assert too_many.status_code == 400
    assert too_many.json()["fields"] == ["limit"]


def test_a_payment_made_between_two_pages_neither_repeats_nor_hides_one(api: Api) -> None:
    """The cursor names the page's last item, not its position in the list."""
    loan_id = api.open_loan("alice")["loan_id"]
    path = f"/loans/{loan_id}/payments"
    for amount in (1_000, 2_000, 3_000):
        api.post("alice", path, {"amount": amount})
    first = api.get("alice", path, limit=2).json()
    assert [p["amount"] for p in first["items"]] == [3_000, 2_000]
    assert api.post("alice", path, {"amount": 4_000}).status_code == 201
    second = api.get("alice", path, limit=2, cursor=first["next_cursor"]).json()
    assert [p["amount"] for p in second["items"]] == [1_000]
    assert second["next_cursor"] is None
    assert [p["amount"] for p in api.get("alice", path).json()["items"]] == [
        4_000,
        3_000,
        2_000,
        1_000,
    ]
    positional = base64.urlsafe_b64encode(b"after:2").decode()  # a cursor of the old scheme
    assert api.get("alice", path, cursor=positional).json()["fields"] == ["cursor"]
