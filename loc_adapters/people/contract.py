"""The user and underwriting services' HTTP APIs as this library speaks them: the whole contract.

Users: ``GET /users/{user_id}`` (the id URL-quoted) answers 200 with ``{"user_id", "active",
"account_last_four", "payment_account_token", "first_name", "last_name"}`` (the last four
digits only, never a full account number; the token is PayEngine's for the borrower's bank
account, absent or empty when the borrower has none; the names, absent or empty when
unknown, are joined with a space into `User.name`), or 404 when there is no such user.
Every request carries ``Authorization: Bearer <key>`` when a key is configured.

Underwriting: ``POST /underwriting/loans`` with ``{"user_id", "requested_amount"}`` (cents)
answers 200 with ``{"approved", "loan_amount", "fee", "installment_count",
"adverse_actions"}``; ``fee`` is ``{"type": "percentage", "percent": "5"}`` or
``{"type": "fixed", "fixed_cents": 500}`` or null. ``POST /underwriting/lines`` with
``{"user_id"}`` answers 200 with ``{"approved", "credit_limit", "apr",
"minimum_payment_percent", "adverse_actions"}``. Rates are decimal strings, amounts integer
cents; ``adverse_actions`` is a list of ``{"code", "text"}``; absent optional fields read as
none. A 404 is an unknown user; 5xx, a timeout or a dropped connection is the service
failing; any other status is a refusal. Errors may carry ``{"code", "message"}``.
"""

from __future__ import annotations

import urllib.parse
from decimal import Decimal
from typing import Any

from loc_core.applications import AdverseAction
from loc_core.installment import FeeType, OriginationFee
from loc_core.ports import LineDecision, LoanDecision, User

__all__ = [
    "LINE_DECISIONS_PATH",
    "LOAN_DECISIONS_PATH",
    "account_token",
    "line_decision",
    "line_decision_body",
    "loan_decision",
    "loan_decision_body",
    "user",
    "user_body",
    "user_path",
]

LOAN_DECISIONS_PATH = "/underwriting/loans"
LINE_DECISIONS_PATH = "/underwriting/lines"


def user_path(user_id: str) -> str:
    """Where the user service answers for one user."""
    return f"/users/{urllib.parse.quote(user_id, safe='')}"


def account_token(body: dict[str, Any]) -> str:
    """The borrower's PayEngine account token from the user service's answer ("" if none)."""
    token = body.get("payment_account_token") or ""
    return token if isinstance(token, str) else ""


def user(body: dict[str, Any]) -> User:
    """A `User` from the user service's answer."""
    return User(
        body["user_id"],
        bool(body["active"]),
        body.get("account_last_four") or "",
        name=_full_name(body),
    )


def _full_name(body: dict[str, Any]) -> str:
    """``first_name last_name``, either part absent or empty when unknown."""
    parts = (body.get("first_name"), body.get("last_name"))
    return " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())


def user_body(found: User) -> dict[str, Any]:
    """The user service's answer for `found` (the fakes and the docs use it)."""
    return {
        "user_id": found.user_id,
        "active": found.active,
        "account_last_four": found.account_last_four,
        "first_name": found.name.partition(" ")[0],
        "last_name": found.name.partition(" ")[2],
    }


def _actions(body: dict[str, Any]) -> tuple[AdverseAction, ...]:
    return tuple(AdverseAction(a["code"], a["text"]) for a in body.get("adverse_actions") or ())


def _action_bodies(actions: tuple[AdverseAction, ...]) -> list[dict[str, str]]:
    return [{"code": a.code, "text": a.text} for a in actions]


def _rate(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def loan_decision(body: dict[str, Any]) -> LoanDecision:
    """A `LoanDecision` from underwriting's answer."""
    fee_body = body.get("fee")
    fee = None
    if fee_body is not None:
        fee = OriginationFee(
            FeeType(fee_body["type"]),
            fixed_cents=fee_body.get("fixed_cents"),
            percent=_rate(fee_body.get("percent")),
        )
    return LoanDecision(
        approved=bool(body["approved"]),
        loan_amount=body.get("loan_amount") or 0,
        fee=fee,
        installment_count=body.get("installment_count"),
        adverse_actions=_actions(body),
    )


def loan_decision_body(decision: LoanDecision) -> dict[str, Any]:
    """Underwriting's answer for `decision`."""
    fee = decision.fee
    return {
        "approved": decision.approved,
        "loan_amount": decision.loan_amount,
        "fee": None
        if fee is None
        else {
            "type": fee.fee_type.value,
            "fixed_cents": fee.fixed_cents,
            "percent": None if fee.percent is None else str(fee.percent),
        },
        "installment_count": decision.installment_count,
        "adverse_actions": _action_bodies(decision.adverse_actions),
    }


def line_decision(body: dict[str, Any]) -> LineDecision:
    """A `LineDecision` from underwriting's answer."""
    return LineDecision(
        approved=bool(body["approved"]),
        credit_limit=body.get("credit_limit") or 0,
        apr=_rate(body.get("apr")),
        minimum_payment_percent=_rate(body.get("minimum_payment_percent")),
        adverse_actions=_actions(body),
    )


def line_decision_body(decision: LineDecision) -> dict[str, Any]:
    """Underwriting's answer for `decision`."""
    return {
        "approved": decision.approved,
        "credit_limit": decision.credit_limit,
        "apr": None if decision.apr is None else str(decision.apr),
        "minimum_payment_percent": None
        if decision.minimum_payment_percent is None
        else str(decision.minimum_payment_percent),
        "adverse_actions": _action_bodies(decision.adverse_actions),
    }
