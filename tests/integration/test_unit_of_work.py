"""What the DynamoDB unit of work does beyond the contract: what one commit writes, its
limits, how a cancelled transaction is explained, pagination, sharding, applications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber
from contracts.uow import UowFactory, make_line, pay, store_loan
from fakes import loan_offer
from integration.support import CallLog, aws_session, units_of_work

from loc_adapters.dynamodb import (
    DynamoIds,
    DynamoTable,
    DynamoUnitOfWork,
    create_table,
    expired_application,
)
from loc_adapters.dynamodb._plan import Plan
from loc_adapters.memory import ManualClock
from loc_core.applications import ApplicationStatus
from loc_core.bookkeeping import Product
from loc_core.errors import ConcurrencyConflict, ExternalServiceError, InvariantViolation
from loc_core.installment import (
    InstallmentProduct,
    InstallmentStatus,
    LoanApplication,
    OriginationFee,
    Process,
)
from loc_core.payments import Rail
from loc_core.ports import PaymentOwner
from loc_core.testing.installment import make_loan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Requests:
    """The parameters of every TransactWriteItems the client sends."""

    def __init__(self) -> None:
        self.sent: list[list[dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        self.sent.append(params["TransactItems"])


@pytest.fixture
def transactions(dynamodb: DynamoDBClient) -> Any:
    requests = Requests()
    dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems", requests, unique_id="requests"
    )
    yield requests
    dynamodb.meta.events.unregister(
        "before-parameter-build.dynamodb.TransactWriteItems", unique_id="requests"
    )


def written_keys(actions: list[dict[str, Any]]) -> list[str]:
    keys = []
    for action in actions:
        ((kind, body),) = action.items()
        key = body["Item"] if kind == "Put" else body["Key"]
        keys.append(f"{kind} {key['SK']['S']}")
    return keys


def test_a_commit_writes_only_the_installments_that_changed(
    new_uow: UowFactory, transactions: Requests
) -> None:
    store_loan(new_uow)
    transactions.sent.clear()
    with new_uow() as uow:
        pay(uow, "pay-1", 1_000)
        uow.commit(actor="api", request_id="r")
    (actions,) = transactions.sent
    assert written_keys(actions) == [
        "Update LOAN#loan-1",
        "Update LOAN#loan-1#INSTALLMENT#loan-1:1",
        "Put LOAN#loan-1#PAYMENT#pay-1",
        "Put ENTRY#pay-1:apply",
        "Put RECORD#0000000002#0000#" + actions[4]["Put"]["Item"]["loc_record_id"]["S"],
        "Put RECORD#0000000002#0001#" + actions[5]["Put"]["Item"]["loc_record_id"]["S"],
        "Put RECORD#0000000002#0002#" + actions[6]["Put"]["Item"]["loc_record_id"]["S"],
    ]
    root = actions[0]["Update"]
    assert root["ConditionExpression"] == "attribute_exists(#pk) AND #ver = :expected"
    assert root["ExpressionAttributeValues"][":expected"] == {"N": "1"}


def test_a_commit_over_a_hundred_items_is_refused_before_dynamodb_sees_it(
    new_uow: UowFactory, calls: CallLog
) -> None:
    product = InstallmentProduct(min_installments=4, max_installments=60, default_installments=6)
    loan = make_loan(loan_amount=60_000, count=60, product=product)
    with new_uow() as uow:
        uow.loans.add(loan)  # the loan, 60 installments, 61 audit records, an entry, an event
        calls.clear()
        with pytest.raises(InvariantViolation, match="writes 124 items; one DynamoDB transaction"):
            uow.commit(actor="test", request_id="big")
    assert calls.count("TransactWriteItems") == 0
    assert (loan.version, len(loan.outbox.entries)) == (0, 1)  # nothing was stamped or drained


def test_one_entry_posted_twice_in_a_commit_is_refused_before_the_call(
    new_uow: UowFactory, calls: CallLog
) -> None:
    with new_uow() as uow:
        uow.loans.add(make_loan())
        uow.loans.add(make_loan(user_id="user-2"))  # same loan id: same disbursement entry
        calls.clear()
        with pytest.raises(ConcurrencyConflict, match="journal entry loan-1:disburse was already"):
            uow.commit(actor="test", request_id="twice")
    assert calls.operations == []


def test_two_objects_for_one_item_are_refused(new_uow: UowFactory) -> None:
    store_loan(new_uow)
    with new_uow() as uow:
        first = uow.loans.get("user-1", "loan-1")
        second = uow.loans.get("user-1", "loan-1")
        uow.loans.save(first)
        with pytest.raises(InvariantViolation, match="two different objects"):
            uow.loans.save(second)


def test_a_lost_race_names_the_versions_and_leaves_the_loser_untouched(
    new_uow: UowFactory, clock: ManualClock
) -> None:
    store_loan(new_uow)
    with new_uow() as first, new_uow() as second:
        pay(first, "pay-1", 100)
        mine = second.loans.get("user-1", "loan-1")
        mine.apply_payment(
            "pay-2", 200, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
        )
        second.loans.save(mine)
        first.commit(actor="a", request_id="a")
        clock.advance(dt.timedelta(minutes=1))
        before = (mine.version, mine.updated_at, len(mine.outbox.entries))
        with pytest.raises(
            ConcurrencyConflict,
            match=r"loan loan-1 changed since it was read \(read version 1, stored 2\)",
        ):
            second.commit(actor="b", request_id="b")
        assert (mine.version, mine.updated_at, len(mine.outbox.entries)) == before


def test_cancellation_reasons_and_throttling_are_translated(
    table: DynamoTable, clock: ManualClock
) -> None:
    client = aws_session().client("dynamodb", endpoint_url="http://127.0.0.1:9")
    stubbed = DynamoTable(client, table.name)
    loan = make_loan()
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            response_meta={},
            modeled_fields={
                "CancellationReasons": [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * 13
            },
        )
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="ProvisionedThroughputExceededException",
            service_message="slow down",
        )
        with DynamoUnitOfWork(stubbed, clock=clock) as uow:
            uow.loans.add(loan)
            with pytest.raises(
                ConcurrencyConflict, match="loan loan-1 is being written by another"
            ):
                uow.commit(actor="t", request_id="1")
            with pytest.raises(
                ExternalServiceError, match=r"ProvisionedThroughputExceeded.*slow down"
            ) as caught:
                uow.commit(actor="t", request_id="2")
    assert caught.value.__cause__ is not None  # the botocore error is the cause, never leaked
    assert loan.version == 0


def test_a_stored_balance_its_applications_contradict_is_refused_on_read(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    store_loan(new_uow)
    with new_uow() as uow:
        pay(uow, "pay-1", 1_000)
        uow.commit(actor="t", request_id="t")
    dynamodb.update_item(
        TableName=table.name,
        Key={"PK": {"S": "USER#user-1"}, "SK": {"S": "LOAN#loan-1#INSTALLMENT#loan-1:1"}},
        UpdateExpression="SET loc_outstanding_balance = :wrong",
        ExpressionAttributeValues={":wrong": {"N": "5250"}},
    )
    with (
        new_uow() as uow,
        pytest.raises(
            InvariantViolation,
            match=r"stored loan item USER#user-1/LOAN#loan-1 contradicts itself: .*"
            r"loan-1:1: outstanding_balance 5250 != total_amount 5250 - applications 1000",
        ),
    ):
        uow.loans.get("user-1", "loan-1")


def test_queries_read_every_page(table: DynamoTable, new_uow: UowFactory, calls: CallLog) -> None:
    table.page_size = 2
    for number in range(3):
        store_loan(new_uow, loan_id=f"loan-{number}")
    calls.clear()
    with new_uow() as uow:
        loan = uow.loans.get("user-1", "loan-1")
        assert len(loan.installments) == 6
        assert calls.count("Query") == 4  # seven items, two a page, and an empty last page
        assert len(uow.loans.for_user("user-1")) == 3
        due = uow.loans.installments(
            InstallmentStatus.SCHEDULED, due_through=loan.installments[0].due_date
        )
        assert len(due) == 3
        assert len(uow.loans.installments(InstallmentStatus.SCHEDULED)) == 18


def test_a_loan_id_that_extends_another_is_not_read_with_it(new_uow: UowFactory) -> None:
    store_loan(new_uow, loan_id="loan-1")
    store_loan(new_uow, loan_id="loan-10")
    with new_uow() as uow:
        assert {i.loan_id for i in uow.loans.get("user-1", "loan-1").installments} == {"loan-1"}


def test_ids_with_the_key_separator_are_refused(new_uow: UowFactory) -> None:
    with new_uow() as uow, pytest.raises(InvariantViolation, match="no '#'"):
        uow.loans.add(make_loan(loan_id="loan#1"))


@pytest.mark.parametrize("shards", [1, 4])
def test_the_status_index_can_be_sharded(
    dynamodb: DynamoDBClient, clock: ManualClock, shards: int
) -> None:
    table = create_table(dynamodb, f"test-shards-{shards}-loc-service", shards=shards)
    try:
        factory = units_of_work(table, clock)
        for number in range(6):
            store_loan(factory, loan_id=f"loan-{number}", disbursed_on=dt.date(2026, 1, 5 + number))
        with factory() as uow:
            refs = uow.loans.installments(
                InstallmentStatus.SCHEDULED, due_through=dt.date(2026, 2, 28)
            )
        assert [r.due_date for r in refs] == sorted(r.due_date for r in refs)
        assert len(refs) == 6 * 3
        partitions = {
            item["GSI1PK"]["S"]
            for item in dynamodb.scan(TableName=table.name)["Items"]
            if "INSTALLMENT#" in item["SK"]["S"]
        }
        expected = (
            {"INSTALLMENT#STATUS#SCHEDULED"}
            if shards == 1
            else {f"INSTALLMENT#STATUS#SCHEDULED#{n}" for n in range(4)}
        )
        assert partitions == expected
    finally:
        dynamodb.delete_table(TableName=table.name)


def test_lines_write_only_changed_draws_and_find_their_payments(
    new_uow: UowFactory, transactions: Requests
) -> None:
    with new_uow() as uow:
        line = make_line()
        uow.lines.add(line)
        uow.commit(actor="t", request_id="open")
    for number in (1, 2):
        with new_uow() as uow:
            line = uow.lines.get("user-1", "line-1")
            line.request_draw(draw_id=f"draw-{number}", amount=1_000, on=dt.date(2026, 1, 6))
            line.disburse_draw(draw_id=f"draw-{number}", rail=Rail.RTP, on=dt.date(2026, 1, 6))
            uow.lines.save(line)
            uow.commit(actor="t", request_id=f"draw-{number}")
    transactions.sent.clear()
    with new_uow() as uow:
        line = uow.lines.get("user-1", "line-1")
        line.submit_payment(payment_id="lpay-1", amount=500, rail=Rail.ACH, on=dt.date(2026, 1, 7))
        uow.lines.save(line)
        uow.commit(actor="t", request_id="pay")
    (actions,) = transactions.sent
    assert [key for key in written_keys(actions) if "DRAW" in key or "LOC#" in key] == [
        "Update LOC#line-1",
        "Put LOC#line-1#PAYMENT#lpay-1",
    ]
    with new_uow() as uow:
        again = uow.lines.get("user-1", "line-1")
        assert set(again.draws) == {"draw-1", "draw-2"}
        assert again.principal_balance == 1_500
        assert uow.lines.find_payment("lpay-1") == PaymentOwner(
            Product.CREDITLINE, "user-1", "line-1"
        )
        assert uow.loans.find_payment("lpay-1") is None
        assert [line.line_id for line in uow.lines.for_user("user-1")] == ["line-1"]


def approved(clock: ManualClock, application_id: str = "app-1") -> LoanApplication:
    return loan_offer(
        clock.now(), application_id=application_id, fee=OriginationFee.percentage(Decimal(5))
    )


def stream_record(dynamodb_image: dict[str, Any], *, by_ttl: bool = True) -> dict[str, Any]:
    """A DynamoDB stream record of a deletion, as Lambda hands it over."""
    record: dict[str, Any] = {
        "eventName": "REMOVE",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {k: dynamodb_image[k] for k in ("PK", "SK")},
            "OldImage": dynamodb_image,
        },
    }
    if by_ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def test_an_offer_removed_by_its_ttl_is_saved_again_as_abandoned(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable, clock: ManualClock
) -> None:
    offer = approved(clock)
    with new_uow() as uow:
        uow.loan_applications.add(offer)
        uow.commit(actor="underwriting", request_id="apply")
    key = {"PK": {"S": "USER#user-1"}, "SK": {"S": "LOANAPP#app-1"}}
    image = dynamodb.get_item(TableName=table.name, Key=key)["Item"]
    assert int(image["ttl"]["N"]) == int((clock.now() + dt.timedelta(hours=24)).timestamp())
    dynamodb.delete_item(TableName=table.name, Key=key)  # what DynamoDB's TTL does; moto never does
    clock.advance(dt.timedelta(hours=25))
    assert expired_application(stream_record(image, by_ttl=False)) is None
    assert expired_application({"eventName": "INSERT"}) is None
    expired = expired_application(stream_record(image))
    assert isinstance(expired, LoanApplication)
    expired.abandon(now=clock.now())
    with new_uow() as uow:
        uow.loan_applications.save(expired)
        uow.commit(actor="expiration", request_id="ttl")
    with new_uow() as uow:
        again = uow.loan_applications.get("user-1", "app-1")
        assert (again.status, again.expires_at, again.version) == (
            ApplicationStatus.ABANDONED,
            None,
            2,
        )
        assert [a.application_id for a in uow.loan_applications.for_user("user-1")] == ["app-1"]
        assert uow.audit.records_for("application", "app-1")[-1].change.process == "EXPIRATION"
    stored = dynamodb.get_item(TableName=table.name, Key=key)["Item"]
    assert "ttl" not in stored


def test_a_saved_loan_that_was_deleted_is_a_conflict(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    store_loan(new_uow)
    with new_uow() as uow:
        pay(uow, "pay-1", 100)
        dynamodb.delete_item(
            TableName=table.name, Key={"PK": {"S": "USER#user-1"}, "SK": {"S": "LOAN#loan-1"}}
        )
        with pytest.raises(ConcurrencyConflict, match="loan loan-1 no longer exists"):
            uow.commit(actor="t", request_id="t")


def test_loan_numbers_come_from_an_atomic_counter(table: DynamoTable) -> None:
    ids = DynamoIds(table)
    assert [ids.next_loan_number() for _ in range(3)] == ["FM-000001", "FM-000002", "FM-000003"]
    assert len({ids.new_id() for _ in range(100)}) == 100


@pytest.mark.parametrize("shards", [1, 3])
def test_lines_due_in_any_range_cost_one_query_a_shard(
    dynamodb: DynamoDBClient, clock: ManualClock, calls: CallLog, shards: int
) -> None:
    table = create_table(dynamodb, f"test-due-{shards}-loc-service", shards=shards)
    try:
        factory = units_of_work(table, clock)
        with factory() as uow:
            for number in range(5):
                line = make_line(line_id=f"line-{number}", user_id=f"user-{number}")
                line.next_due_date = dt.date(2026, 2 + number, 26)
                uow.lines.add(line)
            uow.commit(actor="t", request_id="open")
        calls.clear()
        with factory() as uow:
            everything = uow.lines.due_between(dt.date.min, dt.date.max)
            march = uow.lines.due_between(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
            assert uow.lines.due_between(dt.date(2026, 3, 2), dt.date(2026, 3, 1)) == []
        assert [ref.line_id for ref in everything] == [f"line-{n}" for n in range(5)]
        assert [ref.line_id for ref in march] == ["line-1"]
        assert calls.count("Query") == 2 * (1 if shards == 1 else shards + 1)
    finally:
        dynamodb.delete_table(TableName=table.name)


def test_a_plan_writing_one_item_twice_is_refused() -> None:
    plan = Plan("t")
    item = {"PK": "USER#u", "SK": "LOAN#l", "loc_version": 1}
    plan.put_new(item, label="loan l")
    plan.update_child(item, frozenset(), label="loan l again")
    with pytest.raises(InvariantViolation, match="writes USER#u/LOAN#l twice"):
        plan.check()
