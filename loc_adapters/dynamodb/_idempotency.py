"""Idempotency records on the table, expiring by the caller's clock and by TTL.

One item per key (``IDEMPOTENCY#<key>``). Whether a record is live is decided by its
``loc_expires_at`` against the `now` the caller passes, in the write's condition, so a
record past its time counts as absent at once; DynamoDB's TTL (``ttl``) only sweeps such
records away later (it can lag by days). A transaction's `ClientRequestToken` lasts ten
minutes, which is why commands need records of their own.
"""

from __future__ import annotations

import datetime as dt
import threading

from loc_adapters.dynamodb._codecs import EXPIRES_AT, ttl_seconds
from loc_adapters.dynamodb._convert import Item, format_fixed_timestamp, parse_timestamp
from loc_adapters.dynamodb._keys import idempotency_key
from loc_adapters.dynamodb._table import ConditionFailed, DynamoTable
from loc_core.errors import IdempotencyConflict, InvariantViolation, NotFound
from loc_core.ports import IdempotencyRecord, IdempotencyStatus

__all__ = ["DynamoIdempotencyStore"]


class DynamoIdempotencyStore:
    """An `IdempotencyStore` whose records live in the table.

    A claim is known by its ``loc_expires_at`` (each claim, a take-over too, writes its
    own); the store remembers, per thread, the claims it made, so that `abandon` drops
    only its own claim, never one another process took over once this one went stale.
    """

    def __init__(self, table: DynamoTable) -> None:
        self._table = table
        self._local = threading.local()

    def _claims(self) -> dict[str, str]:
        """This thread's claims: key to the ``loc_expires_at`` its claim wrote."""
        claims: dict[str, str] | None = getattr(self._local, "claims", None)
        if claims is None:
            claims = self._local.claims = {}
        return claims

    def begin(
        self,
        key: str,
        *,
        fingerprint: str,
        now: dt.datetime,
        ttl: dt.timedelta,
        stale_after: dt.timedelta | None = None,
    ) -> IdempotencyRecord | None:
        """Claim `key` (or a stale claim of the same request: None), or return its record.

        Raises:
            IdempotencyConflict: when the live record has another fingerprint.
        """
        pk, sk = idempotency_key(key)
        expires_at = now + ttl
        claim = format_fixed_timestamp(expires_at)
        values = {":now": format_fixed_timestamp(now)}
        take_over = ""
        if stale_after is not None:  # claimed (expires_at - ttl) at least stale_after ago
            take_over = (
                f" OR (#loc_status = :in_progress AND #loc_fingerprint = :fingerprint"
                f" AND #{EXPIRES_AT} <= :stale)"
            )
            values |= {
                ":in_progress": IdempotencyStatus.IN_PROGRESS.value,
                ":fingerprint": fingerprint,
                ":stale": format_fixed_timestamp(now - stale_after + ttl),
            }
        try:
            self._table.put(
                {
                    "PK": pk,
                    "SK": sk,
                    "loc_key": key,
                    "loc_fingerprint": fingerprint,
                    "loc_status": IdempotencyStatus.IN_PROGRESS.value,
                    "loc_response": "",
                    EXPIRES_AT: claim,
                    "ttl": ttl_seconds(expires_at),
                },
                condition=f"attribute_not_exists(#PK) OR #{EXPIRES_AT} <= :now" + take_over,
                values=values,
            )
        except ConditionFailed as exc:
            record = _record(exc.item, key)
            if record.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    f"idempotency key {key!r} was used for another request",
                    entity="idempotency",
                    key=key,
                ) from exc
            return record
        self._claims()[key] = claim
        return None

    def complete(self, key: str, *, response: str, now: dt.datetime) -> None:
        """Record the command's result on its live record.

        Raises:
            NotFound: when `key` was never begun or its record expired.
        """
        self._claims().pop(key, None)
        try:
            self._table.update(
                idempotency_key(key),
                update="SET #loc_status = :completed, #loc_response = :response",
                condition=f"attribute_exists(#PK) AND #{EXPIRES_AT} > :now",
                values={
                    ":completed": IdempotencyStatus.COMPLETED.value,
                    ":response": response,
                    ":now": format_fixed_timestamp(now),
                },
            )
        except ConditionFailed as exc:
            raise NotFound(
                f"idempotency key {key!r} was never begun or has expired",
                entity="idempotency",
                key=key,
            ) from exc

    def abandon(self, key: str) -> None:
        """Forget an IN_PROGRESS claim; a completed record, or none, stays as it is.

        A claim this store made is dropped only while it is still that claim: once it
        went stale and another process took the key over, the new claim stays.
        """
        condition = "#loc_status = :in_progress"
        values = {":in_progress": IdempotencyStatus.IN_PROGRESS.value}
        mine = self._claims().pop(key, None)
        if mine is not None:
            condition += f" AND #{EXPIRES_AT} = :mine"
            values[":mine"] = mine
        try:
            self._table.delete(idempotency_key(key), condition=condition, values=values)
        except ConditionFailed:
            return


def _record(item: Item | None, key: str) -> IdempotencyRecord:
    if item is None:
        raise InvariantViolation(
            f"idempotency key {key!r}: a failed claim returned no record",
            entity="idempotency",
            key=key,
            invariant="claim_returns_record",
        )
    try:
        return IdempotencyRecord(
            key=key,
            fingerprint=str(item["loc_fingerprint"]),
            status=IdempotencyStatus(item["loc_status"]),
            expires_at=parse_timestamp(item[EXPIRES_AT]),
            response=str(item.get("loc_response", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvariantViolation(
            f"idempotency record {key!r} is malformed: {exc}",
            entity="idempotency",
            key=key,
            invariant="record_readable",
        ) from exc
