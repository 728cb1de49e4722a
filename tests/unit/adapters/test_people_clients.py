"""`HttpUsers` and `HttpUnderwriting` over `httpx.MockTransport` and over real HTTP on
127.0.0.1, beside the memory fakes: the same contracts, then the outcome mapping."""

import datetime as dt
import json
from collections.abc import Iterator

import attrs
import pytest
from contracts.people import UnderwritingContract, UsersContract

from loc_adapters.memory import InMemoryUsers, SimulatedUnderwriting
from loc_core.errors import ExternalServiceError, NotFound
from loc_core.ports import Underwriting, Users

pytest.importorskip("httpx", reason="the people extra is not installed")

import httpx
from local_http import serve

from loc_adapters.people import HttpUnderwriting, HttpUsers, contract


def known_users() -> InMemoryUsers:
    users = InMemoryUsers()
    users.add("user-1")
    users.add("user-2", active=False)
    return users


@attrs.define
class FakePeople:
    """The user and underwriting services, answering from the memory fakes."""

    users: InMemoryUsers = attrs.field(factory=known_users)
    underwriting: SimulatedUnderwriting = attrs.field(factory=lambda: SimulatedUnderwriting(7))
    answers: list[httpx.Response] = attrs.field(factory=list)
    """Answers served, in order, before the services work normally."""
    requests: list[httpx.Request] = attrs.field(factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)
        path = request.url.path
        if request.method == "GET" and path.startswith("/users/"):
            try:
                found = self.users.get(path.removeprefix("/users/"))
            except NotFound:
                return httpx.Response(404, json={"code": "user_not_found", "message": ""})
            return httpx.Response(200, json=contract.user_body(found))
        body = json.loads(request.content)
        if path == contract.LOAN_DECISIONS_PATH:
            loan = self.underwriting.decide_loan(
                body["user_id"], requested_amount=body["requested_amount"]
            )
            return httpx.Response(200, json=contract.loan_decision_body(loan))
        line = self.underwriting.decide_line(body["user_id"])
        return httpx.Response(200, json=contract.line_decision_body(line))


def mock_client(people: FakePeople) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(people.handle), base_url="https://people")


def http_users(client: httpx.Client) -> HttpUsers:
    return HttpUsers(
        client, wait_initial=dt.timedelta(milliseconds=1), wait_max=dt.timedelta(milliseconds=2)
    )


@pytest.fixture
def people() -> FakePeople:
    return FakePeople()


@pytest.fixture
def reference() -> Underwriting:
    return SimulatedUnderwriting(7)


class TestInMemoryUsers(UsersContract):
    @pytest.fixture
    def users(self) -> Users:
        return known_users()


class TestHttpUsersOverMockTransport(UsersContract):
    @pytest.fixture
    def users(self, people: FakePeople) -> Users:
        return http_users(mock_client(people))


class TestHttpUsersOverLocalHttp(UsersContract):
    @pytest.fixture
    def users(self, people: FakePeople) -> Iterator[Users]:
        with serve(people.handle) as url, httpx.Client(base_url=url) as client:
            yield http_users(client)


class TestSimulatedUnderwriting(UnderwritingContract):
    @pytest.fixture
    def underwriting(self) -> Underwriting:
        return SimulatedUnderwriting(7)


class TestHttpUnderwritingOverMockTransport(UnderwritingContract):
    @pytest.fixture
    def underwriting(self, people: FakePeople) -> Underwriting:
        return HttpUnderwriting(mock_client(people))


class TestHttpUnderwritingOverLocalHttp(UnderwritingContract):
    @pytest.fixture
    def underwriting(self, people: FakePeople) -> Iterator[Underwriting]:
        with serve(people.handle) as url, httpx.Client(base_url=url) as client:
            yield HttpUnderwriting(client)


def test_a_user_read_is_retried_through_5xx_and_timeouts(people: FakePeople) -> None:
    people.answers = [httpx.Response(503)]
    timing_out = [True]

    def flaky(request: httpx.Request) -> httpx.Response:
        if timing_out.pop() if timing_out else False:
            raise httpx.ReadTimeout("slow", request=request)
        return people.handle(request)

    client = httpx.Client(transport=httpx.MockTransport(flaky), base_url="https://people")
    assert http_users(client).get("user-1").active
    assert len(people.requests) == 2  # the timeout never reached the fake


