"""The collections worker tells a malformed message from a refused command.

A message whose body does not become its command (every kind, every way: not a message,
a field missing, unknown, of the wrong type or out of bounds, a kind or version this
worker does not read) fails its record, so SQS delivers it again and its redrive policy
moves it to the dead-letter queue; the rest of the batch is applied once. A well-formed
command a business rule refuses is skipped and alerted, as documented. Both name the
message (its SQS id, kind and deduplication id).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest
from deployment import Deployment
from lambda_events import batch, sqs_record
from structlog.testing import capture_logs

from loc_adapters.sqs import encode
from loc_core.events import DomainEvent, EventType
from loc_core.installment import Loan
from loc_core.ports import QueueMessage, Severity
from loc_core.services.commands import (
    CollectInstallment,
    DocumentKind,
    EnqueueReconciliations,
    ReconcileLine,
    ReconcileLoan,
    RenderDocument,
    ResendNotification,
    RunJobPage,
)
from loc_core.services.handlers import MESSAGES
from loc_entrypoints.lambdas import collections_worker

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")

TODAY = dt.date(2026, 1, 20)
"""The docs' loan's first installment falls due: a collect_installment message charges it."""
_GONE = object()
"""A body field's value that removes the field."""


def well_formed(loan: Loan) -> dict[str, QueueMessage]:
    """One message of every kind the worker reads, as the library's producers write them."""
    installment = loan.installments[0]
    event = DomainEvent(EventType.PAYMENT_SUCCEEDED, loan.user_id, loan.loan_id, TODAY, {"n": 1})
    return {
        "collect_installment": CollectInstallment(
            loan.user_id, loan.loan_id, installment.installment_id, installment.due_date
        ).message(TODAY),
        "job_page": RunJobPage("MarkOverdueLines", page_size=100, as_of=TODAY).message(TODAY),
        "reconcile_loan": ReconcileLoan(loan.user_id, loan.loan_id).message(TODAY),
        "reconcile_line": ReconcileLine("user-1", "line-1").message(TODAY),
        "reconcile_page": EnqueueReconciliations(cursor="lines:", as_of=TODAY).message(TODAY),
        "render_document": RenderDocument(DocumentKind.AGREEMENT, "user-1", "app-1").message(),
        "resend_notification": ResendNotification(event).message(),
    }


def changed(message: QueueMessage, **fields: object) -> QueueMessage:
    """`message` with its body's `fields` replaced (or removed, with `_GONE`)."""
    body: dict[str, Any] = {k: v for k, v in message.body.items() if k not in fields}
    body.update({name: value for name, value in fields.items() if value is not _GONE})
    return attrs.evolve(message, body=body)


MALFORMED: dict[str, tuple[str, dict[str, object]]] = {
    "collect_installment without loan_id": ("collect_installment", {"loan_id": _GONE}),
    "collect_installment loan_id a number": ("collect_installment", {"loan_id": 5}),
    "collect_installment due_date 2026-13-45": ("collect_installment", {"due_date": "2026-13-45"}),
    "collect_installment due_date 20260120": ("collect_installment", {"due_date": "20260120"}),
    "collect_installment unknown field": ("collect_installment", {"amount": 100}),
    "job_page page_size 0": ("job_page", {"page_size": 0}),
    "job_page page_size a string": ("job_page", {"page_size": "100"}),
    "job_page as_of not a date": ("job_page", {"as_of": "nope"}),
    "job_page a job no one pages": ("job_page", {"job": "EnqueueDueInstallments"}),
    "job_page without cursor": ("job_page", {"cursor": _GONE}),
    "reconcile_loan without loan_id": ("reconcile_loan", {"loan_id": _GONE}),
    "reconcile_line empty user_id": ("reconcile_line", {"user_id": ""}),
    "reconcile_line loan_id, no line_id": ("reconcile_line", {"line_id": _GONE, "loan_id": "l"}),
    "reconcile_page page_size 5000": ("reconcile_page", {"page_size": 5000}),
    "reconcile_page as_of 2026-02-30": ("reconcile_page", {"as_of": "2026-02-30"}),
    "render_document of no kind": ("render_document", {"document": "receipt"}),
    "render_document agreement with a date": ("render_document", {"statement_date": "2026-01-05"}),
    "resend_notification of no type": ("resend_notification", {"type": "nope"}),
    "resend_notification data not JSON": ("resend_notification", {"data": "{"}),
}
"""Each kind's body broken one way; the message is otherwise as its producer wrote it."""

NOT_A_COMMAND: dict[str, str] = {
    "not JSON": "{oops",
    "a JSON list": "[1, 2]",
    "no deduplication_id": json.dumps({"kind": "reconcile_loan", "body": {}}),
    "version not a number": json.dumps(
        {"kind": "reconcile_loan", "body": {}, "deduplication_id": "d", "version": "two"}
    ),
}
"""Bodies that are not a work-queue message at all."""


@pytest.fixture
def world() -> Deployment:
    made = Deployment.build()
    collections_worker.RUNTIME.use(made.bus)
    return made


