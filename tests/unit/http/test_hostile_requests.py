"""What a hostile client, an outage or a crash does to the HTTP API: a clear answer, no
money moved twice, nothing changed by a refused request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from deployment import LINES_OPENED, Deployment
from http_api import Api
from litestar.testing import TestClient
from structlog.testing import capture_logs

from loc_core.errors import ExternalServiceError
from loc_core.payments import Rail
from loc_core.ports import IdempotencyStore
from loc_core.services.commands import MakePayment
from loc_entrypoints.http import create_app
from loc_entrypoints.http.idempotency import CLAIM_STALE_AFTER, KEY_TTL, fingerprint, scoped_key
from loc_entrypoints.http.loans import PaymentRequest

PROBLEMS = "https://loc.dev/problems/"


def _state(api: Api, user: str, loan_id: str) -> tuple[Any, ...]:
    """What a refused request must leave as it was: the loan, its payments, the rail."""
    loan = api.get(user, f"/loans/{loan_id}").json()
    payments = api.get(user, f"/loans/{loan_id}/payments").json()["items"]
    return loan["outstanding_balance"], len(payments), len(api.world.sim.submitted)


def _raw(
    api: Api, path: str, content: bytes, content_type: str | None, **kw: Any
) -> httpx.Response:
    headers = api.headers("alice", key=api.key(), **kw)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.post(path, headers=headers, content=content)


def test_an_outage_answers_503_and_is_not_logged_as_a_defect(api: Api) -> None:
    loan = api.open_loan("alice")
    before = _state(api, "alice", loan["loan_id"])
    api.world.sim.down.update(set(Rail))
    with capture_logs() as logs:
        answer = api.post("alice", f"/loans/{loan['loan_id']}/payments", {"amount": 5_000})
    assert answer.status_code == 503, answer.text
    assert answer.json()["type"] == PROBLEMS + "rail-unavailable"
    assert answer.json()["correlation_id"]
    events = [log["event"] for log in logs]
    assert "http.outside_service_failed" in events
    assert "http.unexpected_error" not in events
    assert _state(api, "alice", loan["loan_id"]) == before


def test_a_request_whose_process_died_is_resumed_once_its_claim_is_stale(api: Api) -> None:
    loan = api.open_loan("alice")
    path, route = f"/loans/{loan['loan_id']}/payments", f"loans.pay:{loan['loan_id']}"
    moved_before = len(api.world.sim.submitted)
    # a process claimed the key, moved the money, and died before recording the answer
    api.world.bus.get(IdempotencyStore).begin(
        scoped_key(user_id="alice", route=route, key="pay-crash"),
        fingerprint=fingerprint(route, PaymentRequest(5_000)),
        now=api.world.clock.now(),
        ttl=KEY_TTL,
    )
    api.world.bus.handle(MakePayment("alice", loan["loan_id"], 5_000, "pay-crash"))

    early = api.post("alice", path, {"amount": 5_000}, key="pay-crash")
    assert early.status_code == 409, early.text  # the first may still be running
    api.world.clock.set(api.world.clock.now() + CLAIM_STALE_AFTER)
    resumed = api.post("alice", path, {"amount": 5_000}, key="pay-crash")
    assert resumed.status_code == 201, resumed.text
    again = api.post("alice", path, {"amount": 5_000}, key="pay-crash")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == resumed.json()
    after = api.get("alice", f"/loans/{loan['loan_id']}").json()
    assert after["outstanding_balance"] == loan["outstanding_balance"] - 5_000
    assert len(api.world.sim.submitted) == moved_before + 1  # the money moved once


class _ForgetfulStore:
    """An idempotency store whose first record of an HTTP answer fails (a throttle)."""

    def __init__(self, inner: IdempotencyStore) -> None:
        self.inner = inner
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def complete(self, key: str, **kwargs: Any) -> None:
        if key.startswith("http:") and not self.failed:
            self.failed = True
            raise ExternalServiceError("the table throttled the write")
        self.inner.complete(key, **kwargs)


def test_an_answer_the_store_failed_to_record_is_given_and_a_repeat_replays_it() -> None:
    world = Deployment.build(now=LINES_OPENED, seed=3)
    store = _ForgetfulStore(world.bus.get(IdempotencyStore))
    bus = world.bus.replacing({IdempotencyStore: store})
    with TestClient(create_app(bus=bus)) as client:
        api = Api(world, client)
        loan = api.open_loan("alice")  # its apply call is the one whose record failed
        assert store.failed
        path = f"/loans/{loan['loan_id']}/payments"
        first = api.post("alice", path, {"amount": 5_000}, key="pay-1")
        repeat = api.post("alice", path, {"amount": 5_000}, key="pay-1")
        assert first.status_code == repeat.status_code == 201
        assert repeat.json()["payment_id"] == first.json()["payment_id"]
        # the application's key was released, so its repeat ran the command again,
        # whose own key answered the same application
        applications = api.get("alice", "/loans/applications").json()["items"]
        assert len(applications) == 1
        after = api.get("alice", f"/loans/{loan['loan_id']}").json()
    assert after["outstanding_balance"] == loan["outstanding_balance"] - 5_000


def test_callers_whose_ids_hold_colons_never_share_a_key(api: Api) -> None:
    victim = api.post(
        "us-east-1", "/loans/applications", {"requested_amount": 30_000}, key="loans.apply:k1"
    )
    other = api.post(
        "us-east-1:loans.apply", "/loans/applications", {"requested_amount": 30_000}, key="k1"
    )
    assert victim.status_code == other.status_code == 201, other.text
    assert "Idempotent-Replayed" not in other.headers
    assert other.json()["application_id"] != victim.json()["application_id"]
    mine = api.get("us-east-1:loans.apply", "/loans/applications").json()["items"]
    assert [app["application_id"] for app in mine] == [other.json()["application_id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"amount": "5000"}', "amount"),
        (b'{"amount": 5000.0}', "amount"),
        (b'{"amount": 5e3}', "amount"),
        (b'{"amount": true}', "amount"),
        (b'{"amount": null}', "amount"),
        (b'{"amount": 1, "amount": 5000}', "body"),
        (b'{"amount": 5000, "amout": 5000}', "amout"),
        (b'{"amount": NaN}', "body"),
        (b'{"amount": Infinity}', "body"),
        (b"[5000]", "body"),
        (b'"5000"', "body"),
        (b'{"amount": 5000', "body"),
        (b'{"amount": 5000}\xff', "body"),
        (b'{"amount": 5000, "x": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", "body"),
    ],
)
def test_a_payment_body_is_read_strictly(api: Api, body: bytes, field: str) -> None:
    loan = api.open_loan("alice")
    before = _state(api, "alice", loan["loan_id"])
    answer = _raw(api, f"/loans/{loan['loan_id']}/payments", body, "application/json")
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == PROBLEMS + "invalid-request"
    assert answer.json()["fields"] == [field]
    assert _state(api, "alice", loan["loan_id"]) == before


@pytest.mark.parametrize("body", [b'{"enabled": "false"}', b'{"enabled": 0}', b'{"enabled": 1}'])
def test_a_flag_is_true_or_false_not_a_truthy_value(api: Api, body: bytes) -> None:
    loan = api.open_loan("alice")
    headers = {**api.headers("alice"), "Content-Type": "application/json"}
    answer = api.client.put(f"/loans/{loan['loan_id']}/autopay", headers=headers, content=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["fields"] == ["enabled"]
    assert api.get("alice", f"/loans/{loan['loan_id']}").json()["autopay_enabled"] is True


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", None]
)
def test_a_body_in_another_media_type_answers_415(api: Api, content_type: str | None) -> None:
    loan = api.open_loan("alice")
    before = _state(api, "alice", loan["loan_id"])
    answer = _raw(api, f"/loans/{loan['loan_id']}/payments", b'{"amount": 5000}', content_type)
    assert answer.status_code == 415, answer.text
    assert answer.json()["type"] == PROBLEMS + "unsupported-media-type"
    assert _state(api, "alice", loan["loan_id"]) == before


def test_a_json_body_with_a_charset_is_read(api: Api) -> None:
    loan = api.open_loan("alice")
    path = f"/loans/{loan['loan_id']}/payments"
    answer = _raw(api, path, b'{"amount": 5000}', "application/json; charset=utf-8")
    assert answer.status_code == 201, answer.text


def test_a_request_without_a_token_answers_401_whatever_else_is_wrong(api: Api) -> None:
    deep = b'{"requested_amount": 1, "x": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"
    for headers, body in (
        ({"Content-Type": "application/json"}, deep),  # unreadable body
        ({"Content-Type": "text/plain"}, b"{}"),  # wrong media type
        ({"Content-Type": "application/json"}, b'{"requested_amount": 30000}'),  # no key
    ):
        answer = api.client.post("/loans/applications", headers=headers, content=body)
        assert answer.status_code == 401, answer.text
        assert answer.json()["type"] == PROBLEMS + "not-authorized"
    assert api.get("alice", "/loans/applications").json()["items"] == []


def test_a_borrower_on_an_operations_route_answers_403_before_its_body_is_read(api: Api) -> None:
    answer = _raw(api, "/operations/jobs/billing_job", b'{"business_date": 5}', "application/json")
    assert answer.status_code == 403, answer.text
    service = _raw(
        api,
        "/operations/jobs/billing_job",
        b'{"business_date": 5}',
        "application/json",
        service=True,
    )
    assert service.status_code == 400, service.text
    assert service.json()["fields"] == ["business_date"]


def test_a_route_that_takes_a_body_needs_one_and_names_what_it_lacks(api: Api) -> None:
    loan = api.open_loan("alice")
    before = _state(api, "alice", loan["loan_id"])
    for content_type, body, field in (
        (None, b"", "amount"),
        ("application/json", b"", "amount"),
        ("application/json", b"   ", "body"),
    ):
        answer = _raw(api, f"/loans/{loan['loan_id']}/payments", body, content_type)
        assert answer.status_code == 400, answer.text
        assert answer.json()["fields"] == [field]
    assert _state(api, "alice", loan["loan_id"]) == before
    applied = api.post("bob", "/loans/applications", {"requested_amount": 30_000}).json()
    accept = f"/loans/applications/{applied['application_id']}/accept"
    without = api.client.post(accept, headers=api.headers("bob", key=api.key()))
    assert without.status_code == 400, without.text
    assert without.json()["fields"] == ["body"]
    assert "{} takes the defaults" in without.json()["detail"]
    assert api.post("bob", accept, {}).status_code == 201  # {} takes them


def test_accepting_an_accepted_offer_again_with_the_other_autopay_choice_is_refused(
    api: Api,
) -> None:
    loan = api.open_loan("alice")  # accepted with autopay on
    accept = f"/loans/applications/{loan['application_id']}/accept"
    moved = len(api.world.sim.submitted)
    other = api.post("alice", accept, {"autopay_enabled": False})
    assert other.status_code == 422, other.text
    assert other.json()["type"] == PROBLEMS + "application-already-converted"
    assert "change autopay on the loan" in other.json()["detail"]
    same = api.post("alice", accept, {"autopay_enabled": True})  # a repeat: the loan
    assert same.status_code == 201, same.text
    assert same.json()["loan_id"] == loan["loan_id"]
    after = api.get("alice", f"/loans/{loan['loan_id']}").json()
    assert after["autopay_enabled"] is True
    assert len(api.world.sim.submitted) == moved  # nothing disbursed again


def test_head_answers_as_get_does_without_the_body(api: Api) -> None:
    """RFC 9110 9.3.2: a monitor or cache asking HEAD gets the GET's status and headers."""
    loan_id = api.open_loan("alice")["loan_id"]
    path = f"/loans/{loan_id}"
    got = api.get("alice", path)
    head = api.client.head(path, headers=api.headers("alice"))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"] != "0"
    assert head.headers["content-type"] == got.headers["content-type"]
    assert api.client.head(path).status_code == 401  # the same authentication
    assert api.client.head(f"/loans/{loan_id}x", headers=api.headers("alice")).status_code == 404
    assert api.client.head(f"/loans/{loan_id}", headers=api.headers("bob")).status_code == 404
    posted_only = api.client.head("/loans/applications/x/accept", headers=api.headers("alice"))
    assert posted_only.status_code == 405
    assert posted_only.content == b""
