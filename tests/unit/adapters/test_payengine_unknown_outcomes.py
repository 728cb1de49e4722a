"""What a lender sees when PayEngine's answer does not settle a submit (review findings).

Each money path runs through `submit_in_order` over ACH then pinless, as a payment does:
an outcome that stays unknown must stop there, so PayEngine never gets a second transfer
for one payment under another rail's key.
"""

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from contracts.rails import transfer

from loc_core.errors import ExternalServiceError, RailUnavailable
from loc_core.payments import Direction, Rail
from loc_core.services.rails import RailAnswers, submit_in_order

pytest.importorskip("httpx", reason="the payengine extra is not installed")

import httpx
from structlog.testing import capture_logs

from loc_adapters.payengine import PayEngineRails, contract
from loc_adapters.people import HttpUsers

Answer = Callable[[httpx.Request], httpx.Response]


class PayEngine:
    """A MockTransport handler: answers in order per rail (the last repeats); records calls."""

    def __init__(self, ach: list[Answer], pinless: list[Answer] | None = None) -> None:
        self.answers = {"ach": ach, "pinless": pinless or [accepted]}
        self.calls: list[tuple[str, str]] = []
        """(rail, idempotency key) of every POST received."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        rail = json.loads(request.content)["rail"]
        self.calls.append((rail, request.headers[contract.HEADER_IDEMPOTENCY_KEY]))
        answers = self.answers[rail]
        seen = sum(1 for called, _ in self.calls if called == rail)
        return answers[min(seen, len(answers)) - 1](request)

    @property
    def rails_called(self) -> set[str]:
        return {rail for rail, _ in self.calls}


def accepted(request: httpx.Request) -> httpx.Response:
    key = request.headers[contract.HEADER_IDEMPOTENCY_KEY]
    return httpx.Response(201, json={"id": "tr_1", "idempotency_key": key, "status": "accepted"})


def error(status: int, code: str) -> Answer:
    return lambda _: httpx.Response(status, json=contract.error_body(code, "no"))


def read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("the answer was lost", request=request)


def rails(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    timeout: dt.timedelta = dt.timedelta(seconds=2),
    accounts: HttpUsers | None = None,
) -> PayEngineRails:
    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://pe.test")
    return PayEngineRails(
        client,
        timeout=timeout,
        attempts=3,
        wait_initial=dt.timedelta(milliseconds=5),
        wait_max=dt.timedelta(milliseconds=20),
        accounts=accounts,
    )


def pay(adapter: PayEngineRails) -> RailAnswers:
    return submit_in_order(
        adapter,
        order=[Rail.ACH, Rail.PINLESS],
        key=lambda rail: f"pay-1:{rail.value}",
        direction=Direction.DEBIT,
        user_id="user-1",
        amount=5000,
        reference="loan-1",
    )


@pytest.mark.parametrize(
    "first",
    [pytest.param(read_timeout, id="timeout"), pytest.param(error(500, "internal"), id="500")],
)
@pytest.mark.parametrize(
    "then",
    [
        pytest.param(error(503, contract.ERROR_RAIL_UNAVAILABLE), id="rail-switched-off"),
        pytest.param(error(401, contract.ERROR_UNAUTHORIZED), id="401"),
        pytest.param(error(400, contract.ERROR_INVALID_REQUEST), id="400"),
    ],
)
def test_after_an_attempt_that_may_have_arrived_no_other_rail_is_asked(
    first: Answer, then: Answer
) -> None:
    payengine = PayEngine(ach=[first, then])
    with pytest.raises(ExternalServiceError) as raised:
        pay(rails(payengine))
    assert not isinstance(raised.value, RailUnavailable)
    assert raised.value.key == "pay-1:ach"
    assert payengine.rails_called == {"ach"}  # no pinless transfer: nothing moved twice
    assert {key for _, key in payengine.calls} == {"pay-1:ach"}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(error(503, contract.ERROR_RAIL_UNAVAILABLE), id="rail-switched-off"),
        pytest.param(error(400, contract.ERROR_INVALID_REQUEST), id="400"),
    ],
)
def test_a_refusal_of_the_first_attempt_moves_on_to_the_next_rail(answer: Answer) -> None:
    payengine = PayEngine(ach=[answer])
    answers = pay(rails(payengine))
    assert answers.accepted is not None
    assert answers.accepted.rail is Rail.PINLESS
    assert [rail for rail, _ in payengine.calls] == ["ach", "pinless"]


def created(body: object) -> Answer:
    return lambda _: httpx.Response(201, json=body)


_ACCEPTED_PAY_1 = {"id": "tr_1", "idempotency_key": "pay-1:ach", "status": "accepted"}
ODD_ANSWERS = {
    "not-json": lambda _: httpx.Response(201, content=b"<html>gateway</html>"),
    "empty-object": created({}),
    "a-list": created([1]),
    "id-null": created({"id": None, "idempotency_key": "pay-1:ach", "status": "accepted"}),
    "no-id": created({"idempotency_key": "pay-1:ach", "status": "accepted"}),
    "pending": created({"id": "tr_1", "idempotency_key": "pay-1:ach", "status": "pending"}),
    "upper-case": created({"id": "tr_1", "idempotency_key": "pay-1:ach", "status": "ACCEPTED"}),
    "another-key": created({"id": "tr_9", "idempotency_key": "pay-999", "status": "accepted"}),
    "no-key-declined": created({"id": None, "status": "declined", "decline_reason": "NSF"}),
    **{
        f"amount-{name}": created({**_ACCEPTED_PAY_1, "amount_cents": odd})
        for name, odd in [("fraction", 5000.5), ("text", "5000"), ("zero", 0), ("true", True)]
    },
    "direction-sideways": created({**_ACCEPTED_PAY_1, "direction": "up"}),
    **{
        f"created-at-{name}": created({**_ACCEPTED_PAY_1, "created_at": odd})
        for name, odd in [("naive", "2026-01-19T10:00:00"), ("text", "monday"), ("unix", 1)]
    },
}
ODD = [pytest.param(answer, id=name) for name, answer in ODD_ANSWERS.items()]


@pytest.mark.parametrize("answer", ODD)
def test_a_201_that_is_not_a_transfer_of_ours_is_an_unknown_outcome(answer: Answer) -> None:
    payengine = PayEngine(ach=[answer])
    with capture_logs() as logs, pytest.raises(ExternalServiceError) as raised:
        pay(rails(payengine))
    assert not isinstance(raised.value, RailUnavailable)
    assert payengine.rails_called == {"ach"}
    line = [entry for entry in logs if entry["event"] == "payengine transfer"]
    assert [(entry["outcome"], entry["log_level"]) for entry in line] == [("unknown", "error")]


@pytest.mark.parametrize("answer", ODD)
def test_find_of_an_answer_that_is_not_a_transfer_of_ours_is_an_error_never_an_answer(
    answer: Answer,
) -> None:
    def found(request: httpx.Request) -> httpx.Response:
        odd = answer(request)
        return httpx.Response(200, content=odd.content, headers=odd.headers)

    with pytest.raises(ExternalServiceError) as raised:
        rails(found).find("pay-1:ach")
    assert not isinstance(raised.value, RailUnavailable)


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """A server that answers 201 at once, then its body one byte every 0.2 s."""
    body = b'{"id": "tr_1", "idempotency_key": "pay-1", "status": "accepted"}'
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                head = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body))
                for byte in body:
                    if stop.wait(0.2):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()


def test_a_body_that_drips_in_cannot_outlast_the_call_timeout(dripping_server: str) -> None:
    adapter = PayEngineRails.connect(dripping_server, "sk_test", timeout=dt.timedelta(seconds=1))
    started = time.monotonic()
    with pytest.raises(ExternalServiceError) as raised:
        adapter.submit(transfer())
    took = time.monotonic() - started
    adapter.client.close()
    assert not isinstance(raised.value, RailUnavailable)  # the request was sent
    # the 1 s budget, and slack for a loaded machine: unbounded, the drip held it 31 s
    assert took < 2.0


def test_a_slow_user_service_spends_the_call_budget_and_nothing_is_sent() -> None:
    def slow_users(_: httpx.Request) -> httpx.Response:
        time.sleep(0.4)
        return httpx.Response(503)

    users = HttpUsers(
        httpx.Client(transport=httpx.MockTransport(slow_users), base_url="https://users.test")
    )
    payengine = PayEngine(ach=[accepted])
    adapter = rails(payengine, timeout=dt.timedelta(seconds=1), accounts=users)
    started = time.monotonic()
    with pytest.raises(RailUnavailable):
        adapter.submit(transfer())
    assert time.monotonic() - started < 2.0  # the 1 s budget, and slack for a loaded machine
    assert payengine.calls == []
