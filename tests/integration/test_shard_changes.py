"""Changing the shard count of a table (``LOC_SHARDS``) loses nothing.

An item keeps its sharded index key until its status changes, so an item written under
``#3`` by a 4-shard deployment must still be read by a 2-shard (or 1-shard) deployment of
the same table, and by two deployments with different counts working at once. The table
records the largest count any writer used (`DynamoTable.record_shards`, before its first
write) and every index read covers that many partitions (`DynamoTable.partitions`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from contracts.intents import make_intent
from contracts.uow import make_line, pay
from integration.support import CallLog, aws_session, units_of_work

from loc_adapters.dynamodb import DynamoEventOutbox, DynamoTable, create_table
from loc_adapters.dynamodb import _keys as keys
from loc_adapters.memory import ManualClock
from loc_core.creditline.vocabulary import LineStatus
from loc_core.errors import InvalidConfiguration, InvariantViolation
from loc_core.installment import InstallmentStatus, Process
from loc_core.testing.installment import make_loan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
ALL_DUE = dt.date(2100, 1, 1)


@pytest.fixture
def name(dynamodb: DynamoDBClient) -> Iterator[str]:
    """A fresh table's name; the table is made unsharded (no shard record) and removed after."""
    made = f"test-shards-{uuid.uuid4().hex[:12]}-loc-service"
    create_table(dynamodb, made)
    yield made
    dynamodb.delete_table(TableName=made)


def write_book(table: DynamoTable, clock: ManualClock, tag: str, count: int = 4) -> None:
    """Loans (paid by autopay: audit records), lines due and watched, open intents, and the
    events their commits keep: an item in each sharded index, written through `table`."""
    new_uow = units_of_work(table, clock)
    for number in range(count):
        user, loan_id = f"user-{tag}{number}", f"loan-{tag}{number}"
        with new_uow() as uow:
            uow.loans.add(make_loan(loan_id=loan_id, user_id=user))
            line = make_line(f"line-{tag}{number}", user)
            line.next_due_date = dt.date(2026, 3, 1 + number)
            if number % 2:
                line.status = LineStatus.SUSPENDED  # watched by the overdue job every day
            uow.lines.add(line)
            uow.intents.add(make_intent(f"manual:{loan_id}:key", user_id=user))
            uow.commit(actor="test", request_id=f"open-{tag}{number}")
        with new_uow() as uow:
            pay(
                uow,
                f"pay-{tag}{number}",
                6_000,
                process=Process.AUTOPAY,
                user_id=user,
                loan_id=loan_id,
            )
            uow.commit(actor="test", request_id=f"pay-{tag}{number}")


def index_reads(table: DynamoTable, clock: ManualClock) -> dict[str, list[str]]:
    """What every read of a sharded index finds through `table`."""
    with units_of_work(table, clock)() as uow:
        found = {
            "due installments": [
                ref.installment_id
                for ref in uow.loans.installments(InstallmentStatus.SCHEDULED, due_through=ALL_DUE)
            ],
            "lines due": [ref.line_id for ref in uow.lines.due_between(dt.date.min, dt.date.max)],
            "lines watched": [ref.line_id for ref in uow.lines.overdue_candidates(ALL_DUE)],
            "open intents": [ref.intent_id for ref in uow.intents.open_before(FAR)],
            "autopay audit": [
                record.record_id
                for record in uow.audit.process_page("AUTOPAY", cursor=None, limit=100).records
            ],
        }
    kept = DynamoEventOutbox(table).undelivered(committed_before=FAR, limit=1_000)
    found["kept events"] = [k.event.event_id for k in kept.events]
    return found


SHARDED = {
    "due installments": ("GSI1", keys.installment_status_pk("SCHEDULED")),
    "lines due": ("GSI2", keys.LINE_DUE_DATES),
    "lines watched": ("GSI3", keys.LINES_TO_WATCH),
    "open intents": ("GSI2", keys.INTENTS_OPEN),
    "autopay audit": ("GSI2", keys.audit_process_pk("AUTOPAY")),
    "kept events": ("GSI2", "EVENT#KEPT"),
}
"""Each read's index and unsharded partition key."""


