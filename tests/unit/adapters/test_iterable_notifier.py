"""`IterableNotifier` over `httpx.MockTransport` and over real HTTP on 127.0.0.1, beside the
`RecordingNotifier`: the same notifier contract, then Iterable's wire and retry rules."""

import datetime as dt
import json
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from adverse_actions import REASONS, REPORT
from contracts.notifier import NotifierContract, Tracked, event

from loc_adapters.memory import RecordingNotifier
from loc_core.applications import declined_event
from loc_core.bookkeeping import Product
from loc_core.errors import ExternalServiceError
from loc_core.ports import Notifier

pytest.importorskip("httpx", reason="the iterable extra is not installed")

import httpx
import stamina
from local_http import serve
from stamina import instrumentation as stamina_instrumentation

from loc_adapters.iterable import IterableNotifier, contract

API_KEY = "it_live_never_in_a_message_4242"


@attrs.define
class FakeIterable:
    """Iterable's track endpoint: events kept by id (a known id is updated)."""

    events: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    requests: list[httpx.Request] = attrs.field(factory=list)
    answers: list[httpx.Response] = attrs.field(factory=list)
    """Answers served, in order, before the endpoint works normally."""
    refusing: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)
        if request.headers.get(contract.HEADER_API_KEY) != API_KEY:
            return httpx.Response(401, json={"code": "BadApiKey", "msg": "bad key"})
        if self.refusing:
            return httpx.Response(400, json={"code": "InvalidUserIdError", "msg": "no user"})
        body = json.loads(request.content)
        self.events[body["id"]] = body
        return httpx.Response(200, json={"code": "Success", "msg": ""})

    def tracked(self) -> dict[str, str]:
        return {event_id: body["eventName"] for event_id, body in self.events.items()}


def notifier_for(iterable: FakeIterable, *, attempts: int = 4) -> IterableNotifier:
    client = httpx.Client(
        transport=httpx.MockTransport(iterable.handle),
        base_url="https://api.iterable.test",
        headers={contract.HEADER_API_KEY: API_KEY},
    )
    return IterableNotifier(
        client,
        attempts=attempts,
        timeout=dt.timedelta(seconds=5),
        wait_initial=dt.timedelta(milliseconds=1),
        wait_max=dt.timedelta(milliseconds=5),
    )


@pytest.fixture
def iterable() -> FakeIterable:
    return FakeIterable()


class TestRecordingNotifier(NotifierContract):
    @pytest.fixture
    def recorder(self) -> RecordingNotifier:
        return RecordingNotifier()

    @pytest.fixture
    def notifier(self, recorder: RecordingNotifier) -> Notifier:
        return recorder

    @pytest.fixture
    def tracked(self, recorder: RecordingNotifier) -> Tracked:
        return lambda: {sent.event_id: sent.type.value for sent in recorder.sent}

    @pytest.fixture
    def refuse(self, recorder: RecordingNotifier) -> Any:
        return lambda: setattr(recorder, "failing", True)


class TestIterableNotifierOverMockTransport(NotifierContract):
    @pytest.fixture
    def notifier(self, iterable: FakeIterable) -> Notifier:
        return notifier_for(iterable)

    @pytest.fixture
    def tracked(self, iterable: FakeIterable) -> Tracked:
        return iterable.tracked

    @pytest.fixture
    def refuse(self, iterable: FakeIterable) -> Any:
        return lambda: setattr(iterable, "refusing", True)


class TestIterableNotifierOverHttp(TestIterableNotifierOverMockTransport):
    """The whole contract through a real socket on 127.0.0.1, built as a deployment would."""

    @pytest.fixture
    def notifier(self, iterable: FakeIterable) -> Iterator[Notifier]:
        with serve(iterable.handle) as url:
            notifier = IterableNotifier.connect(API_KEY, base_url=url)
            yield notifier
            notifier.client.close()


def test_an_event_is_posted_with_the_api_key_header_and_the_documented_body(
    iterable: FakeIterable,
) -> None:
    notifier_for(iterable).notify(event())
    (request,) = iterable.requests
    assert request.method == "POST"
    assert request.url.path == "/api/events/track"
    assert request.headers["Api-Key"] == API_KEY
    assert json.loads(request.content) == {
        "id": event().event_id,
        "userId": "user-1",
        "eventName": "payment_succeeded",
        "createdAt": 1767614400,  # 2026-01-05T12:00:00Z: the 5th from Honolulu to Sydney
        "dataFields": {
            "amount": 5000,
            "loan_id": "loan-1",
            "subject_id": "pay-1",
            "occurred_on": "2026-01-05",
        },
    }


