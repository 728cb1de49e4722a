"""User B never reaches user A's records; a repeated money-moving POST moves money once."""

from __future__ import annotations

import datetime as dt

import pytest
from http_api import STATEMENT_DATE, Api

from loc_core.ports import IdempotencyStore
from loc_entrypoints.http.idempotency import KEY_TTL, fingerprint, scoped_key
from loc_entrypoints.http.loans import PaymentRequest


@pytest.fixture
def alices(api: Api) -> dict[str, str]:
    """Every kind of record alice has, by path: loans, lines, applications, payments."""
    loan = api.open_loan("alice")
    line = api.open_line("alice")
    api.at(dt.date(2026, 3, 12))
    paid = api.post("alice", f"/loans/{loan['loan_id']}/payments", {"amount": 1_000}).json()
    api.post("alice", f"/lines/{line['line_id']}/draws", {"amount": 20_000})
    api.at(STATEMENT_DATE, 8)
    api.post("ops", "/operations/jobs/billing_job", {"business_date": "2026-04-05"}, service=True)
    loan_path, line_path = f"/loans/{loan['loan_id']}", f"/lines/{line['line_id']}"
    return {
        "loan application": f"/loans/applications/{loan['application_id']}",
        "loan": loan_path,
        "installments": f"{loan_path}/installments",
        "loan payments": f"{loan_path}/payments",
        "receipt": f"{loan_path}/payments/{paid['payment_id']}",
        "line application": f"/lines/applications/{line['application_id']}",
        "line": line_path,
        "draws": f"{line_path}/draws",
        "line payments": f"{line_path}/payments",
        "statements": f"{line_path}/statements",
        "statement": f"{line_path}/statements/2026-04-05",
    }


def test_user_b_gets_404_on_each_of_user_as_resources(api: Api, alices: dict[str, str]) -> None:
    for name, path in alices.items():
        assert api.get("alice", path).status_code == 200, name
        answer = api.get("bob", path)
        assert answer.status_code == 404, (name, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"] == "https://loc.dev/problems/not-found"
        assert "alice" not in answer.text, name
    # writes too: bob cannot pay, draw on, accept or switch anything of alice's
    for path, body in (
        (alices["loan payments"], {"amount": 100}),
        (f"{alices['line']}/draws", {"amount": 100}),
        (f"{alices['line']}/payments", {"amount": 100}),
    ):
        assert api.post("bob", path, body).status_code == 404, path
    assert api.get("bob", "/loans").json()["items"] == []
    assert api.get("bob", "/lines").json()["items"] == []


def test_a_payment_repeated_with_the_same_key_moves_money_once(api: Api) -> None:
    loan = api.open_loan("alice")
    path = f"/loans/{loan['loan_id']}/payments"
    first = api.post("alice", path, {"amount": 2_500}, key="pay-once")
    again = api.post("alice", path, {"amount": 2_500}, key="pay-once")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    after = api.get("alice", f"/loans/{loan['loan_id']}").json()
    assert after["outstanding_balance"] == loan["outstanding_balance"] - 2_500
    assert len(api.get("alice", path).json()["items"]) == 1
    assert len(api.world.sim.submitted) == 2  # the disbursement and one payment

    other = api.post("alice", path, {"amount": 3_000}, key="pay-once")
    assert other.status_code == 422
    assert other.json()["type"] == "https://loc.dev/problems/idempotency-conflict"
    assert "http:" not in other.json()["detail"]  # the store's scoped key stays inside


def test_a_draw_without_a_key_is_refused_naming_the_header(api: Api) -> None:
    line = api.open_line("alice")
    answer = api.client.post(
        f"/lines/{line['line_id']}/draws", headers=api.headers("alice"), json={"amount": 100}
    )
    assert answer.status_code == 400
    assert answer.json()["fields"] == ["Idempotency-Key"]


def test_a_request_in_flight_under_the_key_answers_409(api: Api) -> None:
    loan = api.open_loan("alice")
    route = f"loans.pay:{loan['loan_id']}"
    store = api.world.bus.get(IdempotencyStore)
    store.begin(
        scoped_key(user_id="alice", route=route, key="busy"),
        fingerprint=fingerprint(route, PaymentRequest(100)),
        now=api.world.clock.now(),
        ttl=KEY_TTL,
    )
    answer = api.post("alice", f"/loans/{loan['loan_id']}/payments", {"amount": 100}, key="busy")
    assert answer.status_code == 409, answer.text
    assert answer.json()["fields"] == []
    assert api.get("alice", f"/loans/{loan['loan_id']}/payments").json()["items"] == []