def stored_in(dynamodb: DynamoDBClient, table: str, index: str, partition: str) -> int:
    """How many items the index holds in one partition (a raw count, no adapter)."""
    response: Any = dynamodb.query(
        TableName=table,
        IndexName=index,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": f"{index}PK"},
        ExpressionAttributeValues={":pk": {"S": partition}},
        Select="COUNT",
    )
    return int(response["Count"])


def assert_beyond(dynamodb: DynamoDBClient, table: str, first_shard: int, shards: int) -> None:
    """Each sharded index holds items in shards a table of `first_shard` shards does not
    write: what the test is about (otherwise it would prove nothing)."""
    for what, (index, base) in SHARDED.items():
        beyond = sum(
            stored_in(dynamodb, table, index, f"{base}#{shard}")
            for shard in range(first_shard, shards)
        )
        assert beyond > 0, f"no {what} in shards {first_shard}..{shards - 1}"


@pytest.mark.parametrize("fewer", [pytest.param(2, id="4-to-2"), pytest.param(1, id="4-to-1")])
def test_lowering_the_shard_count_loses_no_item(
    dynamodb: DynamoDBClient, clock: ManualClock, name: str, fewer: int
) -> None:
    """A 4-shard deployment writes; the operator lowers LOC_SHARDS; every job still finds
    every item (before the fix the due installments, lines, intents, events and audit
    records in shards 2 and 3, or 1 to 3, were never read again)."""
    four = DynamoTable(dynamodb, name, shards=4)
    write_book(four, clock, "a", count=6)  # enough that every index reaches shards 2 and 3
    assert_beyond(dynamodb, name, fewer, 4)
    written = index_reads(four, clock)
    assert all(written.values()), written
    assert index_reads(DynamoTable(dynamodb, name, shards=fewer), clock) == written


def test_a_table_made_with_shards_records_them(
    dynamodb: DynamoDBClient, clock: ManualClock
) -> None:
    """`create_table(..., shards=4)` records 4: a 2-shard reader made later covers them all."""
    made = f"test-shards-{uuid.uuid4().hex[:12]}-loc-service"
    table = create_table(dynamodb, made, shards=4)
    try:
        assert table.recorded_shards() == 4
        write_book(table, clock, "m", count=4)
        # due today or past due: the collections job's own query, through two shards
        reader = DynamoTable(dynamodb, made, shards=2)
        assert index_reads(reader, clock) == index_reads(table, clock)
    finally:
        dynamodb.delete_table(TableName=made)


def test_raising_the_count_is_seen_by_a_reader_already_running(
    dynamodb: DynamoDBClient, clock: ManualClock, name: str
) -> None:
    """A 1-shard reader read the table before a 4-shard writer started; its next read
    (the record is read again at each index read) finds the new shards' items."""
    reader = DynamoTable(dynamodb, name)
    write_book(reader, clock, "a", count=3)
    before = index_reads(reader, clock)
    assert reader.recorded_shards() == 1
    four = DynamoTable(dynamodb, name, shards=4)
    write_book(four, clock, "b")
    assert_beyond(dynamodb, name, 1, 4)
    assert reader.recorded_shards() == 4
    after = index_reads(reader, clock)
    assert after == index_reads(four, clock)
    for what, ids in before.items():
        assert set(ids) < set(after[what]), what


def test_an_item_written_while_a_read_runs_is_found_by_the_next_read(
    dynamodb: DynamoDBClient, moto_endpoint: str, clock: ManualClock, name: str
) -> None:
    """The race the rule allows: a 1-shard reader has read the record (1) when a 4-shard
    writer, on its own client, records 4 and writes, before the reader's first query.
    That read misses the new items (as an index read may miss any item written a moment
    ago); the reader's next read reads the record again and finds them all."""
    reader = DynamoTable(dynamodb, name)
    other = aws_session().client("dynamodb", endpoint_url=moto_endpoint, config=Config(proxies={}))
    writer = DynamoTable(other, name, shards=4)
    interleaved: list[str] = []

    def write_between_record_and_query(**_: object) -> None:
        if not interleaved:
            interleaved.append("written")
            write_book(writer, clock, "w", count=4)

    dynamodb.meta.events.register(
        "before-call.dynamodb.Query", write_between_record_and_query, unique_id="race"
    )
    try:
        with units_of_work(reader, clock)() as uow:
            during = uow.loans.installments(InstallmentStatus.SCHEDULED, due_through=ALL_DUE)
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.Query", unique_id="race")
    assert interleaved == ["written"]
    assert during == []
    assert index_reads(reader, clock) == index_reads(writer, clock)
    with units_of_work(reader, clock)() as uow:
        assert len(uow.loans.installments(InstallmentStatus.SCHEDULED, due_through=ALL_DUE)) == 20


