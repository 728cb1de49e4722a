"""`PayEngineRails` outcome mapping over `httpx.MockTransport`: the money rule of the port."""

import datetime as dt
import itertools
import traceback
import types
from collections.abc import Callable, Iterator

import pytest
from contracts.rails import transfer

from loc_core.errors import ExternalServiceError, RailUnavailable
from loc_core.payments import Direction

pytest.importorskip("httpx", reason="the payengine extra is not installed")

import httpx
import stamina
from stamina import instrumentation as stamina_instrumentation

from loc_adapters.payengine import PayEngineRails, contract

API_KEY = "sk_live_do_not_leak_4242"
Handler = Callable[[httpx.Request], httpx.Response]


def created(request: httpx.Request, status: int = 201) -> httpx.Response:
    key = request.headers[contract.HEADER_IDEMPOTENCY_KEY]
    return httpx.Response(status, json={"id": "tr_1", "idempotency_key": key, "status": "accepted"})


def error(status: int, code: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=contract.error_body(code, "no"), headers=headers)


def answering(
    *answers: Callable[[httpx.Request], httpx.Response],
) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving one answer per call, in order (the last repeats); and the calls."""
    calls: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answers[min(len(calls), len(answers)) - 1](request)

    return handle, calls


def raising(kind: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def fail(request: httpx.Request) -> httpx.Response:
        raise kind("boom", request=request)

    return fail


def rails(
    handler: Handler,
    *,
    timeout: dt.timedelta = dt.timedelta(seconds=2),
    attempts: int = 3,
) -> PayEngineRails:
    client = httpx.Client(
        transport=httpx.MockTransport(handler),
        base_url="https://payengine.test",
        headers={contract.HEADER_AUTHORIZATION: f"Bearer {API_KEY}"},
    )
    return PayEngineRails(
        client,
        timeout=timeout,
        attempts=attempts,
        wait_initial=dt.timedelta(milliseconds=5),
        wait_max=dt.timedelta(milliseconds=20),
    )


@pytest.fixture
def waits() -> Iterator[list[float]]:
    """The backoff stamina chose before each retry (real waits, even where a suite's
    fixture switched stamina to testing mode)."""
    seen: list[float] = []
    before = stamina_instrumentation.get_on_retry_hooks()
    stamina_instrumentation.set_on_retry_hooks([lambda details: seen.append(details.wait_for)])
    with stamina.set_testing(False):
        yield seen
    stamina_instrumentation.set_on_retry_hooks(before)


def test_a_transfer_goes_out_with_its_key_as_the_idempotency_header() -> None:
    handler, calls = answering(created)
    result = rails(handler).submit(transfer("pay-7"))
    assert result.accepted
    assert result.confirmation_id == "tr_1"
    assert calls[0].headers[contract.HEADER_IDEMPOTENCY_KEY] == "pay-7"
    assert calls[0].url.path == "/transfers"


def test_a_definite_4xx_refusal_is_a_decline_and_not_retried() -> None:
    handler, calls = answering(lambda _: error(422, contract.ERROR_INVALID_REQUEST))
    result = rails(handler).submit(transfer())
    assert not result.accepted
    assert contract.ERROR_INVALID_REQUEST in result.decline_reason
    assert len(calls) == 1


def test_a_declined_status_is_a_decline() -> None:
    handler, _ = answering(
        lambda request: httpx.Response(
            201,
            json={
                "id": None,
                "idempotency_key": request.headers[contract.HEADER_IDEMPOTENCY_KEY],
                "status": "declined",
                "decline_reason": "NSF",
            },
        )
    )
    assert rails(handler).submit(transfer()).decline_reason == "NSF"


def test_a_connection_never_made_is_rail_unavailable_after_the_retries() -> None:
    handler, calls = answering(raising(httpx.ConnectError))
    with pytest.raises(RailUnavailable):
        rails(handler).submit(transfer())
    assert len(calls) == 3


@pytest.mark.parametrize(
    "failure",
    [
        raising(httpx.ReadTimeout),
        raising(httpx.RemoteProtocolError),
        lambda _: error(500, "internal_error"),
        lambda _: error(502, "bad_gateway"),
    ],
    ids=["read-timeout", "dropped-connection", "500", "502"],
)
def test_no_answer_after_sending_is_an_unknown_outcome_retried_with_the_same_key(
    failure: Callable[[httpx.Request], httpx.Response],
) -> None:
    handler, calls = answering(failure)
    with pytest.raises(ExternalServiceError) as raised:
        rails(handler).submit(transfer("pay-9"))
    assert not isinstance(raised.value, RailUnavailable)
    assert raised.value.key == "pay-9"
    assert [c.headers[contract.HEADER_IDEMPOTENCY_KEY] for c in calls] == ["pay-9"] * 3


def test_once_an_attempt_may_have_arrived_the_outcome_stays_unknown() -> None:
    handler, _ = answering(raising(httpx.ReadTimeout), raising(httpx.ConnectError))
    with pytest.raises(ExternalServiceError) as raised:
        rails(handler).submit(transfer())
    assert not isinstance(raised.value, RailUnavailable)


def test_a_5xx_then_an_answer_is_the_answer() -> None:
    handler, calls = answering(lambda _: error(503, "busy"), created)
    assert rails(handler).submit(transfer()).accepted
    assert len(calls) == 2


def test_retry_after_is_honoured(waits: list[float]) -> None:
    handler, calls = answering(lambda _: error(429, "slow_down", **{"Retry-After": "1"}), created)
    assert rails(handler).submit(transfer()).accepted
    assert waits[0] == 1.0  # the wait PayEngine asked for (a retry after an attempt
    assert len(calls) >= 2  # that outlived its budget on a loaded machine may follow)


def test_a_retry_after_beyond_the_budget_is_not_waited_for() -> None:
    handler, calls = answering(lambda _: error(429, "slow_down", **{"Retry-After": "60"}))
    with pytest.raises(RailUnavailable):  # a 429 processed nothing
        rails(handler).submit(transfer())
    assert len(calls) == 1


def test_retries_stay_within_the_declared_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget is kept by the clock the adapter reads, not by luck: each reading of a
    clock that moves 40 ms a look spends the 300 ms budget in a few attempts (this test
    timed the wall clock, and failed on a loaded machine)."""
    ticks = itertools.count()
    moving = types.SimpleNamespace(monotonic=lambda: 1_000 + 0.04 * next(ticks))
    monkeypatch.setattr("loc_adapters.payengine.client.time", moving)
    monkeypatch.setattr("loc_adapters._retrying.time", moving)
    handler, calls = answering(lambda _: error(500, "internal_error"))
    adapter = rails(handler, timeout=dt.timedelta(milliseconds=300), attempts=1000)
    with pytest.raises(ExternalServiceError):
        adapter.submit(transfer())
    assert 1 <= len(calls) <= 300 // 40  # not the 1,000 attempts it was allowed


