"""A `Lock` in ``cirello.io/dynamolock/v2``'s table: Go and Python workers exclude each other.

Read from dynamolock's source (``v2/client.go``, ``client_heartbeat.go``, ``lock.go`` at
commit 3d2559ad200084df91476e503b24f6ebb42cdb90); ``docs/migration.md`` (its shared
lock) describes it.
One item per lock key in its own table (partition key ``key`` by default):
``ownerName``, ``leaseDuration`` (a Go duration string, ``"20s"``), ``recordVersionNumber``
(a fresh string at every acquisition and heartbeat), ``isReleased`` (``"1"`` once
released), optional ``data``. A holder's lease has lapsed, for dynamolock, when its record
version number stayed the same for a lease duration after someone first saw it.

What this adapter adds is kept in attributes dynamolock carries along and otherwise
ignores (its acquisition copies unknown attributes into the new item, its heartbeat and
release update in place): ``loc_fencing_token``, the `Lease` token; ``loc_seen_rvn`` and
``loc_seen_at``, when a record version number was first seen, so any Python worker
(not only the one that looked first) judges a Go holder's lapse the way dynamolock does.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from loc_adapters.dynamodb._convert import Item, format_fixed_timestamp, parse_timestamp
from loc_adapters.dynamodb._errors import error_code, translated
from loc_adapters.dynamodb._table import deserialize, serialize
from loc_core.errors import LockNotAcquired
from loc_core.money import exact_context
from loc_core.ports import Clock, Lease

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = [
    "DEFAULT_PARTITION_KEY",
    "DynamolockLock",
    "create_lock_table",
    "go_duration",
    "parse_go_duration",
    "record_version_number",
]

DEFAULT_PARTITION_KEY = "key"
"""dynamolock's default partition key attribute (``WithPartitionKeyName`` changes it)."""

OWNER = "ownerName"
LEASE_DURATION = "leaseDuration"
RVN = "recordVersionNumber"
RELEASED = "isReleased"
RELEASED_VALUE = "1"
"""dynamolock marks a released item ``isReleased = "1"`` (and tests only that it exists)."""
FENCE = "loc_fencing_token"
SEEN_RVN = "loc_seen_rvn"
SEEN_AT = "loc_seen_at"

_NAMES = {
    "#owner": OWNER,
    "#lease": LEASE_DURATION,
    "#rvn": RVN,
    "#released": RELEASED,
    "#fence": FENCE,
    "#seen_rvn": SEEN_RVN,
    "#seen_at": SEEN_AT,
}
_HOLD = (
    "SET #owner = :owner, #lease = :lease, #rvn = :rvn, #fence = :token, "
    "#seen_rvn = :rvn, #seen_at = :now"
)
"""What an acquisition or heartbeat writes: a new record version number, seen now."""
_CURRENT = (
    "attribute_exists(#pk) AND #owner = :owner AND #fence = :held "
    "AND attribute_not_exists(#released)"
)
"""The lease is still this one: same owner and token, not released (a Go takeover
rewrites the owner, a heartbeat the token, a release adds ``isReleased``)."""


