"""Iterable under a deployment: whatever Iterable's answer, the money stays committed and the
borrower's notification is kept for a resend (audit of what borrowers are told)."""

import datetime as dt
import json
from collections.abc import Callable

import pytest
from deployment import Deployment

from loc_core.installment import LoanStatus
from loc_core.ports import Notifier, Severity
from loc_core.services.notifications import RESEND_NOTIFICATION

pytest.importorskip("httpx", reason="the iterable extra is not installed")

import httpx

from loc_adapters.iterable import IterableNotifier, contract

API_KEY = "it_audit_key_never_shown"


def notifier_answering(
    answer: Callable[[], httpx.Response],
) -> tuple[IterableNotifier, list[httpx.Request]]:
    """A notifier whose Iterable answers every request with a new `answer()` (requests kept)."""
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer()

    client = httpx.Client(
        transport=httpx.MockTransport(handle),
        base_url="https://api.iterable.test",
        headers={contract.HEADER_API_KEY: API_KEY},
    )
    notifier = IterableNotifier(
        client,
        attempts=2,
        timeout=dt.timedelta(seconds=2),
        wait_initial=dt.timedelta(milliseconds=1),
        wait_max=dt.timedelta(milliseconds=2),
    )
    return notifier, requests


def test_an_unreadable_iterable_answer_neither_fails_the_disbursement_nor_loses_its_notice() -> (
    None
):
    # A 2xx whose body cannot be decoded (a proxy's broken gzip): httpx raises DecodingError,
    # which is not a transport error. It must not escape the notifier as a foreign error:
    # the loan is disbursed (money moved), the command must answer the loan, and the
    # borrower's loan_disbursed must be queued for a resend.
    notifier, requests = notifier_answering(
        lambda: httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip")
        )
    )
    world = Deployment.build(overrides={Notifier: notifier})
    loan = world.open_loan()
    assert world.loan(loan.loan_id).status is LoanStatus.OPEN
    assert {json.loads(r.content)["eventName"] for r in requests} == {"loan_disbursed"}
    [held] = world.queue.receive(max_messages=10, visibility=dt.timedelta(minutes=5))
    assert held.message.kind == RESEND_NOTIFICATION
    assert held.message.body["type"] == "loan_disbursed"
    assert [alert.severity for alert in world.alerts()] == [Severity.WARNING]