@pytest.fixture
def loan(world: Deployment) -> Loan:
    """The docs' loan, disbursed, on its first installment's due date (autopay on)."""
    opened = world.open_loan()
    world.settle_due()
    world.at(TODAY)
    return opened


def payments(world: Deployment, loan: Loan) -> int:
    return len(world.loan(loan.loan_id).payments)


def handled(*records: dict[str, Any]) -> set[str]:
    """Run the worker's handler on `records`; the message ids it reports failed."""
    answer = collections_worker.handler(batch(*records), None)
    return {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}


def charge(loan: Loan) -> dict[str, Any]:
    """The record of the loan's first collect_installment message: a payment when applied."""
    return sqs_record(encode(well_formed(loan)["collect_installment"]))


def test_the_cases_cover_every_kind_the_bus_reads(world: Deployment, loan: Loan) -> None:
    examples = well_formed(loan)
    assert set(examples) == set(MESSAGES)
    for message in examples.values():  # the unbroken examples are read
        world.bus.command_for(message)
    assert {kind for kind, _ in MALFORMED.values()} == set(MESSAGES)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_body_that_does_not_make_its_command_fails_and_the_rest_is_applied_once(
    world: Deployment, loan: Loan, case: str
) -> None:
    kind, fields = MALFORMED[case]
    poison = sqs_record(encode(changed(well_formed(loan)[kind], **fields)))
    good = charge(loan)
    assert handled(poison, good) == {poison["messageId"]}
    assert payments(world, loan) == 1
    assert handled(poison) == {poison["messageId"]}  # delivered again: fails again
    assert payments(world, loan) == 1


@pytest.mark.parametrize("case", sorted(NOT_A_COMMAND))
def test_a_body_that_is_not_a_message_fails(world: Deployment, loan: Loan, case: str) -> None:
    poison, good = sqs_record(NOT_A_COMMAND[case]), charge(loan)
    assert handled(good, poison) == {poison["messageId"]}
    assert payments(world, loan) == 1


@pytest.mark.parametrize("kind", ["collect_installment", "reconcile_loan", "render_document"])
def test_a_version_this_worker_does_not_read_fails_and_changes_nothing(
    world: Deployment, loan: Loan, kind: str
) -> None:
    submitted = len(world.sim.submitted)
    newer = sqs_record(encode(attrs.evolve(well_formed(loan)[kind], version=2)))
    assert handled(newer) == {newer["messageId"]}
    assert payments(world, loan) == 0
    assert len(world.sim.submitted) == submitted


def test_a_kind_this_worker_does_not_know_fails(world: Deployment, loan: Loan) -> None:
    unknown = attrs.evolve(well_formed(loan)["collect_installment"], kind="collect_everything")
    record = sqs_record(encode(unknown))
    assert handled(record) == {record["messageId"]}
    assert payments(world, loan) == 0


def test_a_malformed_message_is_alerted_once_naming_it_and_logged_on_every_receive(
    world: Deployment, loan: Loan
) -> None:
    message = changed(well_formed(loan)["collect_installment"], due_date="2026-13-45")
    first, again = sqs_record(encode(message)), sqs_record(encode(message), receive_count=2)
    with capture_logs() as logs:
        assert handled(first) == {first["messageId"]}
        assert handled(again) == {again["messageId"]}
    (alert,) = world.alerts(Severity.WARNING)
    assert "dead-letter queue" in alert.title
    assert {name: alert.details[name] for name in ("message_id", "kind", "deduplication_id")} == {
        "message_id": first["messageId"],
        "kind": "collect_installment",
        "deduplication_id": message.deduplication_id,
    }
    assert "due_date" in str(alert.details["reason"])
    failed = [line for line in logs if line["event"] == "record failed"]
    assert [(line["message_id"], line["kind"], line["error"]) for line in failed] == [
        (first["messageId"], "collect_installment", "MalformedMessage"),
        (again["messageId"], "collect_installment", "MalformedMessage"),
    ]


@pytest.mark.parametrize("as_of", [TODAY + dt.timedelta(days=1), dt.date(2020, 1, 1)])
def test_a_well_formed_command_a_rule_refuses_is_skipped_and_alerted_naming_it(
    world: Deployment, loan: Loan, as_of: dt.date
) -> None:
    page = RunJobPage("MarkOverdueLines", page_size=100, as_of=as_of).message(as_of)
    refused, good = sqs_record(encode(page)), charge(loan)
    assert handled(refused, good) == set()  # deleted: no retry can change a rule
    assert payments(world, loan) == 1
    (alert,) = world.alerts(Severity.WARNING)
    assert alert.title == "Batch record refused"
    assert (alert.details["error"], alert.details["message_id"], alert.details["kind"]) == (
        "InvalidRequest",
        refused["messageId"],
        "job_page",
    )
    assert alert.details["deduplication_id"] == page.deduplication_id
    assert world.queue.receive(max_messages=10, visibility=dt.timedelta(0)) == []
