"""A lease lock on the table: conditional writes, a heartbeat and a fencing token.

No maintained Python library does this (the Go service used ``cirello.io/dynamolock``);
it is one item per key (``LOCK#<key>``) holding the owner, the expiry and a token that
every acquisition and heartbeat increments atomically. Expiry is judged by the injected
`Clock`, never by DynamoDB's TTL: a lock item is never deleted, so its token never
starts again at one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from loc_adapters.dynamodb._convert import Item, format_fixed_timestamp, parse_timestamp
from loc_adapters.dynamodb._keys import lock_key
from loc_adapters.dynamodb._table import ConditionFailed, DynamoTable, serialize
from loc_core.errors import InvariantViolation, LockNotAcquired
from loc_core.ports import Clock, Lease

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["DynamoLock", "lease_check"]

_OWNER = "loc_owner"
_EXPIRES = "loc_expires_at"
_FENCE = "loc_fencing_token"


class DynamoLock:
    """A `Lock` whose leases live in the table and expire by `clock`."""

    def __init__(self, table: DynamoTable, *, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    def acquire(self, key: str, *, owner: str, ttl: dt.timedelta) -> Lease:
        """Take the lease on `key`, or take over an expired one (or one `owner` holds).

        Raises:
            LockNotAcquired: when another owner holds an unexpired lease.
        """
        now = self._clock.now()
        expires_at = now + ttl
        try:
            stored = self._table.update(
                lock_key(key),
                update=f"SET #{_OWNER} = :owner, #{_EXPIRES} = :expires, #loc_key = :key "
                f"ADD #{_FENCE} :one",
                condition=f"attribute_not_exists(#{_OWNER}) OR #{_EXPIRES} <= :now "
                f"OR #{_OWNER} = :owner",
                values={
                    ":owner": owner,
                    ":expires": format_fixed_timestamp(expires_at),
                    ":key": key,
                    ":one": 1,
                    ":now": format_fixed_timestamp(now),
                },
            )
        except ConditionFailed as exc:
            holder, until = _holder(exc.item)
            raise LockNotAcquired(
                f"{key} is held by {holder} until {until}", entity="lease", key=key
            ) from exc
        return Lease(key=key, owner=owner, fencing_token=_token(stored), expires_at=expires_at)

    def heartbeat(self, lease: Lease, *, ttl: dt.timedelta) -> Lease:
        """Extend a lease that is still the current one and unexpired; the token grows.

        Raises:
            LockNotAcquired: when the lease expired, was taken over or was released.
        """
        now = self._clock.now()
        expires_at = now + ttl
        try:
            stored = self._table.update(
                lock_key(lease.key),
                update=f"SET #{_EXPIRES} = :expires ADD #{_FENCE} :one",
                condition=f"#{_OWNER} = :owner AND #{_FENCE} = :token AND #{_EXPIRES} > :now",
                values={
                    ":owner": lease.owner,
                    ":token": lease.fencing_token,
                    ":expires": format_fixed_timestamp(expires_at),
                    ":one": 1,
                    ":now": format_fixed_timestamp(now),
                },
            )
        except ConditionFailed as exc:
            raise LockNotAcquired(_lost(lease, exc.item), entity="lease", key=lease.key) from exc
        return Lease(
            key=lease.key, owner=lease.owner, fencing_token=_token(stored), expires_at=expires_at
        )

    def release(self, lease: Lease) -> bool:
        """Give the lease up if it is still this one; False when it was already lost.

        The item stays, with its token, so the next lease's token is higher.
        """
        try:
            self._table.update(
                lock_key(lease.key),
                update=f"REMOVE #{_OWNER}, #{_EXPIRES}",
                condition=f"#{_OWNER} = :owner AND #{_FENCE} = :token",
                values={":owner": lease.owner, ":token": lease.fencing_token},
            )
        except ConditionFailed:
            return False
        return True


def lease_check(table: str, lease: Lease) -> TransactWriteItemTypeDef:
    """A transaction's `ConditionCheck` that `lease` is still current: its owner and token.

    A heartbeat or a takeover changes the token and a release removes the owner, so
    either fails the check (and the whole transaction with it).
    """
    pk, sk = lock_key(lease.key)
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": serialize({"PK": pk, "SK": sk}),
            "ConditionExpression": "#owner = :owner AND #token = :token",
            "ExpressionAttributeNames": {"#owner": _OWNER, "#token": _FENCE},
            "ExpressionAttributeValues": serialize(
                {":owner": lease.owner, ":token": lease.fencing_token}
            ),
        }
    }


def _token(stored: Item) -> int:
    token = stored.get(_FENCE)
    if token is None:
        raise InvariantViolation(
            f"lock item {stored.get('PK')} has no fencing token",
            entity="lease",
            invariant="fencing_token_stored",
        )
    return int(token)


def _lost(lease: Lease, stored: Item | None) -> str:
    """Why a heartbeat failed: the lease was released, ran out, or another owner took it."""
    where = f"{lease.key}: the lease of {lease.owner} (token {lease.fencing_token})"
    if stored is None or _OWNER not in stored:
        return f"{where} was released"
    holder, until = _holder(stored)
    if holder == lease.owner and _token(stored) == lease.fencing_token:
        return f"{where} expired at {until}"
    return f"{where} was lost: {holder} holds the key until {until}"


def _holder(stored: Item | None) -> tuple[str, str]:
    if stored is None or _OWNER not in stored:
        return ("nobody", "now")
    return (str(stored[_OWNER]), str(parse_timestamp(stored[_EXPIRES])))
