"""An inbound body that cannot be read is described, never echoed, in logs and alerts.

A webhook envelope carries its signature and may carry account details; a queue message
or a webhook body may hold anything its writer put there. The "record refused", "record
failed" and "webhook refused" lines and their alerts say what was wrong (not JSON, the
field missing, the type found) with the body's size and SHA-256, so operations can match
it to the source's copy, and hold not one word of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from deployment import Deployment
from lambda_events import batch, kinesis_record, sqs_record
from structlog.testing import capture_logs

from loc_core.errors import WebhookRejected
from loc_core.payments import Direction
from loc_core.ports import Severity
from loc_entrypoints.lambdas import collections_worker, settlement_consumer

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")
payengine = pytest.importorskip("loc_adapters.payengine", reason="the payengine extra")

SECRET = b"whsec-ops-review"
PRIVATE = ("v1=5ea1ed0ff1ce", "Jane Q Borrower", "000123456789", "PayEngine-Signature")
"""A signature, a name and an account number the bodies below carry: none may be shown."""
SIGNED = '{"PayEngine-Signature": "v1=5ea1ed0ff1ce", "PayEngine-Timestamp": "1772625600"}'
CARGO = '"account 000123456789 of Jane Q Borrower"'


@pytest.fixture
def world() -> Deployment:
    """The in-memory deployment, verifying webhooks with `SECRET`, the consumers on it."""
    built = Deployment.build()
    verifying = built.using(
        payengine.WebhookVerifier, payengine.WebhookVerifier(SECRET, built.clock)
    )
    settlement_consumer.RUNTIME.use(verifying.bus)
    collections_worker.RUNTIME.use(verifying.bus)
    return verifying


def shown(world: Deployment, logs: Sequence[Mapping[str, Any]]) -> str:
    """Everything the alerts and the log lines carry, as one text."""
    alerts = [alert.details for alert in world.alerts()]
    return json.dumps([alerts, logs], default=str)


def described(data: bytes) -> str:
    """The size and digest every description of `data` ends with."""
    return f"({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(
            f'{{"headers": {SIGNED}, "body": {CARGO}'.encode(), "not JSON", id="cut-short"
        ),
        pytest.param(
            f'{{"headers": {SIGNED}, "bdy": {CARGO}}}'.encode(), "no body field", id="no-body"
        ),
        pytest.param(
            f'{{"headers": [{SIGNED}], "body": {CARGO}}}'.encode(),
            "headers is JSON array, not an object",
            id="headers-a-list",
        ),
        pytest.param(
            f'{{"headers": {SIGNED}, "body": [{CARGO}]}}'.encode(),
            "body is JSON array, not a string",
            id="body-a-list",
        ),
        pytest.param(f"[{SIGNED}, {CARGO}]".encode(), "JSON array, not an object", id="a-list"),
    ],
)
def test_an_unreadable_webhook_envelope_is_refused_naming_its_fault_not_its_content(
    world: Deployment, data: bytes, problem: str
) -> None:
    record = kinesis_record(data, partition_key="PAY#p-1", arrived_at=world.clock.now())

    with capture_logs() as logs:
        answer = settlement_consumer.handler(batch(record), None)

    assert answer == {"batchItemFailures": []}  # skipped: no retry can read it
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.title == "Batch record refused"
    reason = str(alert.details["reason"])
    assert reason.startswith(f"not a webhook envelope: {problem}")
    assert reason.endswith(described(data))
    text = shown(world, logs)
    assert reason in text  # the log line says the same
    assert not [word for word in PRIVATE if word in text], text


def test_an_unreadable_queue_message_fails_naming_its_fault_not_its_content(
    world: Deployment,
) -> None:
    body = f"{{{SIGNED}: {CARGO}"
    record = sqs_record(body)

    with capture_logs() as logs:
        answer = collections_worker.handler(batch(record), None)

    assert answer == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    (alert,) = world.alerts(Severity.WARNING)
    reason = str(alert.details["reason"])
    assert reason.startswith("not a work-queue message: not JSON (")
    assert reason.endswith(described(body.encode()))
    text = shown(world, logs)
    assert not [word for word in PRIVATE if word in text], text


def test_a_genuine_webhook_of_the_wrong_shape_is_refused_without_its_values(
    world: Deployment,
) -> None:
    """Signed, so no forgery, yet a value the contract refuses must not reach the alert."""
    body = json.dumps(
        {
            "id": "evt-1",
            "type": "payment.completed",
            "occurred_at": "Jane Q Borrower 000123456789",
            "data": {"idempotency_key": "PAY#p-1", "transfer_id": "t-1", "rail": "ach"},
        }
    ).encode()
    stamp, signature = payengine.contract.sign(SECRET, world.clock.now(), body)
    headers = {
        payengine.contract.HEADER_TIMESTAMP: stamp,
        payengine.contract.HEADER_SIGNATURE: signature,
    }
    verifier = world.bus.get(payengine.WebhookVerifier)

    with capture_logs() as logs, pytest.raises(WebhookRejected) as refused:
        payengine.settle_webhook(world.bus, verifier, headers, body)

    assert refused.value.key == "body"
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.details["reason"] == str(refused.value)
    assert str(refused.value).endswith(described(body))
    text = shown(world, logs)
    assert not [word for word in (*PRIVATE, signature) if word in text], text


def test_a_webhook_verifier_still_settles_a_well_formed_body(world: Deployment) -> None:
    """The description is only for the refused: a genuine, well-formed webhook applies."""
    loan = world.open_loan()
    world.settle_due()
    world.pay_loan(loan, 5_000)
    world.clock.advance(dt.timedelta(days=7))
    (completion,) = world.sim.due_events()
    body = json.dumps(payengine.contract.webhook_body(completion, Direction.DEBIT)).encode()
    stamp, signature = payengine.contract.sign(SECRET, world.clock.now(), body)
    data = settlement_consumer.envelope(
        {
            payengine.contract.HEADER_TIMESTAMP: stamp,
            payengine.contract.HEADER_SIGNATURE: signature,
        },
        body,
    )
    record = kinesis_record(
        data, partition_key=completion.idempotency_key, arrived_at=world.clock.now()
    )

    assert settlement_consumer.handler(batch(record), None) == {"batchItemFailures": []}
    assert world.alerts(Severity.WARNING) == []
