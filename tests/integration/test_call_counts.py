"""How many AWS calls a use case costs, counted with botocore's before-call events.

The figures are kept in docs/data-model.md; these tests fail when a change makes a use
case chattier than what is written there.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from contracts.uow import UowFactory, make_line, pay, store_loan
from integration.support import CallLog, on_table, units_of_work

from loc_adapters.dynamodb import DynamoTable, create_table
from loc_adapters.dynamodb._codecs import encode_loan
from loc_adapters.memory import ManualClock
from loc_adapters.sqs import SqsWorkQueue
from loc_core.installment import Process
from loc_core.payments import SettlementOutcome
from loc_core.ports import Clock, UnitOfWork, WorkQueue
from loc_core.services.commands import BillClosedCycles, EnqueueDueInstallments
from loc_core.testing.installment import make_loan
from loc_entrypoints.bootstrap import bootstrap

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

READS = {"GetItem", "Query", "Scan", "BatchGetItem"}


def test_applying_a_payment_is_one_query_and_one_transaction(
    new_uow: UowFactory, calls: CallLog
) -> None:
    store_loan(new_uow)
    calls.clear()
    with new_uow() as uow:
        pay(uow, "pay-1", 6_000)
        uow.commit(actor="api", request_id="pay-1")
    assert calls.operations == ["Query", "TransactWriteItems"]


def test_a_settlement_event_is_two_reads_and_one_transaction(
    new_uow: UowFactory, calls: CallLog
) -> None:
    store_loan(new_uow)
    with new_uow() as uow:
        pay(uow, "pay-1", 6_000, process=Process.AUTOPAY)
        uow.commit(actor="collections", request_id="pay-1")
    calls.clear()
    with new_uow() as uow:
        owner = uow.loans.find_payment("pay-1")
        assert owner is not None
        loan = uow.loans.get(owner.user_id, owner.owner_id)
        loan.settle("pay-1", SettlementOutcome.RETURNED, today=dt.date(2026, 1, 8))
        uow.loans.save(loan)
        uow.commit(actor="webhook", request_id="evt-1")
    assert calls.operations == ["Query", "Query", "TransactWriteItems"]
    assert sum(calls.count(op) for op in READS) <= 2


@pytest.mark.parametrize("shards", [1, 4])
def test_the_collections_job_costs_at_most_015_calls_per_due_installment(  # noqa: PLR0917 - pytest passes fixtures by position
    dynamodb: DynamoDBClient,
    sqs: SQSClient,
    queue_url: str,
    clock: ManualClock,
    calls: CallLog,
    shards: int,
) -> None:
    table: DynamoTable = create_table(dynamodb, f"test-job-{shards}-loc-service", shards=shards)
    try:
        table.batch_put(
            [
                item
                for number in range(100)
                for item in encode_loan(
                    make_loan(loan_id=f"loan-{number:03d}", user_id=f"user-{number:03d}"),
                    shards=shards,
                )
            ]
        )
        bus = bootstrap(
            overrides={
                Clock: clock,
                **on_table(table, clock),
                WorkQueue: SqsWorkQueue(sqs, queue_url),
            }
        )
        calls.clear()
        # every loan's first installment fell due on 2026-01-20, the second falls due today:
        # the production job, on DynamoDB and SQS
        clock.set(dt.datetime(2026, 2, 3, 15, tzinfo=dt.UTC))
        count = bus.handle(EnqueueDueInstallments())
    finally:
        dynamodb.delete_table(TableName=table.name)
    assert count == 200
    # the table's shard record (one GetItem), then one query a partition it names
    assert calls.operations[0] == "GetItem"
    reads, queries = calls.count("GetItem"), calls.count("Query")
    sends = calls.count("SendMessageBatch")
    assert (reads, queries, sends) == (1, 1 if shards == 1 else shards + 1, 20)
    assert (reads + queries + sends) / count <= 0.15


@pytest.mark.parametrize("shards", [1, 4])
def test_a_sharded_writer_records_its_count_once_per_process(
    dynamodb: DynamoDBClient, clock: ManualClock, calls: CallLog, shards: int
) -> None:
    """Before its first commit a sharded table raises the table's shard record (one
    `UpdateItem`, once per `DynamoTable`); an unsharded one never writes it."""
    table = DynamoTable(dynamodb, f"test-record-{shards}-loc-service", shards=shards)
    create_table(dynamodb, table.name)  # unsharded: no record yet
    try:
        new_uow = units_of_work(table, clock)
        calls.clear()
        store_loan(new_uow)
        first = list(calls.operations)
        calls.clear()
        with new_uow() as uow:
            pay(uow, "pay-1", 6_000)
            uow.commit(actor="api", request_id="pay-1")
        second = list(calls.operations)
    finally:
        dynamodb.delete_table(TableName=table.name)
    recorded = ["UpdateItem"] if shards > 1 else []
    assert first == [*recorded, "TransactWriteItems"]
    assert second == ["Query", "TransactWriteItems"]


def test_billing_reads_no_line_whose_index_entry_shows_nothing_to_bill(
    dynamodb: DynamoDBClient, clock: ManualClock, calls: CallLog
) -> None:
    """The catch-up finds lines billed days ago; their index entries say so, so none is read."""
    table: DynamoTable = create_table(dynamodb, "test-billing-loc-service", shards=1)
    lines = [make_line(f"line-{number:02d}", f"user-{number:02d}") for number in range(20)]
    try:
        ports = on_table(table, clock)
        with ports[UnitOfWork] as uow:  # type: ignore[attr-defined]  # a DynamoUnitOfWork
            for line in lines:
                uow.lines.add(line)
            uow.commit(actor="test", request_id="open")
        bus = bootstrap(overrides={Clock: clock, **ports})
        clock.set(dt.datetime(2026, 2, 5, 8, tzinfo=dt.UTC))  # every line's first close
        assert len(bus.handle(BillClosedCycles()).acted) == len(lines)
        calls.clear()
        clock.set(dt.datetime(2026, 2, 8, 8, tzinfo=dt.UTC))  # the catch-up still finds them
        report = bus.handle(BillClosedCycles())
        operations = list(calls.operations)
    finally:
        dynamodb.delete_table(TableName=table.name)
    assert (report.acted, len(report.skipped), report.failed) == ((), len(lines), ())
    # one index query a day of the window (today and 7 back), and no line read
    assert operations == ["Query"] * 8
