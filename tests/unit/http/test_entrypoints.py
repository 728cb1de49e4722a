"""The HTTP API's entrypoints: the OpenAPI document, `loc token`, Mangum on Lambda, 500s."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import gc
import json
import sys
import warnings
from pathlib import Path

import attrs
import pytest
import structlog
from click.testing import CliRunner
from deployment import LINES_OPENED, Deployment
from http_api import Api
from litestar.testing import TestClient
from structlog.testing import capture_logs

from loc_core.services.commands import CheckEligibility
from loc_core.services.messagebus import MessageBus
from loc_entrypoints.cli import main
from loc_entrypoints.http import create_app, openapi_document
from loc_entrypoints.http.auth import LOCAL_SECRET, Verifier, mint_token
from loc_entrypoints.lambdas import http as lambda_http

ROOT = Path(__file__).parents[3]


def test_docs_openapi_json_is_current() -> None:
    written = (ROOT / "docs" / "openapi.json").read_text()
    assert written == openapi_document(create_app()), "stale: run `loc openapi`"


def test_every_operation_has_an_id_a_summary_and_its_problems() -> None:
    document = json.loads(openapi_document(create_app()))
    assert document["openapi"].startswith("3.1")
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert len(operations) == 42  # 29 + 7 documents + 2 audits + refund paid, dispute, 2 waivers
    for operation in operations:
        assert operation["operationId"], operation
        assert operation["summary"], operation
        assert {"400", "401", "500"} <= set(operation["responses"]), operation["operationId"]
        problem = operation["responses"]["401"]["content"]
        assert list(problem) == ["application/problem+json"]


def test_loc_token_mints_what_the_embedded_default_verifies(tmp_path: Path) -> None:
    runner = CliRunner()
    minted = runner.invoke(main, ["token", "alice", "--service"])
    assert minted.exit_code == 0, minted.output
    claims = Verifier(secret=LOCAL_SECRET).verify(minted.output.strip())
    assert claims["sub"] == "alice"
    assert claims["loc_role"] == "service"
    refused = runner.invoke(main, ["token", "not#valid"])
    assert refused.exit_code == 2
    out = tmp_path / "openapi.json"
    assert runner.invoke(main, ["openapi", "--out", str(out)]).exit_code == 0
    assert out.read_text() == openapi_document(create_app())


@attrs.frozen
class Context:
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _gateway_event(path: str, claims: dict[str, str] | None) -> dict[str, object]:
    context: dict[str, object] = {
        "http": {"method": "GET", "path": path, "sourceIp": "10.0.0.1", "protocol": "HTTP/1.1"},
        "requestId": "gw-1",
        "stage": "$default",
    }
    if claims is not None:  # as the authorizer hands them on: with iat and exp, as text
        now = int(dt.datetime.now(dt.UTC).timestamp())
        lived = {"iat": str(now), "exp": str(now + 3_600)}
        context["authorizer"] = {"jwt": {"claims": {**lived, **claims}, "scopes": []}}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example.com"},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def test_on_lambda_the_authorizers_claims_name_the_caller() -> None:
    world = Deployment.build(now=LINES_OPENED)
    lambda_http.RUNTIME.use(world.bus)
    lambda_http.reset()
    try:
        answer = lambda_http.handler(
            _gateway_event("/loans/eligibility", {"sub": "carol"}), Context("req-1")
        )
        assert answer["statusCode"] == 200, answer
        assert json.loads(answer["body"]) == {"eligible": True, "reasons": []}
        anonymous = lambda_http.handler(_gateway_event("/loans", None), Context("req-2"))
        assert anonymous["statusCode"] == 401
    finally:
        lambda_http.reset()


def test_the_lambda_function_leaves_no_event_loop_open_behind_it() -> None:
    """Mangum's loop is the function's own: none is left current, and `reset` closes it.

    A loop left open was collected later, in whatever test ran next (`asyncio.run` drops
    the thread's loop), as an unclosed loop and two sockets.
    """
    world = Deployment.build(now=LINES_OPENED)
    lambda_http.RUNTIME.use(world.bus)
    lambda_http.reset()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            answer = lambda_http.handler(_gateway_event("/loans", None), Context("req-3"))
            assert answer["statusCode"] == 401
        finally:
            lambda_http.reset()
        asyncio.set_event_loop(None)  # as `asyncio.run` does when it ends
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_an_unexpected_error_is_a_500_problem_with_the_logged_correlation_id() -> None:
    world = Deployment.build(now=LINES_OPENED)

    def broken(_command: CheckEligibility) -> object:
        raise RuntimeError("a defect")

    handlers = dict(world.bus._tables[0])
    handlers[CheckEligibility] = broken
    bus = MessageBus(
        dependencies=world.bus._dependencies,
        handlers=handlers,
        event_handlers=world.bus._tables[1],
        messages=world.bus._tables[2],
    )
    with (
        TestClient(create_app(bus=bus)) as client,
        capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
    ):
        answer = client.get(
            "/loans/eligibility",
            headers={"Authorization": f"Bearer {mint_token('alice')}", "X-Correlation-Id": "c-42"},
        )
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["correlation_id"] == "c-42"
    assert answer.headers["X-Correlation-Id"] == "c-42"
    assert "a defect" not in answer.text
    [logged] = [line for line in logs if line["event"] == "http.unexpected_error"]
    assert logged["correlation_id"] == "c-42"
    [span] = [line for line in logs if line["event"] == "command failed"]
    assert span["correlation_id"] == "c-42"  # the bus's span logged under the same id


def test_every_problem_carries_the_requests_correlation_id(api: Api) -> None:
    chosen = {"X-Correlation-Id": "support-ticket-42"}
    missing = api.client.get("/loans/no-such-loan", headers={**api.headers("alice"), **chosen})
    unauthenticated = api.client.get("/loans")
    assert missing.status_code == 404
    assert missing.json()["correlation_id"] == "support-ticket-42"
    assert missing.headers["X-Correlation-Id"] == "support-ticket-42"
    assert unauthenticated.status_code == 401
    generated = unauthenticated.json()["correlation_id"]
    assert generated
    assert generated == unauthenticated.headers["X-Correlation-Id"]


@pytest.mark.parametrize(
    ("command", "arguments", "missing"),
    [
        ("serve", [], "uvicorn"),
        ("token", ["alice"], "jwt"),
        ("openapi", ["--out", "x"], "litestar"),
    ],
)
def test_an_http_command_without_the_http_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, command: str, arguments: list[str], missing: str
) -> None:
    for name in [
        name for name in sys.modules if name.split(".")[0] in {missing, "loc_entrypoints"}
    ]:
        if name.startswith("loc_entrypoints.http") or name.split(".")[0] == missing:
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, missing, None)  # import of it fails as if not installed
    result = CliRunner().invoke(main, [command, *arguments])
    assert result.exit_code == 1
    assert "needs the http extra" in result.output
    assert f"missing {missing}" in result.output
    assert "pip install 'loc[http]'" in result.output


@pytest.mark.parametrize(
    ("role", "status"),
    [
        pytest.param("[service]", 200, id="an-array-claim-as-the-authorizer-hands-it-on"),
        pytest.param("[admin service]", 200, id="two-roles"),
        pytest.param('["admin","service"]', 200, id="json-text"),
        pytest.param("service", 200, id="a-string"),
        pytest.param("[services]", 403, id="another-word"),
        pytest.param("[admin service-desk]", 403, id="a-longer-word"),
        pytest.param("", 403, id="none"),
    ],
)
def test_behind_api_gateway_a_role_claim_grants_the_service_role_as_a_whole_word(
    role: str, status: int
) -> None:
    """API Gateway's JWT authorizer hands an array claim on as one string, ``[a b]``."""
    world = Deployment.build(now=LINES_OPENED)
    lambda_http.RUNTIME.use(world.bus)
    lambda_http.reset()
    try:
        answer = lambda_http.handler(
            _gateway_event("/operations/audit/users/carol", {"sub": "ops", "loc_role": role}),
            Context("req-4"),
        )
    finally:
        lambda_http.reset()
    assert answer["statusCode"] == status, answer


# --- an encoded slash stays in its path segment ------------------------------------------

INVALID_LOAN_ID = {"type": "https://loc.dev/problems/invalid-request", "fields": ["loan_id"]}
"""What an id outside the id alphabet answers (400), an encoded slash in it included."""


@pytest.mark.parametrize(
    ("sent", "route"),
    [
        pytest.param("%2Fpayments", "/payments", id="upper-case"),
        pytest.param("%2finstallments", "/installments", id="lower-case"),
    ],
)
def test_an_encoded_slash_in_an_id_is_an_invalid_id_not_another_route(
    api: Api, sent: str, route: str
) -> None:
    loan = api.open_loan("alice")["loan_id"]
    answer = api.get("alice", f"/loans/{loan}{sent}")
    assert answer.status_code == 400, answer.text  # was 200: the loan's payments, installments
    assert {key: answer.json()[key] for key in INVALID_LOAN_ID} == INVALID_LOAN_ID
    assert api.get("alice", f"/loans/{loan}{route}").status_code == 200


def test_behind_api_gateway_an_encoded_slash_in_an_id_is_an_invalid_id() -> None:
    world = Deployment.build(now=LINES_OPENED)
    with TestClient(create_app(bus=world.bus)) as client:
        loan = Api(world, client).open_loan("carol")["loan_id"]
    lambda_http.RUNTIME.use(world.bus)
    lambda_http.reset()
    try:
        sent = _gateway_event(f"/loans/{loan}%2Fpayments", {"sub": "carol"})
        encoded = lambda_http.handler(sent, Context("req-5"))
        plain = _gateway_event(f"/loans/{loan}/payments", {"sub": "carol"})
        assert lambda_http.handler(plain, Context("req-6"))["statusCode"] == 200
    finally:
        lambda_http.reset()
    assert encoded["statusCode"] == 400, encoded  # was 200: Mangum decoded it to a route
    assert encoded["isBase64Encoded"]  # application/problem+json is not among Mangum's text types
    answer = json.loads(base64.b64decode(encoded["body"]))
    assert {key: answer[key] for key in INVALID_LOAN_ID} == INVALID_LOAN_ID