def test_a_key_reused_for_another_body_is_an_error_and_not_a_decline() -> None:
    handler, calls = answering(lambda _: error(409, contract.ERROR_IDEMPOTENCY_KEY_REUSED))
    with pytest.raises(ExternalServiceError) as raised:
        rails(handler).submit(transfer())
    assert not isinstance(raised.value, RailUnavailable)
    assert len(calls) == 1


def test_a_rail_switched_off_at_payengine_is_rail_unavailable() -> None:
    handler, calls = answering(lambda _: error(503, contract.ERROR_RAIL_UNAVAILABLE))
    with pytest.raises(RailUnavailable):
        rails(handler).submit(transfer())
    assert len(calls) == 1


def test_find_reads_by_key_and_none_is_only_a_404_not_found() -> None:
    handler, calls = answering(lambda _: error(404, contract.ERROR_NOT_FOUND))
    assert rails(handler).find("autopay:inst-1:1:ach") is None
    assert calls[0].url.raw_path == b"/transfers/autopay%3Ainst-1%3A1%3Aach"


def test_find_reads_what_payengine_records_it_moved_when_it_says() -> None:
    stated = {"id": "tr_1", "idempotency_key": "pay-1:ach", "status": "accepted"}
    said = {"amount_cents": 5_000, "direction": "debit", "created_at": "2026-01-19T23:30:00-05:00"}
    handler, _ = answering(lambda _: httpx.Response(200, json={**stated, **said}))
    found = rails(handler).find("pay-1:ach")
    assert found is not None
    assert (found.amount, found.direction) == (5_000, Direction.DEBIT)
    assert found.accepted_at == dt.datetime(2026, 1, 20, 4, 30, tzinfo=dt.UTC)  # read as UTC
    handler, _ = answering(lambda _: httpx.Response(200, json=stated))
    found = rails(handler).find("pay-1:ach")
    assert found is not None
    assert (found.accepted, found.amount, found.direction, found.accepted_at) == (
        True,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "failure",
    [raising(httpx.ConnectError), lambda _: error(500, "internal_error")],
    ids=["unreachable", "500"],
)
def test_find_that_cannot_tell_is_an_error_never_none(
    failure: Callable[[httpx.Request], httpx.Response],
) -> None:
    handler, _ = answering(failure)
    with pytest.raises(ExternalServiceError) as raised:
        rails(handler).find("pay-1")
    assert not isinstance(raised.value, RailUnavailable)


@pytest.mark.parametrize(
    "failure",
    [raising(httpx.ConnectError), raising(httpx.ReadTimeout), lambda _: error(500, "x")],
    ids=["unreachable", "timeout", "500"],
)
def test_no_error_text_or_repr_shows_the_api_key(
    failure: Callable[[httpx.Request], httpx.Response],
) -> None:
    handler, _ = answering(failure)
    adapter = rails(handler)
    with pytest.raises(ExternalServiceError) as raised:
        adapter.submit(transfer())
    text = "".join(traceback.format_exception(raised.value)) + repr(adapter)
    assert API_KEY not in text


def test_connect_builds_an_authenticated_client_without_showing_the_key() -> None:
    adapter = PayEngineRails.connect("https://payengine.test", API_KEY)
    assert adapter.client.headers[contract.HEADER_AUTHORIZATION] == f"Bearer {API_KEY}"
    assert API_KEY not in repr(adapter)
    assert adapter.timeout == dt.timedelta(seconds=10)
    adapter.client.close()
