"""The PayEngine wire contract this library expects, in one place a deployment can adapt.

PayEngine's public merchant API has ACH but no RTP or pinless, so the library owns the
shape it speaks, modelled on the common rails APIs (``docs/payengine.md``): a transfer is
created by ``POST /transfers`` with an ``Idempotency-Key`` header (the library's transfer
key), read by ``GET /transfers/{key}``, and settles later through signed webhooks.
Nothing here does I/O: the client, the webhook verifier and the sandbox all read it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import urllib.parse
from typing import Any, Final

from loc_core.errors import ExternalServiceError
from loc_core.payments import Direction, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, TransferRequest, TransferResult
from loc_core.services.lines.drawing import parse_draw_transfer
from loc_core.services.loans.disbursement import parse_disbursement_key

__all__ = [
    "ACCEPTED",
    "DECLINED",
    "ERROR_IDEMPOTENCY_KEY_REUSED",
    "ERROR_INVALID_REQUEST",
    "ERROR_NOT_FOUND",
    "ERROR_RAIL_UNAVAILABLE",
    "ERROR_UNAUTHORIZED",
    "EVENT_TYPES",
    "HEADER_AUTHORIZATION",
    "HEADER_IDEMPOTENCY_KEY",
    "HEADER_RETRY_AFTER",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "NACHA_RETURN_CODES",
    "TRANSFERS_PATH",
    "DirectionMismatch",
    "direction_of_key",
    "error_body",
    "event_from",
    "event_type",
    "kind_of",
    "outcome_of",
    "result_from",
    "sign",
    "timestamp_text",
    "transfer_body",
    "transfer_path",
    "webhook_body",
]

TRANSFERS_PATH: Final = "/transfers"
"""``POST`` creates a transfer; ``GET {TRANSFERS_PATH}/{idempotency key}`` reads one."""

HEADER_AUTHORIZATION: Final = "Authorization"
"""``Bearer <API key>`` on every request to PayEngine."""
HEADER_IDEMPOTENCY_KEY: Final = "Idempotency-Key"
"""The library's transfer key: the same key is the same transfer, for ever."""
HEADER_RETRY_AFTER: Final = "Retry-After"
"""Seconds to wait before trying again (on 429 and 503)."""
HEADER_SIGNATURE: Final = "PayEngine-Signature"
"""``v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` on every webhook."""
HEADER_TIMESTAMP: Final = "PayEngine-Timestamp"
"""Unix seconds when the webhook was signed; checked against a tolerance window."""

ACCEPTED: Final = "accepted"
"""Transfer status: PayEngine took the transfer; settlement follows as webhooks."""
DECLINED: Final = "declined"
"""Transfer status: refused at submission (``decline_reason`` says why); nothing moved."""

ERROR_INVALID_REQUEST: Final = "invalid_request"
"""400/422: a field missing or out of bounds; a definite refusal."""
ERROR_UNAUTHORIZED: Final = "unauthorized"
"""401: a missing or wrong API key; a definite refusal."""
ERROR_NOT_FOUND: Final = "not_found"
"""404 on ``GET /transfers/{key}``: no transfer was ever received with that key."""
ERROR_IDEMPOTENCY_KEY_REUSED: Final = "idempotency_key_reused"
"""409: the key was already used with another body; the first transfer stands."""
ERROR_RAIL_UNAVAILABLE: Final = "rail_unavailable"
"""503: the rail is switched off at PayEngine and took nothing; another rail may be tried."""

EVENT_TYPES: Final[dict[tuple[Direction, SettlementOutcome], str]] = {
    (Direction.DEBIT, SettlementOutcome.COMPLETED): "LOAN_DEBIT_COMPLETED",
    (Direction.DEBIT, SettlementOutcome.RETURNED): "LOAN_DEBIT_RETURNED",
    (Direction.DEBIT, SettlementOutcome.CHARGED_BACK): "LOAN_DEBIT_CHARGED_BACK",
    (Direction.CREDIT, SettlementOutcome.COMPLETED): "LOAN_CREDIT_COMPLETED",
    (Direction.CREDIT, SettlementOutcome.RETURNED): "LOAN_CREDIT_RETURNED",
    (Direction.CREDIT, SettlementOutcome.CHARGED_BACK): "LOAN_CREDIT_CHARGED_BACK",
}
"""The webhook event type for each direction and settlement outcome (the seed's names)."""

