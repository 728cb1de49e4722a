"""Evidence over real HTTP on 127.0.0.1: one transfer and one booking however often it is
sent, and webhooks that are forged or replayed are refused and alerted, never applied."""

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from contracts.rails import transfer
from deployment import Deployment

from loc_core.errors import WebhookRejected
from loc_core.payments import Direction, PaymentStatus
from loc_core.ports import PaymentRails, Severity
from loc_core.services.commands import MakePayment
from loc_core.services.messagebus import MessageBus

pytest.importorskip("httpx", reason="the payengine extra is not installed")

from loc_adapters.payengine import PayEngineRails, WebhookVerifier, contract, settle_webhook
from loc_adapters.payengine.sandbox import Fault, PayEngineSandbox, serve

API_KEY = "sk_test_never_in_a_message_77"
SECRET = b"whsec_never_in_a_message_88"


@pytest.fixture
def world() -> Deployment:
    return Deployment.build()


@pytest.fixture
def sandbox(world: Deployment) -> PayEngineSandbox:
    return PayEngineSandbox(world.sim, api_key=API_KEY, webhook_secret=SECRET, slow_by=0.6)


@pytest.fixture
def payengine(sandbox: PayEngineSandbox) -> Iterator[PayEngineRails]:
    with serve(sandbox) as url:
        rails = PayEngineRails.connect(url, API_KEY, timeout=dt.timedelta(seconds=5))
        rails.attempt_timeout = dt.timedelta(milliseconds=300)
        yield rails
        rails.client.close()


def receiver(bus: MessageBus, verifier: WebhookVerifier) -> Callable[..., Iterable[bytes]]:
    """The webhook endpoint an entrypoint would run: 204 when settled, 401 when refused."""

    def app(environ: dict[str, Any], start_response: Callable[..., object]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {
            name[5:].replace("_", "-"): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        try:
            settle_webhook(bus, verifier, headers, body)
        except WebhookRejected:
            start_response("401 Unauthorized", [])
            return [b""]
        start_response("204 No Content", [])
        return [b""]

    return app


def test_three_sends_through_a_timeout_and_a_5xx_make_one_transfer(
    sandbox: PayEngineSandbox, payengine: PayEngineRails, world: Deployment
) -> None:
    sandbox.fail_next(Fault.SLOW, Fault.FAIL_AFTER)
    result = payengine.submit(transfer("pay-3x"))
    assert result.accepted
    assert sandbox.requests == 3
    assert sandbox.created == ["pay-3x"]
    assert [request.idempotency_key for request in world.sim.submitted] == ["pay-3x"]


def test_a_payment_sent_three_times_is_booked_once(
    sandbox: PayEngineSandbox, payengine: PayEngineRails, world: Deployment
) -> None:
    loan = world.open_loan()
    bus = world.replacing(PaymentRails, payengine)
    sandbox.fail_next(Fault.SLOW, Fault.FAIL_AFTER)
    bus.handle(MakePayment(loan.user_id, loan.loan_id, 5_000, "pay-once"))
    assert len(sandbox.created) == 1
    assert sandbox.requests == 3
    payments = world.loan(loan.loan_id).payments
    assert len(payments) == 1
    assert sum(entry.amount for entry in payments.values()) == 5_000


def test_webhooks_settle_through_the_bus_even_twice_and_out_of_order(
    sandbox: PayEngineSandbox, payengine: PayEngineRails, world: Deployment
) -> None:
    loan = world.open_loan()
    world.settle_due()  # the disbursement settles before the sandbox is involved
    bus = world.replacing(PaymentRails, payengine)
    bus.handle(MakePayment(loan.user_id, loan.loan_id, 5_000, "pay-hook"))
    world.clock.advance(dt.timedelta(days=7))
    with serve(receiver(bus, WebhookVerifier(SECRET, world.clock))) as url:
        sandbox.webhook_url = url
        statuses = sandbox.deliver_due(duplicates=True, reorder=True)
    assert statuses == [204, 204]
    (payment,) = world.loan(loan.loan_id).payments.values()
    assert payment.status is PaymentStatus.COMPLETED
    assert world.alerts() == []


def signed(body: bytes, at: dt.datetime, secret: bytes = SECRET) -> dict[str, str]:
    stamp, signature = contract.sign(secret, at, body)
    return {contract.HEADER_TIMESTAMP: stamp, contract.HEADER_SIGNATURE: signature}


@pytest.mark.parametrize(
    ("forge", "check"),
    [
        (lambda body, now: signed(body, now, secret=b"guessed"), "signature"),
        (lambda _body, _now: {}, "timestamp"),
        (lambda body, now: signed(body, now - dt.timedelta(minutes=6)), "timestamp"),
        (lambda body, now: signed(body + b" ", now), "signature"),
    ],
    ids=["forged", "unsigned", "replayed", "tampered"],
)
def test_a_forged_or_replayed_webhook_is_refused_alerted_and_not_applied(
    world: Deployment,
    forge: Callable[[bytes, dt.datetime], dict[str, str]],
    check: str,
) -> None:
    loan = world.open_loan()
    world.settle_due()
    world.pay_loan(loan, 5_000)
    world.clock.advance(dt.timedelta(days=7))
    (event,) = world.sim.due_events()  # the payment completed
    body = json.dumps(contract.webhook_body(event, Direction.DEBIT)).encode()
    headers = forge(body, world.clock.now())
    verifier = WebhookVerifier(SECRET, world.clock)
    with pytest.raises(WebhookRejected) as raised:
        settle_webhook(world.bus, verifier, headers, body)
    assert raised.value.key == check
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.details["check"] == check
    shown = str(raised.value) + repr(verifier) + repr(alert)
    assert SECRET.decode() not in shown
    (payment,) = world.loan(loan.loan_id).payments.values()
    assert payment.status is PaymentStatus.PENDING
    settle_webhook(world.bus, verifier, signed(body, world.clock.now()), body)
    (payment,) = world.loan(loan.loan_id).payments.values()
    assert payment.status is PaymentStatus.COMPLETED  # the genuine delivery applies


def test_a_genuine_webhook_within_the_window_is_accepted(world: Deployment) -> None:
    verifier = WebhookVerifier(SECRET, world.clock)
    body = json.dumps(
        {
            "id": "evt-2",
            "type": "LOAN_DEBIT_RETURNED",
            "occurred_at": world.clock.now().isoformat(),
            "data": {
                "transfer_id": "ach-1",
                "idempotency_key": "pay-1",
                "rail": "ach",
                "return_code": "R01",
            },
        }
    ).encode()
    event = verifier.verify(signed(body, world.clock.now() - dt.timedelta(minutes=4)), body)
    assert (event.idempotency_key, event.return_code) == ("pay-1", "R01")
