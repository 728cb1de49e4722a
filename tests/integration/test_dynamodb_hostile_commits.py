"""The DynamoDB unit of work as an unlucky operator meets it: races, limits, refusals.

Every test runs the real adapters against the moto server over HTTP; a failure DynamoDB
gives but moto does not is injected by a client that answers one call with the error
botocore would raise, and passes every other call through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from contracts.uow import UowFactory, pay, store_loan
from deployment import Deployment
from integration.support import CallLog, on_table

from loc_adapters.dynamodb import DynamoTable, DynamoUnitOfWork
from loc_adapters.memory import ManualClock
from loc_core.applications import AdverseAction
from loc_core.errors import (
    ConcurrencyConflict,
    ExternalServiceError,
    InvariantViolation,
    NotFound,
)
from loc_core.installment import LoanApplication
from loc_core.ports import UnitOfWork

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Fault = Callable[[dict[str, Any]], None]
"""Called with a TransactWriteItems request before it is sent; raises to fail it."""


class FaultyClient:
    """A DynamoDB client whose next `transact_write_items` calls go through `faults`.

    Each fault runs before the real call (raise there: DynamoDB refused it) or, when
    `after` is set, after it (raise there: the answer was lost on the way back).
    """

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self.before: list[Fault] = []
        self.after: list[Fault] = []
        self.sent = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **request: Any) -> Any:
        if self.before:
            self.before.pop(0)(request)
        answer = self._client.transact_write_items(**request)
        self.sent += 1
        if self.after:
            self.after.pop(0)(request)
        return answer


def cancelled(*codes: str) -> Fault:
    """A fault: the transaction is cancelled, the first actions for `codes`, the rest None."""

    def fail(request: dict[str, Any]) -> None:
        reasons = [{"Code": code} for code in codes]
        reasons += [{"Code": "None"}] * (len(request["TransactItems"]) - len(codes))
        answer: Any = {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": reasons,
        }
        raise ClientError(answer, "TransactWriteItems")

    return fail


def refused(code: str, message: str) -> Fault:
    def fail(_request: dict[str, Any]) -> None:
        raise ClientError({"Error": {"Code": code, "Message": message}}, "TransactWriteItems")

    return fail


def answer_lost(_request: dict[str, Any]) -> None:
    raise ReadTimeoutError(endpoint_url="http://127.0.0.1")


@pytest.fixture
def faulty(table: DynamoTable) -> tuple[FaultyClient, UowFactory]:
    client = FaultyClient(table.client)
    faulty_table = DynamoTable(cast("DynamoDBClient", client), table.name)
    clock = ManualClock(dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC))
    return client, lambda: DynamoUnitOfWork(faulty_table, clock=clock)


def rejected(application_id: str, text_bytes: int) -> LoanApplication:
    """A rejection whose adverse-action text (underwriting's words) is `text_bytes` long."""
    return LoanApplication.reject(
        user_id="user-1",
        application_id=application_id,
        adverse_actions=[AdverseAction("R1", "x" * text_bytes)],
        now=dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC),
    )


# --- DynamoDB's size limits -----------------------------------------------------------


def test_an_item_over_400_kb_is_a_defect_refused_before_dynamodb_sees_it(
    new_uow: UowFactory, calls: CallLog
) -> None:
    application = rejected("app-big", 410_000)
    calls.clear()
    with new_uow() as uow:
        uow.loan_applications.add(application)
        with pytest.raises(InvariantViolation, match=r"loan application app-big .*409,600 bytes"):
            uow.commit(actor="t", request_id="1")
    assert calls.count("TransactWriteItems") == 0
    assert application.version == 0
    with new_uow() as uow, pytest.raises(NotFound):
        uow.loan_applications.get("user-1", "app-big")


def test_a_commit_over_4_mb_is_a_defect_refused_before_dynamodb_sees_it(
    new_uow: UowFactory, calls: CallLog
) -> None:
    """moto writes such a commit; DynamoDB refuses it (ValidationException)."""
    applications = [rejected(f"app-{n}", 380_000) for n in range(12)]
    calls.clear()
    with new_uow() as uow:
        for application in applications:
            uow.loan_applications.add(application)
        with pytest.raises(InvariantViolation, match=r"4,194,304 bytes: split"):
            uow.commit(actor="t", request_id="1")
    assert calls.count("TransactWriteItems") == 0
    with new_uow() as uow:
        assert uow.loan_applications.for_user("user-1") == []


def test_items_just_under_the_limits_are_written(new_uow: UowFactory) -> None:
    with new_uow() as uow:
        for n in range(4):
            uow.loan_applications.add(rejected(f"app-{n}", 380_000))
        uow.commit(actor="t", request_id="1")
    with new_uow() as uow:
        assert len(uow.loan_applications.for_user("user-1")) == 4