class DynamolockLock:
    """A `Lock` in a dynamolock v2 table; see the module's docstring for the protocol.

    The table must be in the region of the single table: a fenced commit checks the
    lease in the same transaction (`lease_check`).
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        clock: Clock,
        partition_key: str = DEFAULT_PARTITION_KEY,
    ) -> None:
        self.client = client
        self.table_name = table_name
        self.partition_key = partition_key
        self._clock = clock

    def acquire(self, key: str, *, owner: str, ttl: dt.timedelta) -> Lease:
        """Take `key` if free, released, lapsed (dynamolock's rule) or already `owner`'s.

        A key held by another owner is refused; the first refusal of a record version
        number notes when it was seen, and once it is still the same a lease duration
        later the key is taken over, conditionally on that version number.

        Raises:
            LockNotAcquired: while another owner holds the key.
        """
        now = self._clock.now()
        stored = self._get(key)
        values: dict[str, Any] = {}
        if stored is None:
            condition = "attribute_not_exists(#pk)"
            token = _token_floor(now)
        else:
            if not _takeable(stored, owner, now):
                self._note_seen(key, stored, now)
                raise _held(key, stored, now)
            condition = "#rvn = :seen"
            values[":seen"] = stored[RVN]
            token = int(stored[FENCE]) + 1 if FENCE in stored else _token_floor(now)
        try:
            self._update(
                key,
                f"{_HOLD} REMOVE #released",
                condition,
                {**values, **_hold_values(owner, ttl, token, now)},
            )
        except _ConditionFailed as exc:
            raise _held(key, exc.item, now) from exc
        return Lease(key=key, owner=owner, fencing_token=token, expires_at=now + ttl)

    def heartbeat(self, lease: Lease, *, ttl: dt.timedelta) -> Lease:
        """Extend a current, unexpired lease: a new record version number and token.

        Raises:
            LockNotAcquired: when the lease expired, was taken over or was released.
        """
        now = self._clock.now()
        where = f"{lease.key}: the lease of {lease.owner} (token {lease.fencing_token})"
        if lease.expires_at <= now:
            raise LockNotAcquired(
                f"{where} expired at {lease.expires_at}", entity="lease", key=lease.key
            )
        token = lease.fencing_token + 1
        values = _hold_values(lease.owner, ttl, token, now)
        try:
            self._update(lease.key, _HOLD, _CURRENT, {**values, ":held": lease.fencing_token})
        except _ConditionFailed as exc:
            raise LockNotAcquired(
                f"{where} was lost: {_holder(exc.item)} holds the key",
                entity="lease",
                key=lease.key,
            ) from exc
        return Lease(key=lease.key, owner=lease.owner, fencing_token=token, expires_at=now + ttl)

    def release(self, lease: Lease) -> bool:
        """Mark the lease released (dynamolock's default); False when it was already lost.

        The item stays, with its token, so the next lease's token is higher.
        """
        try:
            self._update(
                lease.key,
                "SET #released = :released",
                _CURRENT,
                {
                    ":released": RELEASED_VALUE,
                    ":owner": lease.owner,
                    ":held": lease.fencing_token,
                },
            )
        except _ConditionFailed:
            return False
        return True

    def lease_check(self, lease: Lease) -> TransactWriteItemTypeDef:
        """A transaction's `ConditionCheck` that `lease` is still current in the lock table."""
        return {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": serialize({self.partition_key: lease.key}),
                "ConditionExpression": _CURRENT,
                "ExpressionAttributeNames": _names(_CURRENT, self.partition_key),
                "ExpressionAttributeValues": serialize(
                    {":owner": lease.owner, ":held": lease.fencing_token}
                ),
            }
        }

    # --- calls ----------------------------------------------------------------------

    def _get(self, key: str) -> Item | None:
        with translated("GetItem", table=self.table_name, setting="LOC_DYNAMOLOCK_TABLE"):
            response = self.client.get_item(
                TableName=self.table_name,
                Key=serialize({self.partition_key: key}),
                ConsistentRead=True,
            )
        found = response.get("Item")
        return None if found is None else deserialize(found)

    def _update(self, key: str, update: str, condition: str, values: dict[str, Any]) -> None:
        with translated("UpdateItem", table=self.table_name, setting="LOC_DYNAMOLOCK_TABLE"):
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key=serialize({self.partition_key: key}),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=_names(f"{update} {condition}", self.partition_key),
                    ExpressionAttributeValues=serialize(values),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                old: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]  # botocore types the error response loosely
                raise _ConditionFailed(None if old is None else deserialize(old)) from exc

    def _note_seen(self, key: str, stored: Item, now: dt.datetime) -> None:
        """Note when the holder's record version number was first seen (changes no RVN)."""
        if stored.get(SEEN_RVN) == stored[RVN]:
            return
        # Failing means the holder heartbeat meanwhile, or another worker noted it first.
        with contextlib.suppress(_ConditionFailed):
            self._update(
                key,
                "SET #seen_rvn = :seen, #seen_at = :now",
                "#rvn = :seen AND (attribute_not_exists(#seen_rvn) OR #seen_rvn <> :seen)",
                {":seen": stored[RVN], ":now": format_fixed_timestamp(now)},
            )


class _ConditionFailed(Exception):
    def __init__(self, item: Item | None) -> None:
        super().__init__("the lock item's condition failed")
        self.item = item