NACHA_RETURN_CODES: Final[dict[str, str]] = {
    "R01": "insufficient funds",
    "R02": "account closed",
    "R03": "no account / unable to locate account",
    "R04": "invalid account number",
    "R05": "unauthorized debit to a consumer account",
    "R07": "authorization revoked by customer",
    "R09": "uncollected funds",
    "R10": "customer advises not authorized",
    "R11": "customer advises entry not in accordance with the authorization",
    "R16": "account frozen",
    "R20": "non-transaction account",
    "R29": "corporate customer advises not authorized",
    "R51": "item related to RCK entry is ineligible or RCK entry is improper",
}
"""Common NACHA return codes; webhooks pass any code through as `return_code` unchanged.

What each does to the borrower's autopay is the core's rule (`loc_core.returns`)."""


def transfer_path(idempotency_key: str) -> str:
    """The path that reads the transfer sent with `idempotency_key` (the key URL-quoted)."""
    return f"{TRANSFERS_PATH}/{urllib.parse.quote(idempotency_key, safe='')}"


def transfer_body(request: TransferRequest, *, account_token: str = "") -> dict[str, Any]:
    """The JSON body of ``POST /transfers`` for `request` (the key goes in the header).

    ``account_token`` is PayEngine's token for the borrower's bank account, which the user
    service holds; without one PayEngine uses the account on file for ``user_reference``.
    No account number ever travels through this library, and the token is in no log line.
    """
    body: dict[str, Any] = {
        "rail": request.rail.value,
        "direction": request.direction.value,
        "amount_cents": request.amount,
        "user_reference": request.user_id,
        "reference": request.reference,
    }
    if account_token:
        body["account_token"] = account_token
    return body


_DIRECTIONS: Final = frozenset(d.value for d in Direction)


def result_from(transfer: object, *, idempotency_key: str) -> TransferResult:
    """The port's answer from a transfer resource (``id``, ``status``, ``decline_reason``).

    Only a transfer about `idempotency_key` whose status is exactly ``accepted`` (with a
    non-empty string ``id``) or ``declined`` is an answer. PayEngine may have moved money
    before answering anything else, so anything else is an unknown outcome. An accepted
    transfer's ``amount_cents`` (a positive whole number) and ``direction`` are read when
    present: an operator's booking of a lost transfer is checked against them. So is its
    ``created_at`` (RFC 3339 with an offset, read as UTC): when PayEngine took it, the day
    such a booking counts from.

    Raises:
        ExternalServiceError: the resource is not of the contract's shape, is about
            another transfer, or has another status; the outcome is unknown.
    """

    def unknown(why: str) -> ExternalServiceError:
        return ExternalServiceError(
            f"PayEngine answered {why}: outcome unknown, retry with the same key",
            key=idempotency_key,
        )

    if not isinstance(transfer, dict):
        raise unknown("a transfer that is not a JSON object")
    if transfer.get("idempotency_key") != idempotency_key:
        raise unknown("a transfer without this idempotency key")
    status = transfer.get("status")
    if status == ACCEPTED:
        problem, accepted = _accepted(transfer)
        if accepted is None:
            raise unknown(problem)
        return accepted
    if status == DECLINED:
        reason = transfer.get("decline_reason") or ""
        if not isinstance(reason, str):
            raise unknown("a declined transfer whose reason is not text")
        return TransferResult(accepted=False, decline_reason=reason)
    raise unknown(f"a transfer of status {str(status)[:40]!r}")


def _accepted(transfer: dict[Any, Any]) -> tuple[str, TransferResult | None]:
    """An accepted transfer resource read (None, with the problem, when it is not one)."""
    confirmation = transfer.get("id")
    if not isinstance(confirmation, str) or not confirmation:
        return "an accepted transfer without an id", None
    amount = transfer.get("amount_cents")
    if amount is not None and (type(amount) is not int or amount <= 0):
        return "an accepted transfer whose amount_cents is not positive whole cents", None
    direction = transfer.get("direction")
    if direction is not None and direction not in _DIRECTIONS:
        return f"an accepted transfer of direction {str(direction)[:40]!r}", None
    created = transfer.get("created_at")
    accepted_at = None if created is None else _timestamp(created)
    if created is not None and accepted_at is None:
        return f"an accepted transfer created at {str(created)[:40]!r}", None
    return "", TransferResult(
        accepted=True,
        confirmation_id=confirmation,
        amount=amount,
        direction=None if direction is None else Direction(direction),
        accepted_at=accepted_at,
    )