# --- what a cancelled or refused transaction means ------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        (cancelled("ThrottlingError"), ExternalServiceError, "loan loan-1: ThrottlingError"),
        (
            cancelled("ProvisionedThroughputExceeded"),
            ExternalServiceError,
            "ProvisionedThroughputExceeded",
        ),
        (cancelled("TransactionConflict"), ConcurrencyConflict, "being written by another"),
        (cancelled("ValidationError"), InvariantViolation, "loan loan-1: ValidationError"),
        (
            refused("ValidationException", "Transaction request cannot be larger than 4 MB"),
            InvariantViolation,
            "larger than 4 MB",
        ),
        (
            refused("InternalServerError", "try again"),
            ExternalServiceError,
            "InternalServerError",
        ),
    ],
)
def test_each_refusal_is_the_right_error_and_writes_nothing(
    new_uow: UowFactory,
    faulty: tuple[FaultyClient, UowFactory],
    fault: Fault,
    error: type[Exception],
    message: str,
) -> None:
    """An outage is retryable later, a race at once, an invalid commit never."""
    store_loan(new_uow)
    client, faulty_uow = faulty
    client.before.append(fault)
    with faulty_uow() as uow:
        loan = pay(uow, "pay-1", 1_000)
        with pytest.raises(error, match=message) as caught:
            uow.commit(actor="t", request_id="1")
        assert (loan.version, len(loan.outbox.entries)) == (1, 1)
    assert not isinstance(caught.value, ClientError)
    with new_uow() as uow:
        assert uow.loans.get("user-1", "loan-1").payments == {}
        assert [e.entry_id for e in uow.journal.entries_for("loan-1")] == ["loan-1:disburse"]
    with faulty_uow() as uow:  # the next attempt, reading afresh, commits once
        pay(uow, "pay-1", 1_000)
        uow.commit(actor="t", request_id="2")
    with new_uow() as uow:
        assert list(uow.loans.get("user-1", "loan-1").payments) == ["pay-1"]
        assert len(uow.journal.entries_for("loan-1")) == 2


def test_an_answer_lost_after_the_write_leaves_one_payment_whatever_the_retry(
    new_uow: UowFactory, faulty: tuple[FaultyClient, UowFactory]
) -> None:
    """The commit went through but its answer never came: the caller sees an outage.

    botocore's own retry resends the same ClientRequestToken (the write happens once);
    the use case's retry reads the payment back instead of applying it again.
    """
    store_loan(new_uow)
    client, faulty_uow = faulty
    client.after.append(answer_lost)
    with faulty_uow() as uow:
        pay(uow, "pay-1", 1_000)
        with pytest.raises(ExternalServiceError):
            uow.commit(actor="t", request_id="1")
    with new_uow() as uow:
        loan = uow.loans.get("user-1", "loan-1")
        assert list(loan.payments) == ["pay-1"]
        assert loan.version == 2
        assert len(uow.journal.entries_for("loan-1")) == 2


# --- two writers on one aggregate ------------------------------------------------------


def test_the_loser_of_a_race_writes_nothing_and_its_retry_commits_once(
    table: DynamoTable,
) -> None:
    """A payment's booking commit loses to another writer of the same loan, between its
    read and its commit; the bus's retry reads the winner's state and books once."""
    world = Deployment.build()
    for port, adapter in on_table(table, world.clock).items():
        world = world.using(port, adapter)
    loan = world.open_loan(autopay=False)
    client = FaultyClient(table.client)
    racing = DynamoTable(cast("DynamoDBClient", client), table.name)
    raced: list[int] = []

    def rival(request: dict[str, Any]) -> None:
        saves_the_loan = any(
            "Update" in action and action["Update"]["Key"]["SK"]["S"] == f"LOAN#{loan.loan_id}"
            for action in request["TransactItems"]
        )
        if not saves_the_loan:
            client.before.insert(0, rival)  # wait for the loan's own commit
            return
        with DynamoUnitOfWork(table, clock=world.clock) as uow:  # another process
            theirs = uow.loans.get(loan.user_id, loan.loan_id)
            theirs.set_autopay(True, today=world.today, reason="borrower switched it on")
            uow.loans.save(theirs)
            uow.commit(actor="rival", request_id="rival")
        raced.append(len(request["TransactItems"]))

    client.before.append(rival)
    world = world.using(UnitOfWork, DynamoUnitOfWork(racing, clock=world.clock))
    receipt = world.pay_loan(loan, 5_000, key="pay-1")
    assert raced, "the rival never ran"
    stored = world.loan(loan.loan_id)
    assert list(stored.payments) == [receipt.payment_id]
    assert stored.autopay_enabled  # the winner's change survived the retry
    payment_entries = [e for e in world.ledger(loan.loan_id).entries() if "pay-1" in e.entry_id]
    assert len(payment_entries) == 1
    applied = [
        record
        for record in world.audit("loan", loan.loan_id)
        if record.request_id != "rival" and record.change.process == "MANUAL"
    ]
    assert len(applied) == 1