def _hold_values(owner: str, ttl: dt.timedelta, token: int, now: dt.datetime) -> dict[str, Any]:
    return {
        ":owner": owner,
        ":lease": go_duration(ttl),
        ":rvn": record_version_number(now),
        ":token": token,
        ":now": format_fixed_timestamp(now),
    }


def _names(expression: str, partition_key: str) -> dict[str, str]:
    names = {**_NAMES, "#pk": partition_key}
    return {name: value for name, value in names.items() if name in expression}


def _token_floor(now: dt.datetime) -> int:
    """A first token: the clock in microseconds, above any token of a deleted earlier item.

    dynamolock deletes an item released with ``WithDeleteLockOnRelease``; the tokens of
    its earlier leases grew by one per acquisition or heartbeat, far slower than time.
    """
    return int(now.timestamp() * 1_000_000)


def _lapses_at(stored: Item) -> dt.datetime | None:
    """When the holder's lease lapses: first seen at its RVN, plus its lease duration."""
    if stored.get(SEEN_RVN) != stored[RVN] or SEEN_AT not in stored:
        return None
    return parse_timestamp(stored[SEEN_AT]) + parse_go_duration(str(stored.get(LEASE_DURATION, "")))


def _takeable(stored: Item, owner: str, now: dt.datetime) -> bool:
    if RELEASED in stored or stored.get(OWNER) == owner:
        return True
    lapses = _lapses_at(stored)
    return lapses is not None and lapses <= now


def _holder(stored: Item | None) -> str:
    if stored is None or RELEASED in stored:
        return "nobody"
    return str(stored.get(OWNER, ""))


def _held(key: str, stored: Item | None, now: dt.datetime) -> LockNotAcquired:
    until: object = "now"
    if stored is not None and RELEASED not in stored:
        lapses = _lapses_at(stored)
        until = (
            lapses
            if lapses is not None
            else now + parse_go_duration(str(stored.get(LEASE_DURATION, "")))
        )
    return LockNotAcquired(
        f"{key} is held by {_holder(stored)} until {until}", entity="lease", key=key
    )


# --- dynamolock's formats --------------------------------------------------------------


def record_version_number(now: dt.datetime) -> str:
    """A record version number shaped like dynamolock's: ``<unix nanoseconds>:<random base32>``."""
    random = base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"{int(now.timestamp()) * 10**9 + now.microsecond * 1000}:{random}"


_UNITS_NS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_EXACT = exact_context(60)
"""Durations are added in the library's own context, never the host's `decimal` one."""
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def go_duration(span: dt.timedelta) -> str:
    """`span` as Go's ``Duration.String()`` prints it: ``20s``, ``1m30s``, ``1h0m0s``, ``500ms``."""
    ns = ((span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds) * 1000
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns == 0:
        return "0s"
    if ns < 10**9:
        unit, size = ("ns", 1) if ns < 10**3 else ("µs", 10**3) if ns < 10**6 else ("ms", 10**6)
        return f"{sign}{_fraction(ns, size)}{unit}"
    seconds, rest = divmod(ns, 10**9)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    text = f"{_fraction(second * 10**9 + rest, 10**9)}s"
    if minutes:
        text = f"{minute}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _fraction(ns: int, size: int) -> str:
    whole, part = divmod(ns, size)
    digits = str(part).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def parse_go_duration(text: str) -> dt.timedelta:
    """A Go duration string (``time.ParseDuration``) as a timedelta, to the microsecond.

    Raises:
        ValueError: for text Go would refuse.
    """
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    if body == "0":
        return dt.timedelta(0)
    if not body or _PART.sub("", body):
        raise ValueError(f"not a Go duration: {text!r}")
    ns = Decimal(0)
    for number, unit in _PART.findall(body):
        ns = _EXACT.add(ns, _EXACT.multiply(Decimal(number), _UNITS_NS[unit]))
    return sign * dt.timedelta(microseconds=int(_EXACT.divide(ns, 1000)))


def create_lock_table(
    client: DynamoDBClient, name: str, *, partition_key: str = DEFAULT_PARTITION_KEY
) -> None:
    """Create a lock table as dynamolock's ``CreateTable`` does: one string hash key, on demand."""
    with translated("CreateTable"):
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": partition_key, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
        )
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
