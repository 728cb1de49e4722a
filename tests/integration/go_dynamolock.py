"""The Go service's side of the shared lock: dynamolock v2's steps, played in Python.

Each call is the request ``cirello.io/dynamolock/v2`` makes (``client.go`` at commit
3d2559ad200084df91476e503b24f6ebb42cdb90), written with boto3 so it is independent of
the adapter under test; time and sleeping are the test's manual clock, so a lease lapses
exactly when the test says. Only what a test needs is here: acquire (new, released, or
lapsed: an RVN unchanged for a lease duration), heartbeat, release (mark or delete).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from loc_adapters.memory import ManualClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_KNOWN = ("data", "ownerName", "leaseDuration", "recordVersionNumber", "isReleased")
_BUFFER = dt.timedelta(seconds=1)
"""dynamolock's ``defaultBuffer``: extra wait, and the refresh period between tries."""
_to = TypeSerializer()
_from = TypeDeserializer()


class LockNotGranted(Exception):
    """dynamolock's ``LockNotGrantedError``."""


@attrs.define
class GoLock:
    """dynamolock's ``Lock``: what its client remembers of a lock it holds."""

    key: str
    owner: str
    rvn: str
    lease: dt.timedelta


@attrs.define
class GoDynamolock:
    """A dynamolock v2 client, heartbeats driven by the test (``DisableHeartbeat``)."""

    client: DynamoDBClient
    table: str
    clock: ManualClock
    owner: str = "go-worker"
    lease: dt.timedelta = dt.timedelta(seconds=20)
    partition_key: str = "key"
    on_sleep: Callable[[], None] = lambda: None
    """Run after each refresh-period sleep: what the other side does meanwhile."""

    def acquire(self, key: str, *, fail_if_locked: bool = False) -> GoLock:
        """``AcquireLock``: try, and while held wait a lease duration plus a buffer.

        Raises:
            LockNotGranted: held, with ``FailIfLocked``, or still held after waiting.
        """
        start = self.clock.now()
        wait = _BUFFER
        watched: dict[str, Any] | None = None
        watched_since = start
        while True:
            stored = self.get(key)
            rvn = _rvn(self.clock.now())
            item = self._item(key, stored or {}, rvn)
            if stored is None or "isReleased" in stored:
                if self._put(
                    item,
                    "attribute_not_exists(#pk) OR (attribute_exists(#pk) AND #released = :one)",
                    {":one": "1"},
                ):
                    return GoLock(key, self.owner, rvn, self.lease)
            elif watched is None:
                if fail_if_locked:
                    raise LockNotGranted("locked and FailIfLocked")
                watched, watched_since = stored, self.clock.now()
                wait += _duration(stored["leaseDuration"])
            elif watched["recordVersionNumber"] != stored["recordVersionNumber"]:
                watched, watched_since = stored, self.clock.now()
            elif self.clock.now() - watched_since > _duration(
                watched["leaseDuration"]
            ) and self._put(
                item,
                "attribute_exists(#pk) AND #rvn = :seen",
                {":seen": stored["recordVersionNumber"]},
            ):
                return GoLock(key, self.owner, rvn, self.lease)
            if self.clock.now() - start > wait:
                raise LockNotGranted("didn't acquire lock after sleeping")
            self.clock.advance(_BUFFER)
            self.on_sleep()

    def _item(self, key: str, stored: dict[str, Any], rvn: str) -> dict[str, Any]:
        """The whole item a ``PutItem`` writes: the stored unknown attributes and data kept."""
        kept = {k: v for k, v in stored.items() if k not in _KNOWN or k == "data"}
        return {
            **kept,
            self.partition_key: key,
            "ownerName": self.owner,
            "leaseDuration": go_string(self.lease),
            "recordVersionNumber": rvn,
        }

    def heartbeat(self, lock: GoLock) -> None:
        """``SendHeartbeat``: a new RVN and lease duration, on the owner and current RVN.

        Raises:
            LockNotGranted: the lock was taken or released meanwhile.
        """
        rvn = _rvn(self.clock.now())
        self._update(
            lock,
            "SET #lease = :lease, #rvn = :next",
            {":lease": go_string(self.lease), ":next": rvn},
        )
        lock.rvn = rvn

    def release(self, lock: GoLock, *, delete: bool = False) -> None:
        """``ReleaseLock``: mark ``isReleased`` (or delete), on the owner and current RVN."""
        if delete:
            self.client.delete_item(
                TableName=self.table,
                Key={self.partition_key: {"S": lock.key}},
                ConditionExpression=_OWNED,
                ExpressionAttributeNames=self._names(_OWNED),
                ExpressionAttributeValues={
                    ":owner": {"S": lock.owner},
                    ":rvn": {"S": lock.rvn},
                },
            )
            return
        self._update(lock, "SET #released = :one", {":one": "1"})

    def get(self, key: str) -> dict[str, Any] | None:
        """The lock's item, read consistently, as dynamolock's ``GetItem``."""
        found = self.client.get_item(
            TableName=self.table, Key={self.partition_key: {"S": key}}, ConsistentRead=True
        ).get("Item")
        return None if found is None else {k: _from.deserialize(v) for k, v in found.items()}

    def _put(self, item: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={k: _to.serialize(v) for k, v in item.items()},
                ConditionExpression=condition,
                ExpressionAttributeNames=self._names(condition),
                ExpressionAttributeValues={k: _to.serialize(v) for k, v in values.items()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _update(self, lock: GoLock, update: str, values: dict[str, Any]) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={self.partition_key: {"S": lock.key}},
                UpdateExpression=update,
                ConditionExpression=_OWNED,
                ExpressionAttributeNames=self._names(f"{update} {_OWNED}"),
                ExpressionAttributeValues={
                    k: _to.serialize(v)
                    for k, v in {**values, ":owner": lock.owner, ":rvn": lock.rvn}.items()
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise LockNotGranted("already acquired lock, stopping heartbeats") from exc

    def _names(self, expression: str) -> dict[str, str]:
        names = {
            "#pk": self.partition_key,
            "#owner": "ownerName",
            "#lease": "leaseDuration",
            "#rvn": "recordVersionNumber",
            "#released": "isReleased",
        }
        return {k: v for k, v in names.items() if k in expression}


_OWNED = "attribute_exists(#pk) AND #rvn = :rvn AND #owner = :owner"
"""dynamolock's ``ownershipLockCondition``."""


def _rvn(now: dt.datetime) -> str:
    random = base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"{int(now.timestamp() * 10**9)}:{random}"


def go_string(span: dt.timedelta) -> str:
    """Whole seconds as Go prints them (what these tests use): ``20s``, ``1m30s``."""
    minutes, seconds = divmod(int(span.total_seconds()), 60)
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def _duration(text: str) -> dt.timedelta:
    minutes, _, seconds = text.rstrip("s").rpartition("m")
    return dt.timedelta(minutes=int(minutes or 0), seconds=int(seconds))
