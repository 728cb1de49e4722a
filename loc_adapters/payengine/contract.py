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

from loc_core.payments import Direction, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent, TransferRequest, TransferResult

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
    "error_body",
    "event_from",
    "event_type",
    "outcome_of",
    "result_from",
    "sign",
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
    "R10": "customer advises not authorized",
    "R11": "customer advises entry not in accordance with the authorization",
    "R16": "account frozen",
    "R29": "corporate customer advises not authorized",
}
"""Common NACHA return codes; webhooks pass any code through as `return_code` unchanged."""


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


def result_from(transfer: dict[str, Any]) -> TransferResult:
    """The port's answer from a transfer resource (``id``, ``status``, ``decline_reason``)."""
    if transfer["status"] == ACCEPTED:
        return TransferResult(accepted=True, confirmation_id=str(transfer["id"]))
    return TransferResult(accepted=False, decline_reason=str(transfer.get("decline_reason", "")))


def error_body(code: str, message: str) -> dict[str, Any]:
    """The body of every 4xx and 5xx answer: ``{"error": {"code": ..., "message": ...}}``."""
    return {"error": {"code": code, "message": message}}


def event_type(direction: Direction, outcome: SettlementOutcome) -> str:
    """The webhook event type for a transfer's direction and settlement outcome."""
    return EVENT_TYPES[direction, outcome]


def outcome_of(event_type_name: str) -> SettlementOutcome | None:
    """The settlement outcome a webhook event type reports; None for a type not listed."""
    for (_, outcome), name in EVENT_TYPES.items():
        if name == event_type_name:
            return outcome
    return None


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

    Raises:
        KeyError, TypeError, ValueError: the body does not have the contract's shape.
        InvalidRequest: a field is out of the bounds `SettlementEvent` checks.
    """
    outcome = outcome_of(body["type"])
    if outcome is None:
        raise ValueError("unknown webhook event type")
    data = body["data"]
    return SettlementEvent(
        event_id=body["id"],
        idempotency_key=data["idempotency_key"],
        confirmation_id=data["transfer_id"],
        rail=Rail(data["rail"]),
        outcome=outcome,
        occurred_at=dt.datetime.fromisoformat(body["occurred_at"]),
        return_code=data.get("return_code", ""),
    )