def timestamp_text(moment: dt.datetime) -> str:
    """A timestamp as the contract writes it: RFC 3339 in UTC (``2026-01-19T10:00:00Z``)."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _timestamp(value: object) -> dt.datetime | None:
    """The UTC instant an RFC 3339 timestamp with an offset names; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if moment.utcoffset() is None else moment.astimezone(dt.UTC)


def error_body(code: str, message: str) -> dict[str, Any]:
    """The body of every 4xx and 5xx answer: ``{"error": {"code": ..., "message": ...}}``."""
    return {"error": {"code": code, "message": message}}


def event_type(direction: Direction, outcome: SettlementOutcome) -> str:
    """The webhook event type for a transfer's direction and settlement outcome."""
    return EVENT_TYPES[direction, outcome]


def outcome_of(event_type_name: str) -> SettlementOutcome | None:
    """The settlement outcome a webhook event type reports; None for a type not listed."""
    kind = kind_of(event_type_name)
    return None if kind is None else kind[1]


def kind_of(event_type_name: str) -> tuple[Direction, SettlementOutcome] | None:
    """The direction and outcome a webhook event type reports; None for a type not listed."""
    for kind, name in EVENT_TYPES.items():
        if name == event_type_name:
            return kind
    return None


def direction_of_key(idempotency_key: str) -> Direction:
    """Which way the transfer with this key moves money.

    Only disbursements and draws credit the borrower; every other transfer (a payment)
    debits.
    """
    if parse_disbursement_key(idempotency_key) or parse_draw_transfer(idempotency_key):
        return Direction.CREDIT
    return Direction.DEBIT


def sign(secret: bytes, timestamp: dt.datetime, body: bytes) -> tuple[str, str]:
    """The timestamp and signature headers' values for a webhook `body` sent at `timestamp`."""
    seconds = str(int(timestamp.timestamp()))
    digest = hmac.new(secret, seconds.encode() + b"." + body, hashlib.sha256).hexdigest()
    return seconds, f"v1={digest}"


def webhook_body(event: SettlementEvent, direction: Direction) -> dict[str, Any]:
    """The JSON body of the webhook that reports `event` about a transfer going `direction`."""
    return {
        "id": event.event_id,
        "type": event_type(direction, event.outcome),
        "occurred_at": event.occurred_at.isoformat(),
        "data": {
            "transfer_id": event.confirmation_id,
            "idempotency_key": event.idempotency_key,
            "rail": event.rail.value,
            "return_code": event.return_code,
        },
    }


def event_from(body: dict[str, Any]) -> SettlementEvent:
    """The settlement event a webhook body reports.

    ``occurred_at`` is RFC 3339 with any offset (read as UTC); a ``return_code`` of null
    is no code. The event type's direction must be the direction of the transfer its key
    names (a credit event about a payment is not that payment's settlement).

    Raises:
        DirectionMismatch: the type's direction is not the transfer's.
        KeyError, TypeError, ValueError: the body does not have the contract's shape.
        InvalidRequest: a field is out of the bounds `SettlementEvent` checks.
    """
    kind = kind_of(body["type"])
    if kind is None:
        raise ValueError("unknown webhook event type")
    direction, outcome = kind
    data = body["data"]
    key = data["idempotency_key"]
    if not isinstance(key, str):
        raise TypeError("idempotency_key is not text")
    if direction is not direction_of_key(key):
        raise DirectionMismatch(
            f"a {direction.value} event ({body['type']}) about the "
            f"{direction_of_key(key).value} transfer {key}"
        )
    occurred_at = dt.datetime.fromisoformat(body["occurred_at"])
    if occurred_at.utcoffset() is None:
        raise ValueError("occurred_at has no offset")
    return_code = data.get("return_code")
    return SettlementEvent(
        event_id=body["id"],
        idempotency_key=key,
        confirmation_id=data["transfer_id"],
        rail=Rail(data["rail"]),
        outcome=outcome,
        occurred_at=occurred_at.astimezone(dt.UTC),
        return_code="" if return_code is None else return_code,
    )


class DirectionMismatch(ValueError):
    """A webhook whose event type moves money the other way than the transfer its key names."""