def test_the_record_is_never_lowered(dynamodb: DynamoDBClient, name: str) -> None:
    assert DynamoTable(dynamodb, name).recorded_shards() == 1
    assert DynamoTable(dynamodb, name, shards=5).record_shards() == 5
    assert DynamoTable(dynamodb, name, shards=2).record_shards() == 5
    assert DynamoTable(dynamodb, name, shards=3).recorded_shards() == 5
    assert DynamoTable(dynamodb, name, shards=7).record_shards() == 7


def test_two_deployments_with_different_counts_interleave(
    dynamodb: DynamoDBClient, clock: ManualClock, name: str
) -> None:
    """Two functions on one table, 2 and 5 shards, write in turn; after each write both
    read the same: everything written so far."""
    two = DynamoTable(dynamodb, name, shards=2)
    five = DynamoTable(dynamodb, name, shards=5)
    previous: dict[str, list[str]] = {}
    for turn in range(2):
        for tag, writer in (("t", two), ("f", five)):
            write_book(writer, clock, f"{tag}{turn}", count=2)
            seen = index_reads(two, clock)
            assert index_reads(five, clock) == seen
            for what, ids in previous.items():
                assert set(ids) < set(seen[what]), what
            previous = seen
    assert_beyond(dynamodb, name, 2, 5)
    assert len(previous["due installments"]) == 8 * 5  # 8 loans, 5 installments left each


def test_an_absurd_shard_count_is_refused(dynamodb: DynamoDBClient) -> None:
    assert DynamoTable(dynamodb, "t", shards=keys.MAX_SHARDS).shards == keys.MAX_SHARDS
    with pytest.raises(InvalidConfiguration, match="shards must be at most 64"):
        DynamoTable(dynamodb, "t", shards=keys.MAX_SHARDS + 1)
    with pytest.raises(InvalidConfiguration, match="at most 64"):
        create_table(dynamodb, "never-made", shards=1_000)
    assert "never-made" not in dynamodb.list_tables()["TableNames"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"N": "0"}, id="zero"),
        pytest.param({"N": "65"}, id="too-many"),
        pytest.param({"N": "2.5"}, id="fraction"),
        pytest.param({"S": "4"}, id="text"),
    ],
)
def test_a_malformed_record_is_refused_not_ignored(
    dynamodb: DynamoDBClient, clock: ManualClock, name: str, value: dict[str, str]
) -> None:
    pk, sk = keys.shard_count_key()
    dynamodb.put_item(
        TableName=name,
        Item={"PK": {"S": pk}, "SK": {"S": sk}, keys.SHARD_COUNT_ATTRIBUTE: value},
    )
    table = DynamoTable(dynamodb, name)
    with (
        units_of_work(table, clock)() as uow,
        pytest.raises(InvariantViolation, match="shard record"),
    ):
        uow.loans.installments(InstallmentStatus.SCHEDULED)


def test_a_writer_records_once_and_an_unsharded_one_never(
    dynamodb: DynamoDBClient, clock: ManualClock, calls: CallLog, name: str
) -> None:
    one = DynamoTable(dynamodb, name)
    calls.clear()
    write_book(one, clock, "a", count=1)
    assert "UpdateItem" not in calls.operations
    assert dynamodb.get_item(TableName=name, Key=_key()).get("Item") is None
    four = DynamoTable(dynamodb, name, shards=4)
    calls.clear()
    write_book(four, clock, "b", count=2)
    assert calls.operations[:2] == ["UpdateItem", "TransactWriteItems"]
    assert calls.count("UpdateItem") == 1


def _key() -> Any:
    pk, sk = keys.shard_count_key()
    return {"PK": {"S": pk}, "SK": {"S": sk}}
