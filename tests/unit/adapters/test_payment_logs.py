"""Evidence: the log lines of a payment through PayEngine carry its correlation id, user and
outcome, and never an account number, the account token, the API key or a signature."""

import datetime as dt
import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest
import structlog
from deployment import Deployment
from structlog.testing import capture_logs

from loc_core.payments import Direction
from loc_core.ports import PaymentRails
from loc_core.services.commands import MakePayment

pytest.importorskip("httpx", reason="the payengine and people extras are not installed")

import httpx

from loc_adapters.logs import configure_logging
from loc_adapters.payengine import PayEngineRails, WebhookVerifier, contract, settle_webhook
from loc_adapters.payengine.sandbox import Fault, PayEngineSandbox, serve
from loc_adapters.people import HttpUsers

API_KEY = "sk_live_payengine_key_0001"
USERS_KEY = "users_service_key_0002"
SECRET = b"whsec_payengine_secret_0003"
ACCOUNT_TOKEN = "tok_bank_account_0004"  # noqa: S105 - a test value, never real
ACCOUNT_NUMBER = "000123456789"
NEVER_SHOWN = (API_KEY, USERS_KEY, SECRET.decode(), ACCOUNT_TOKEN, ACCOUNT_NUMBER, "v1=")


def user_service(request: httpx.Request) -> httpx.Response:
    """The user service: the borrower's record, with more than this library needs."""
    assert request.headers["Authorization"] == f"Bearer {USERS_KEY}"
    user_id = request.url.path.rsplit("/", 1)[-1]
    return httpx.Response(
        200,
        json={
            "user_id": user_id,
            "active": True,
            "account_last_four": ACCOUNT_NUMBER[-4:],
            "account_number": ACCOUNT_NUMBER,  # a careless service; never logged here
            "payment_account_token": ACCOUNT_TOKEN,
        },
    )


@pytest.fixture
def world() -> Deployment:
    return Deployment.build()


@pytest.fixture
def sandbox(world: Deployment) -> PayEngineSandbox:
    return PayEngineSandbox(world.sim, api_key=API_KEY, webhook_secret=SECRET, slow_by=0.6)


@pytest.fixture
def payengine(sandbox: PayEngineSandbox) -> Iterator[PayEngineRails]:
    users = HttpUsers(
        httpx.Client(
            base_url="http://users.internal",
            transport=httpx.MockTransport(user_service),
            headers={"Authorization": f"Bearer {USERS_KEY}"},
        )
    )
    with serve(sandbox) as url:
        rails = PayEngineRails.connect(
            url, API_KEY, timeout=dt.timedelta(seconds=5), accounts=users
        )
        rails.attempt_timeout = dt.timedelta(milliseconds=300)
        yield rails
        rails.client.close()


def assert_no_secret_in(text: str) -> None:
    for secret in NEVER_SHOWN:
        assert secret not in text, f"{secret!r} is in a log line"


def _calls_given_up_on_are_over() -> None:
    """Wait out PayEngine calls an earlier test gave up on (they run on, in daemon
    threads, until their own timeouts): their lines are theirs, not this command's."""
    for thread in threading.enumerate():
        if thread.name == "payengine-call":
            thread.join(timeout=30)


def test_a_payments_log_lines_tell_the_story_and_hide_every_secret(
    world: Deployment, sandbox: PayEngineSandbox, payengine: PayEngineRails
) -> None:
    _calls_given_up_on_are_over()
    loan = world.open_loan()
    bus = world.replacing(PaymentRails, payengine)
    sandbox.fail_next(Fault.SLOW, Fault.FAIL_AFTER)  # two failed attempts are logged too
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        bus.handle(MakePayment(loan.user_id, loan.loan_id, 5_000, "pay-logged"))
    (key,) = sandbox.created
    assert sandbox.account_tokens == {key: ACCOUNT_TOKEN}  # the token reached PayEngine
    (command,) = [line for line in lines if line["event"] == "command handled"]
    assert (command["command"], command["outcome"], command["user_id"]) == (
        "MakePayment",
        "ok",
        loan.user_id,
    )
    transfers = [line for line in lines if line["event"] == "payengine transfer"]
    attempts = [line for line in lines if line["event"] == "payengine attempt failed"]
    assert [(t["outcome"], t["amount_cents"], t["transfer_key"]) for t in transfers] == [
        ("accepted", 5_000, key)
    ]
    assert len(attempts) == 2
    correlation = command["correlation_id"]
    assert all(line["correlation_id"] == correlation for line in lines)
    assert_no_secret_in(repr(lines))


@pytest.mark.usefixtures("sandbox")
def test_the_rendered_json_of_a_payment_and_its_webhook_shows_no_secret(
    world: Deployment, payengine: PayEngineRails
) -> None:
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(level="DEBUG", stream=stream, secrets=[API_KEY, SECRET.decode()])
    try:
        loan = world.open_loan()
        world.settle_due()
        bus = world.replacing(PaymentRails, payengine)
        bus.handle(MakePayment(loan.user_id, loan.loan_id, 5_000, "pay-json"))
        world.clock.advance(dt.timedelta(days=7))
        (event,) = world.sim.due_events()
        body = json.dumps(contract.webhook_body(event, Direction.DEBIT)).encode()
        stamp, signature = contract.sign(SECRET, world.clock.now(), body)
        headers = {contract.HEADER_TIMESTAMP: stamp, contract.HEADER_SIGNATURE: signature}
        settle_webhook(bus, WebhookVerifier(SECRET, world.clock), headers, body)
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)
    rendered = [json.loads(line) for line in stream.getvalue().splitlines()]
    events = {line["event"] for line in rendered}
    assert {"payengine transfer", "command handled", "webhook handled"} <= events
    (webhook,) = [line for line in rendered if line["event"] == "webhook handled"]
    assert webhook["correlation_id"] == event.event_id
    assert_no_secret_in(stream.getvalue())
