"""Idempotency keys over HTTP: a POST that creates or moves money runs once per key.

The first request under a key runs and its answer (status and body) is stored through
the deployment's `IdempotencyStore` (memory or DynamoDB) for `KEY_TTL`; a repeat with
the same body gets that answer again with ``Idempotent-Replayed: true``; a repeat with
another body answers 422 (`IdempotencyConflict`); a repeat while the first is still
running answers 409, until the claim is `CLAIM_STALE_AFTER` old: then the process that
made it died (the API's function times out long before), and the repeat takes the key
over and runs, its command's own idempotency key keeping money from moving twice. A
first request that fails releases the key, so a retry runs again. An answer the store
fails to record is still given; the key is released so that a repeat runs the command
again, which replays the first result. Keys are scoped to the caller and the route, so
two users' keys never meet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, TypeVar, cast

import attrs
from litestar import Response
from litestar.params import HeaderParameter
from litestar.serialization import encode_json

from loc_adapters.logs import get_logger
from loc_core.errors import ConcurrencyConflict, IdempotencyConflict
from loc_core.ports import Clock, IdempotencyStatus, IdempotencyStore
from loc_core.validation import MAX_KEY_LENGTH, SAFE_CHARACTERS, key_part

__all__ = [
    "CLAIM_STALE_AFTER",
    "KEY_TTL",
    "REPLAYED_HEADER",
    "IdempotencyKey",
    "Replays",
    "fingerprint",
    "scoped_key",
]

import datetime as dt
import re

_log = get_logger(__name__)

KEY_TTL = dt.timedelta(hours=24)
"""How long a key is remembered (the issue asks for at least 24 hours)."""
CLAIM_STALE_AFTER = dt.timedelta(minutes=2)
"""How old an unfinished claim is when a repeat takes it over: twice the API function's
60-second timeout (template.yaml), so the request that made it can no longer be running."""
REPLAYED_HEADER = "Idempotent-Replayed"
"""Set to ``true`` on an answer replayed from the store."""

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        description="Chosen by the client, unique per request: a repeat replays the answer.",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern="^[" + re.escape(SAFE_CHARACTERS) + "]+$",
    ),
]
"""The header every creating or money-moving POST requires."""

T = TypeVar("T")


def scoped_key(*, user_id: str, route: str, key: str) -> str:
    """The store's key of a client's key: scoped to the caller and the route.

    The user id and the key are escaped (`key_part`), as either may hold ``:``: no two
    callers' keys read alike.

    >>> scoped_key(user_id="us-east-1:4f9a", route="loans.apply", key="k:1")
    'http:us-east-1%3A4f9a:loans.apply:k%3A1'
    """
    return f"http:{key_part(user_id)}:{route}:{key_part(key)}"


def fingerprint(route: str, body: object) -> str:
    """A digest of the request, so a key reused with another body is caught."""
    return hashlib.sha256(encode_json({"route": route, "body": body})).hexdigest()


@attrs.frozen
class Replays:
    """Runs a POST once per idempotency key, replaying its first answer to repeats."""

    store: IdempotencyStore
    clock: Clock

    def run(
        self,
        *,
        user_id: str,
        route: str,
        key: str,
        body: object,
        status: int,
        answer: Callable[[], T],
    ) -> Response[T]:
        """The answer of `answer()` under `key`, computed at most once.

        Raises:
            IdempotencyConflict: the key was used with another body (422).
            ConcurrencyConflict: the key's first request is still running (409).
        """
        scoped = scoped_key(user_id=user_id, route=route, key=key)
        now = self.clock.now()
        try:
            known = self.store.begin(
                scoped,
                fingerprint=fingerprint(route, body),
                now=now,
                ttl=KEY_TTL,
                stale_after=CLAIM_STALE_AFTER,
            )
        except IdempotencyConflict:
            raise IdempotencyConflict(
                f"Idempotency-Key {key!r} was used for another request body",
                entity="idempotency",
                key="Idempotency-Key",
            ) from None
        if known is not None:
            if known.status is not IdempotencyStatus.COMPLETED:
                raise ConcurrencyConflict(
                    "a request with this Idempotency-Key is still in flight; retry later",
                    entity="idempotency",
                    key="Idempotency-Key",
                )
            stored = json.loads(known.response)
            replay: Response[bytes] = Response(
                content=stored["body"].encode(),
                status_code=int(stored["status"]),
                media_type="application/json",
                headers={REPLAYED_HEADER: "true"},
            )
            return cast("Response[T]", replay)  # the stored bytes are a T as first encoded
        try:
            value = answer()
        except Exception:
            self.store.abandon(scoped)
            raise
        encoded = encode_json(value).decode()
        try:
            self.store.complete(
                scoped,
                response=json.dumps({"status": status, "body": encoded}),
                now=self.clock.now(),
            )
        except Exception as error:  # noqa: BLE001 - the work is done: answer it whatever failed
            self._release(scoped, error)
        return Response(content=value, status_code=status)

    def _release(self, scoped: str, error: Exception) -> None:
        """The answer could not be recorded: free the key so a repeat runs (and replays)."""
        _log.warning(
            "http.idempotency_not_recorded",
            key=scoped,
            error=type(error).__name__,
            detail=str(error),
        )
        try:
            self.store.abandon(scoped)
        except Exception as again:  # noqa: BLE001 - the claim then goes stale (CLAIM_STALE_AFTER)
            _log.warning("http.idempotency_not_released", key=scoped, error=type(again).__name__)