def test_a_user_service_that_stays_down_is_an_external_error_after_bounded_attempts(
    people: FakePeople,
) -> None:
    people.answers = [httpx.Response(500)] * 5
    with pytest.raises(ExternalServiceError, match="answered 500") as failed:
        http_users(mock_client(people)).get("user-1")
    assert failed.value.user_id == "user-1"
    assert len(people.requests) == 3


def test_a_refusal_is_not_retried(people: FakePeople) -> None:
    people.answers = [httpx.Response(403)]
    with pytest.raises(ExternalServiceError, match="answered 403"):
        http_users(mock_client(people)).get("user-1")
    assert len(people.requests) == 1


def test_a_decision_is_asked_once_even_when_the_service_fails(people: FakePeople) -> None:
    people.answers = [httpx.Response(502)]
    with pytest.raises(ExternalServiceError, match="answered 502"):
        HttpUnderwriting(mock_client(people)).decide_line("user-1")
    assert len(people.requests) == 1


def test_an_unreachable_service_is_an_external_error() -> None:
    client = httpx.Client(base_url="http://127.0.0.1:9", timeout=1)
    with client, pytest.raises(ExternalServiceError, match="unreachable"):
        HttpUnderwriting(client).decide_loan("user-1", requested_amount=10_000)


APPROVING = {
    "approved": True,
    "loan_amount": 30_000,
    "fee": {"type": "percentage", "percent": "5"},
    "installment_count": 4,
    "adverse_actions": [],
}


@pytest.mark.parametrize(
    "answer",
    [
        {**APPROVING, "approved": "false"},  # loosely typed services say no this way
        {**APPROVING, "approved": "true"},
        {**APPROVING, "approved": 1},
        {**APPROVING, "approved": {"decision": "declined"}},
        {key: value for key, value in APPROVING.items() if key != "approved"},
        {**APPROVING, "loan_amount": "30000"},
        {**APPROVING, "loan_amount": 300.0},
        {**APPROVING, "installment_count": True},
        {**APPROVING, "fee": {"type": "percentage", "percent": 5.5}},
        {**APPROVING, "fee": {"type": "percentage", "percent": "NaN"}},
        {**APPROVING, "fee": {"type": "bonus", "percent": "5"}},
        {**APPROVING, "adverse_actions": [{"code": 7, "text": "x"}]},
        [APPROVING],
    ],
)
def test_an_underwriting_answer_outside_the_contract_never_approves(
    people: FakePeople, answer: object
) -> None:
    people.answers = [httpx.Response(200, json=answer)]
    with pytest.raises(ExternalServiceError, match=r"outside its contract|not an object"):
        HttpUnderwriting(mock_client(people)).decide_loan("user-1", requested_amount=30_000)


@pytest.mark.parametrize(
    "answer",
    [
        {"approved": "yes", "credit_limit": 100_000, "apr": "29.99"},
        {"approved": True, "credit_limit": "100000", "apr": "29.99"},
        {"approved": True, "credit_limit": 100_000, "apr": 29.99},
    ],
)
def test_a_line_answer_outside_the_contract_never_approves(
    people: FakePeople, answer: object
) -> None:
    people.answers = [httpx.Response(200, json=answer)]
    with pytest.raises(ExternalServiceError, match="outside its contract"):
        HttpUnderwriting(mock_client(people)).decide_line("user-1")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"user_id": "user-1", "active": "false"}),
        httpx.Response(200, json={"active": True}),
        httpx.Response(200, content=b"<html>maintenance</html>"),
        httpx.Response(200, json=["user-1"]),
    ],
)
def test_a_user_answer_outside_the_contract_is_an_external_error(
    people: FakePeople, response: httpx.Response
) -> None:
    people.answers = [response]
    with pytest.raises(ExternalServiceError):
        http_users(mock_client(people)).get("user-1")