def test_a_declined_application_is_tracked_without_its_consumer_report(
    iterable: FakeIterable,
) -> None:
    """FCRA 615(a)'s report (agency, score, key factors) stays in the notice PDF."""
    declined = declined_event(
        product=Product.INSTALLMENT,
        user_id="user-1",
        application_id="app-9",
        decided_on=dt.date(2026, 3, 5),
        adverse_actions=REASONS,
        requested_amount=80_000,
        consumer_report=REPORT,
    )
    notifier_for(iterable).notify(declined)
    (request,) = iterable.requests
    fields = json.loads(request.content)["dataFields"]
    assert fields["document"] == "/loans/applications/app-9/adverse-action-notice"
    assert fields["reason_1_code"] == REASONS[0].code
    assert [name for name in fields if "report" in name] == []
    sent = request.content.decode()
    assert REPORT.agency_name not in sent
    assert REPORT.score is not None
    assert REPORT.score.source not in sent
    assert REPORT.score.key_factors[0] not in sent


def test_throttling_and_server_errors_are_retried_with_the_same_id(
    iterable: FakeIterable,
) -> None:
    iterable.answers = [httpx.Response(429), httpx.Response(503), httpx.Response(500)]
    notifier_for(iterable).notify(event())
    assert len(iterable.requests) == 4
    assert {json.loads(r.content)["id"] for r in iterable.requests} == {event().event_id}
    assert iterable.tracked() == {event().event_id: "payment_succeeded"}


def test_a_transport_failure_is_retried() -> None:
    calls: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"code": "Success"})

    notifier = notifier_for(FakeIterable())
    notifier.client = httpx.Client(transport=httpx.MockTransport(flaky), base_url="https://x")
    notifier.notify(event())
    assert len(calls) == 2


def test_retries_are_bounded_then_the_event_is_refused(iterable: FakeIterable) -> None:
    iterable.answers = [httpx.Response(502) for _ in range(10)]
    with pytest.raises(ExternalServiceError) as raised:
        notifier_for(iterable, attempts=3).notify(event())
    assert len(iterable.requests) == 3
    assert raised.value.entity_id == event().event_id
    assert raised.value.user_id == "user-1"


def test_a_4xx_refusal_is_not_retried(iterable: FakeIterable) -> None:
    iterable.refusing = True
    with pytest.raises(ExternalServiceError, match="InvalidUserIdError"):
        notifier_for(iterable).notify(event())
    assert len(iterable.requests) == 1


@pytest.fixture
def waits() -> Iterator[list[float]]:
    """The waits stamina chose before each retry."""
    seen: list[float] = []
    before = stamina_instrumentation.get_on_retry_hooks()
    stamina_instrumentation.set_on_retry_hooks([lambda details: seen.append(details.wait_for)])
    with stamina.set_testing(False):
        yield seen
    stamina_instrumentation.set_on_retry_hooks(before)


def test_retry_after_is_honoured(iterable: FakeIterable, waits: list[float]) -> None:
    iterable.answers = [httpx.Response(429, headers={"Retry-After": "1"})]
    notifier_for(iterable).notify(event())
    assert waits == [1.0]


def test_a_retry_after_beyond_the_time_budget_gives_up_at_once(iterable: FakeIterable) -> None:
    iterable.answers = [httpx.Response(429, headers={"Retry-After": "3600"})]
    with pytest.raises(ExternalServiceError):
        notifier_for(iterable).notify(event())
    assert len(iterable.requests) == 1


def test_the_api_key_is_in_no_error_repr_or_log(
    iterable: FakeIterable, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    iterable.answers = [httpx.Response(500, json={"code": "Oops"}) for _ in range(4)]
    notifier = notifier_for(iterable)
    with pytest.raises(ExternalServiceError) as raised:
        notifier.notify(event())
    connected = IterableNotifier.connect(API_KEY)
    seen = [
        "".join(traceback.format_exception(raised.value)),
        repr(raised.value),
        repr(notifier),
        repr(connected),
        caplog.text,
    ]
    connected.client.close()
    assert not [text for text in seen if API_KEY in text]
