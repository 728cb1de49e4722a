"""The table: typed, paginated, error-translated calls on one DynamoDB table.

Every call of the adapter goes through `DynamoTable`, so pagination (`LastEvaluatedKey`),
batching (at most 25 items per `BatchWriteItem`, unprocessed items retried with backoff
and jitter) and the translation of botocore errors live in one place.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import attrs
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from loc_adapters._retry import Backoff, Leftover
from loc_adapters.dynamodb._convert import Item
from loc_adapters.dynamodb._errors import error_code, translated
from loc_adapters.dynamodb._keys import (
    GSI_ATTRIBUTES,
    MAX_SHARDS,
    SHARD_COUNT_ATTRIBUTE,
    shard_count_key,
)
from loc_adapters.dynamodb._keys import partitions as every_partition
from loc_core.errors import InvalidConfiguration, InvariantViolation
from loc_core.ports import TRANSACTION_LIMIT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        PutItemInputTypeDef,
        QueryInputTypeDef,
        ScanInputTypeDef,
        TransactWriteItemTypeDef,
        UpdateItemInputTypeDef,
        WriteRequestTypeDef,
    )

__all__ = [
    "BATCH_LIMIT",
    "TRANSACTION_LIMIT",
    "TTL_ATTRIBUTE",
    "Cancelled",
    "ConditionFailed",
    "DynamoTable",
    "create_table",
    "deserialize",
    "serialize",
    "table_name",
]

BATCH_LIMIT = 25
"""Most items one `BatchWriteItem` takes."""
TTL_ATTRIBUTE = "ttl"
"""The attribute DynamoDB's time to live reads (epoch seconds), as the seed names it."""

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def table_name(environment: str) -> str:
    """The table of an environment, as the Go service names it: ``{env}-loc-service``."""
    return f"{environment}-loc-service"


