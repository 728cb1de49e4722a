"""Second hostile pass over the HTTP API's answers: what an error tells a borrower, and
that every answer a route really gives is the one its OpenAPI operation declares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NoReturn

import pytest
from deployment import LINES_OPENED, Deployment
from http_api import Api
from litestar.testing import TestClient

from loc_core.errors import ExternalServiceError
from loc_core.payments import Rail
from loc_core.ports import DocumentStore, Lock
from loc_core.services.commands import CloseLine
from loc_core.services.loans import payment_lease_key
from loc_entrypoints.http import create_app

PROBLEMS = "https://loc.dev/problems/"
OUTAGE = "DynamoDB GetItem failed: ThrottlingException: arn:aws:dynamodb:us-east-1:1234:table/loc"


class _DownStore:
    """A document store whose every call fails as an S3 outage does (its message for ops)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Callable[..., NoReturn]:
        def fail(*_: Any, **__: Any) -> NoReturn:
            raise ExternalServiceError(OUTAGE, entity="document")

        return fail


def _operations(api: Api) -> dict[str, dict[str, Any]]:
    """Every operation of the served OpenAPI document, by operationId."""
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    return {op["operationId"]: op for item in paths.values() for op in item.values()}


def test_a_held_lease_answers_409_without_naming_the_lock_or_its_owner(api: Api) -> None:
    loan = api.open_loan("alice")
    lease = payment_lease_key("alice", loan["loan_id"])
    owner = "collections-worker:ip-10-0-3-17"
    api.world.bus.get(Lock).acquire(lease, owner=owner, ttl=dt.timedelta(minutes=5))
    moved = len(api.world.sim.submitted)

    answer = api.post("alice", f"/loans/{loan['loan_id']}/payments", {"amount": 1_000})

    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["type"] == PROBLEMS + "lock-not-acquired"
    assert "retry" in problem["detail"]
    for internal in (owner, lease, "loc-collections", "ip-10-0-3-17"):
        assert internal not in answer.text
    assert len(api.world.sim.submitted) == moved


def test_an_outage_answers_503_without_the_outside_services_own_words() -> None:
    world = Deployment.build(now=LINES_OPENED, seed=3)
    bus = world.bus.replacing({DocumentStore: _DownStore(world.bus.get(DocumentStore))})
    with TestClient(create_app(bus=bus)) as client:
        api = Api(world, client)
        loan = api.open_loan("alice")
        answer = api.get("alice", f"/loans/{loan['loan_id']}/agreement")
        operations = _operations(api)
    assert answer.status_code == 503, answer.text
    problem = answer.json()
    assert problem["type"] == PROBLEMS + "external-service-error"
    assert problem["correlation_id"] == answer.headers["X-Correlation-Id"]
    for internal in ("DynamoDB", "arn:aws", "ThrottlingException"):
        assert internal not in answer.text
    # and the operation declares the answer it gave
    assert "503" in operations["getLoanAgreement"]["responses"]


def test_a_rail_outage_says_no_money_moved_without_the_rails_own_words(api: Api) -> None:
    loan = api.open_loan("alice")
    api.world.sim.down.update(set(Rail))
    answer = api.post("alice", f"/loans/{loan['loan_id']}/payments", {"amount": 1_000})
    assert answer.status_code == 503, answer.text
    assert answer.json()["type"] == PROBLEMS + "rail-unavailable"
    assert "unreachable" not in answer.json()["detail"]
    assert "no money moved" in answer.json()["detail"]


def test_every_operation_declares_503_for_an_outside_service_failing(api: Api) -> None:
    # any route reads the store (DynamoDB), whose outage answers 503
    undeclared = sorted(
        name for name, op in _operations(api).items() if "503" not in op["responses"]
    )
    assert undeclared == []


def test_run_job_declares_the_status_it_answers(api: Api) -> None:
    answer = api.post("ops", "/operations/jobs/billing_job", {}, service=True)
    assert answer.status_code == 200, answer.text
    declared = _operations(api)["runJob"]["responses"]
    assert "200" in declared
    assert "201" not in declared


def test_an_unknown_job_names_the_path_field_at_fault(api: Api) -> None:
    answer = api.post("ops", "/operations/jobs/no_such_job", {}, service=True)
    assert answer.status_code == 400, answer.text
    assert answer.json()["fields"] == ["job"]
    assert "billing_job" in answer.json()["detail"]  # the jobs there are


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="none"),
        pytest.param("Basic YWxpY2U6cHc=", id="another-scheme"),
        pytest.param("Bearer not-a-jwt", id="bad-token"),
    ],
)
def test_a_401_tells_the_client_to_send_a_bearer_token(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = api.client.get("/loans", headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(b"\xe9t\xe9", id="latin-1"),
        pytest.param("ticket-é".encode(), id="utf-8"),
    ],
)
def test_a_correlation_id_the_header_cannot_carry_back_is_replaced(api: Api, given: bytes) -> None:
    headers = [
        *((name.encode(), value.encode()) for name, value in api.headers("alice").items()),
        (b"X-Correlation-Id", given),
    ]
    answer = api.client.get("/loans/nope", headers=headers)
    assert answer.status_code == 404, answer.text
    echoed = answer.headers["X-Correlation-Id"]
    assert echoed.isascii()
    assert echoed == answer.json()["correlation_id"]


def test_a_printable_ascii_correlation_id_is_kept(api: Api) -> None:
    headers = {**api.headers("alice"), "X-Correlation-Id": "ticket 42/a"}
    answer = api.client.get("/loans/nope", headers=headers)
    assert answer.headers["X-Correlation-Id"] == "ticket 42/a"
    assert answer.json()["correlation_id"] == "ticket 42/a"


def test_a_body_over_the_limit_answers_413_as_the_operation_declares(api: Api) -> None:
    loan = api.open_loan("alice")
    headers = {**api.headers("alice", key=api.key()), "Content-Type": "application/json"}
    body = b'{"amount": 1000' + b" " * (10 * 1024 * 1024) + b"}"
    answer = api.client.post(f"/loans/{loan['loan_id']}/payments", headers=headers, content=body)
    assert answer.status_code == 413, answer.text
    assert answer.json()["type"] == PROBLEMS + "request-entity-too-large"
    assert api.get("alice", f"/loans/{loan['loan_id']}/payments").json()["items"] == []
    operations = _operations(api)
    with_body = [name for name, op in operations.items() if "requestBody" in op]
    assert with_body  # the POSTs and the PUT
    assert [name for name in with_body if "413" not in operations[name]["responses"]] == []


def test_a_borrowers_lines_page_like_every_list_and_none_is_hidden(api: Api) -> None:
    """listLines answered a bare array and dropped the cursor: with `limit=1`, a borrower
    with a closed line and a new one saw one line and no way to the other."""
    first = api.open_line("alice")
    api.world.bus.handle(CloseLine("alice", first["line_id"]))
    second = api.open_line("alice")
    page = api.get("alice", "/lines", limit=1).json()
    rest = api.get("alice", "/lines", limit=1, cursor=page["next_cursor"]).json()
    assert [line["line_id"] for line in page["items"] + rest["items"]] == [
        second["line_id"],
        first["line_id"],
    ]
    assert rest["next_cursor"] is None