def serialize(item: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    """Python values to DynamoDB attribute values (floats are refused by boto3)."""
    return {name: _serializer.serialize(value) for name, value in item.items()}


def deserialize(item: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values to Python values (numbers become `Decimal`)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


class ConditionFailed(Exception):
    """A conditional write's condition did not hold; `item` is what was stored, if anything."""

    def __init__(self, item: Item | None) -> None:
        super().__init__("the condition of a conditional write failed")
        self.item = item


class Cancelled(Exception):
    """A transaction was cancelled; `reasons` line up with its actions (code, stored item)."""

    def __init__(self, reasons: list[tuple[str, Item | None]]) -> None:
        super().__init__("the transaction was cancelled")
        self.reasons = reasons


@attrs.define
class DynamoTable:
    """One DynamoDB table and how this library uses it.

    `client` is injected (a Lambda builds it once per container; tests point it at
    moto). `shards` spreads the hot index partitions (installments by status, lines by
    due date and overdue watch, open intents, kept events, audit records by process) over
    that many partitions when this table writes them (1: the seed's exact keys; at most
    `MAX_SHARDS`). Reads cover more: every partition any writer of the table has used
    (`partitions`). `page_size` caps the items of a query page (None: DynamoDB's 1 MB
    pages); tests set it to prove pagination.
    """

    client: DynamoDBClient
    name: str
    shards: int = attrs.field(default=1)
    page_size: int | None = None
    batch_attempts: int = 8
    """`BatchWriteItem` calls per chunk before unprocessed items fail the write."""
    batch_wait_initial: dt.timedelta = dt.timedelta(milliseconds=50)
    batch_wait_max: dt.timedelta = dt.timedelta(seconds=2)
    _recorded: bool = attrs.field(default=False, init=False, eq=False, repr=False)
    """Whether this process has recorded `shards` in the table (`record_shards`)."""

    @shards.validator
    def _check_shards(self, _attribute: object, value: int) -> None:
        if type(value) is not int or value < 1:
            raise InvariantViolation(
                f"shards must be a whole number >= 1, got {value!r}",
                key="shards",
                invariant="whole_shards",
            )
        if value > MAX_SHARDS:
            raise InvalidConfiguration(
                f"shards must be at most {MAX_SHARDS} (every index read queries each "
                f"shard), got {value}"
            )

    # --- the shard count every writer of the table has used -------------------------

    def recorded_shards(self) -> int:
        """The largest shard count any writer recorded in the table: one consistent `GetItem`.

        1 when none did (a table only ever written unsharded, by this library or the Go
        service, has no record).

        Raises:
            InvariantViolation: the record is not a whole number from 1 to `MAX_SHARDS`.
        """
        return _recorded_count(self.get(shard_count_key()))

    def partitions(self, base: str) -> list[str]:
        """Every partition of the sharded index key `base` that any writer may have used.

        The shards of ``max(shards, recorded_shards())`` and `base` itself, the record read
        afresh (one `GetItem`) for each index read: a writer records its count before its
        first write, so a read covers every item written before it began, whatever count
        the writer or this table is configured with. Shard numbers of a smaller count are
        a prefix of a larger one's, so the largest count covers every count ever used.
        """
        return every_partition(base, max(self.shards, self.recorded_shards()))

    def record_shards(self) -> int:
        """Raise the table's recorded shard count to `shards` (never lower it).

        One conditional `UpdateItem`; returns the count recorded afterwards (this table's,
        or a larger one another writer recorded). Called once per process before the
        first write (`transact`, `batch_put`) of a table with more than one shard, and by
        `create_table`.
        """
        stored: Item | None
        try:
            stored = self.update(
                shard_count_key(),
                update=f"SET #{SHARD_COUNT_ATTRIBUTE} = :shards",
                values={":shards": self.shards},
                condition=(
                    f"attribute_not_exists(#{SHARD_COUNT_ATTRIBUTE}) "
                    f"OR #{SHARD_COUNT_ATTRIBUTE} < :shards"
                ),
            )
        except ConditionFailed as exc:  # another writer recorded as many or more
            stored = exc.item
        recorded = _recorded_count(stored)
        self._recorded = True
        return recorded

    def _before_writing(self) -> None:
        """Record `shards` before this process first writes a sharded index key.

        Unsharded keys (1 shard) are the base partitions every read covers: nothing to
        record, and no call.
        """
        if self.shards > 1 and not self._recorded:
            self.record_shards()

    # --- reads --------------------------------------------------------------------------

    def get(self, key: tuple[str, str]) -> Item | None:
        """One item by key, read consistently; None when there is none."""
        with translated("GetItem", table=self.name):
            response = self.client.get_item(
                TableName=self.name,
                Key=serialize({"PK": key[0], "SK": key[1]}),
                ConsistentRead=True,
            )
        found = response.get("Item")
        return None if found is None else deserialize(found)

    def query(
        self,
        condition: str,
        values: Mapping[str, Any],
        *,
        index: str | None = None,
        projection: Sequence[str] = (),
        limit: int | None = None,
        forward: bool = True,
    ) -> Iterator[Item]:
        """Every item matching a key condition, page after page until the last.

        `condition` names attributes through ``#``-placeholders of their own names
        (``#PK = :pk``). Base-table queries read consistently; index queries cannot.
        `limit` stops after that many items (read no further than needed); `forward`
        False reads in descending sort-key order.
        """
        names = _names(condition, *(f"#{name}" for name in projection))
        request: QueryInputTypeDef = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
        if index is None:
            request["ConsistentRead"] = True
        else:
            request["IndexName"] = index
        if projection:
            request["ProjectionExpression"] = ", ".join(f"#{name}" for name in projection)
        if not forward:
            request["ScanIndexForward"] = False
        left = limit
        while True:
            sizes = [size for size in (self.page_size, left) if size is not None]
            if sizes:
                request["Limit"] = min(sizes)
            with translated("Query", table=self.name):
                response = self.client.query(**request)
            for found in response.get("Items", []):
                yield deserialize(found)
            if left is not None:
                left -= len(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or (left is not None and left <= 0):
                return
            request["ExclusiveStartKey"] = last

    def scan_keys(
        self, prefix: str, *, start: Mapping[str, str] | None, limit: int
    ) -> tuple[list[tuple[str, str]], dict[str, str] | None]:
        """One consistent `Scan` page: the (PK, SK) of items whose SK starts with `prefix`.

        `limit` bounds the items read, so a page may find none and still have a next
        one; the second value is where it starts (None after the last page).
        """
        request: ScanInputTypeDef = {
            "TableName": self.name,
            "ConsistentRead": True,
            "Limit": limit,
            "FilterExpression": "begins_with(#SK, :prefix)",
            "ProjectionExpression": "#PK, #SK",
            "ExpressionAttributeNames": {"#PK": "PK", "#SK": "SK"},
            "ExpressionAttributeValues": serialize({":prefix": prefix}),
        }
        if start is not None:
            request["ExclusiveStartKey"] = serialize(start)
        with translated("Scan", table=self.name):
            response = self.client.scan(**request)
        found = [deserialize(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        following = None if not last else {k: str(v) for k, v in deserialize(last).items()}
        return [(str(item["PK"]), str(item["SK"])) for item in found], following

    # --- writes -------------------------------------------------------------------------

    def update(
        self,
        key: tuple[str, str],
        *,
        update: str,
        values: Mapping[str, Any],
        condition: str | None = None,
    ) -> Item:
        """Update one item, conditionally; returns the item as it is afterwards.

        Raises:
            ConditionFailed: with the stored item, when `condition` did not hold.
        """
        request: UpdateItemInputTypeDef = {
            "TableName": self.name,
            "Key": serialize({"PK": key[0], "SK": key[1]}),
            "UpdateExpression": update,
            "ExpressionAttributeNames": _names(update, condition),
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = serialize(values)
        if condition is not None:
            request["ConditionExpression"] = condition
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        with translated("UpdateItem", table=self.name), _condition_failures():
            response = self.client.update_item(**request)
        return deserialize(response.get("Attributes", {}))

    def put(self, item: Item, *, condition: str, values: Mapping[str, Any]) -> None:
        """Write one whole item if `condition` holds.

        Raises:
            ConditionFailed: with the stored item, when `condition` did not hold.
        """
        request: PutItemInputTypeDef = {
            "TableName": self.name,
            "Item": serialize(item),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": _names(condition),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if values:
            request["ExpressionAttributeValues"] = serialize(values)
        with translated("PutItem", table=self.name), _condition_failures():
            self.client.put_item(**request)

    def delete(self, key: tuple[str, str], *, condition: str, values: Mapping[str, Any]) -> None:
        """Delete one item if `condition` holds.

        Raises:
            ConditionFailed: with the stored item, when `condition` did not hold.
        """
        with translated("DeleteItem", table=self.name), _condition_failures():
            self.client.delete_item(
                TableName=self.name,
                Key=serialize({"PK": key[0], "SK": key[1]}),
                ConditionExpression=condition,
                ExpressionAttributeNames=_names(condition),
                ExpressionAttributeValues=serialize(values),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )

    def transact(self, actions: Sequence[TransactWriteItemTypeDef], *, token: str) -> None:
        """Write every action atomically, or none of them.

        `token` makes a retried request (botocore retries a call whose answer was lost)
        succeed once instead of failing its own conditions.

        Raises:
            Cancelled: with the reason of each action, when DynamoDB cancelled it.
        """
        self._before_writing()
        with translated("TransactWriteItems", table=self.name):
            try:
                self.client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                raise Cancelled(_reasons(exc)) from exc

    def batch_put(self, items: Sequence[Item]) -> None:
        """Write items in batches of 25, not atomically; for tools, backfills and tests.

        Unprocessed items are retried with exponential backoff and jitter, up to
        `batch_attempts` calls per batch.

        Raises:
            ExternalServiceError: when items are still unprocessed after the last
                attempt, or DynamoDB refused the batch.
            InvariantViolation: when the same key appears twice (DynamoDB refuses that).
        """
        seen: set[tuple[str, str]] = set()
        for item in items:
            key = (item["PK"], item["SK"])
            if key in seen:
                raise InvariantViolation(
                    f"a batch writes {key} twice", invariant="one_write_per_item"
                )
            seen.add(key)
        self._before_writing()  # the items' index keys are sharded as `shards` says
        requests: list[WriteRequestTypeDef] = [
            {"PutRequest": {"Item": serialize(item)}} for item in items
        ]
        for start in range(0, len(requests), BATCH_LIMIT):
            self._write_batch(requests[start : start + BATCH_LIMIT])

    def _write_batch(self, requests: list[WriteRequestTypeDef]) -> None:
        def exhausted(left: Leftover[WriteRequestTypeDef]) -> str:
            return (
                f"BatchWriteItem left {len(left.items)} of {len(requests)} items unprocessed "
                f"after {self.batch_attempts} attempts"
            )

        backoff = Backoff(self.batch_attempts, self.batch_wait_initial, self.batch_wait_max)
        backoff.resend_leftovers(self._write_once, requests, exhausted=exhausted)

    def _write_once(self, requests: list[WriteRequestTypeDef]) -> None:
        """One `BatchWriteItem`; raises `Leftover` with what DynamoDB left over."""
        with translated("BatchWriteItem", table=self.name):
            response = self.client.batch_write_item(RequestItems={self.name: requests})
        left = response.get("UnprocessedItems", {}).get(self.name, [])
        if left:  # sent back as they came: the output shapes are the input shapes
            raise Leftover(
                cast("list[WriteRequestTypeDef]", list(left)), f"{len(left)} writes unprocessed"
            )


def _placeholders(*expressions: str | None) -> set[str]:
    """The attribute names an expression refers to as ``#name``."""
    found: set[str] = set()
    for expression in expressions:
        found.update(re.findall(r"#([A-Za-z0-9_]+)", expression or ""))
    return found


def _names(*expressions: str | None) -> dict[str, str]:
    return {f"#{name}": name for name in _placeholders(*expressions)}


@contextmanager
def _condition_failures() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        response: Mapping[str, Any] = exc.response  # ALL_OLD puts the stored item in "Item"
        stored = response.get("Item")
        raise ConditionFailed(None if not stored else deserialize(stored)) from exc


def _reasons(exc: ClientError) -> list[tuple[str, Item | None]]:
    found: list[tuple[str, Item | None]] = []
    response: Mapping[str, Any] = exc.response  # TransactionCanceledException carries the reasons
    for reason in response.get("CancellationReasons", []):
        stored = reason.get("Item")
        found.append((str(reason.get("Code", "")), None if not stored else deserialize(stored)))
    return found


def _recorded_count(item: Item | None) -> int:
    """The shard count a `shard_count_key` item records (1 when there is no item)."""
    if item is None:
        return 1
    value = item.get(SHARD_COUNT_ATTRIBUTE)
    if (
        not isinstance(value, Decimal)
        or value != value.to_integral_value()
        or not 1 <= value <= MAX_SHARDS
    ):
        raise InvariantViolation(
            f"the table's shard record {shard_count_key()} holds {SHARD_COUNT_ATTRIBUTE} "
            f"= {value!r}, not a whole number from 1 to {MAX_SHARDS}: the partitions "
            "its writers used are unknown",
            key=SHARD_COUNT_ATTRIBUTE,
            invariant="recorded_shards",
        )
    return int(value)


def create_table(client: DynamoDBClient, name: str, *, shards: int = 1) -> DynamoTable:
    """Create the table as production has it, for tests and tools; returns it ready to use.

    Key schema PK/SK (strings); GSI1, GSI2 and GSI3 over ``GSI<n>PK``/``GSI<n>SK``, all
    attributes projected; time to live on ``ttl``; a stream with new and old images
    (the expiration handler and the audit stream read it). On-demand capacity. More than
    one shard is recorded at once (`DynamoTable.record_shards`).
    """
    table = DynamoTable(client, name, shards=shards)  # refuses a bad count before creating
    key_names = ("PK", "SK", *GSI_ATTRIBUTES)
    with translated("CreateTable"):
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": attribute, "AttributeType": "S"} for attribute in key_names
            ],
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": f"GSI{number}",
                    "KeySchema": [
                        {"AttributeName": f"GSI{number}PK", "KeyType": "HASH"},
                        {"AttributeName": f"GSI{number}SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for number in (1, 2, 3)
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    if shards > 1:
        table.record_shards()
    return table
