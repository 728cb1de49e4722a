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
none. A loan approval whose ``loan_amount`` is below ``requested_amount`` is a counteroffer
and must carry ``adverse_actions`` (why the amount requested was not granted: its notice
states them), or the service refuses it (`ExternalServiceError`, nothing filed); with an
approval of the whole amount they are ignored. Either answer may carry
``consumer_report`` (absent or null: none was used), which underwriting must send
whenever a rejection or a counteroffer used a consumer report in whole or in part
(the adverse action notice then carries FCRA 615(a)'s part): ``{"agency_name",
"agency_address", "agency_phone", "score"}``, the agency's texts (its phone the
toll-free number) and ``score`` null (the report was used, no score) or ``{"value",
"low", "high", "created_on", "source", "key_factors"}``: integers for the score and
its range, ``created_on`` a ``YYYY-MM-DD`` date, ``source`` who created the score, and
``key_factors`` a list of at most four texts (five when the number of inquiries is one).
A 404 is an unknown user; 5xx, a timeout or a dropped connection is the service failing;
any other status is a refusal. Errors may carry ``{"code", "message"}``.

Answers are read strictly: ``approved`` and ``active`` are JSON booleans, amounts and
counts JSON integers, rates decimal strings (or integers), ids and texts strings. An
answer outside the contract (``"approved": "false"``, a missing field, a number as a
string) is `ExternalServiceError`: a loosely typed answer must never approve a loan.
``account_last_four`` is exactly four digits (or absent, null or empty): anything longer
may be a whole account number, which this library never holds, so it is refused, and
its error names the field but never repeats the value (docs/configuration.md, *Personal
data*).
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from decimal import Decimal
from typing import Any

from loc_core.applications import AdverseAction, ConsumerReport, CreditScore
from loc_core.errors import DomainError, ExternalServiceError
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


def _outside(service: str, what: str) -> ExternalServiceError:
    return ExternalServiceError(f"the {service} service answered outside its contract: {what}")


def _field(body: object, name: str, kind: type, *, service: str, optional: bool = False) -> Any:  # noqa: ANN401 - the JSON value, of `kind`
    """`body[name]`, exactly of the JSON type `kind` (a bool is no int); None if optional."""
    if not isinstance(body, dict):
        raise _outside(service, f"a JSON {type(body).__name__}, not an object")
    value = body.get(name)
    if value is None and optional:
        return None
    if type(value) is not kind:
        expected = {bool: "a boolean", int: "an integer", str: "a string", list: "a list"}[kind]
        raise _outside(service, f"{name} must be {expected}, got {value!r}")
    return value


def user(body: dict[str, Any]) -> User:
    """A `User` from the user service's answer.

    Raises:
        ExternalServiceError: the answer is outside the contract.
    """
    return User(
        _field(body, "user_id", str, service="user"),
        _field(body, "active", bool, service="user"),
        _last_four(body),
        name=_full_name(body),
    )


_LAST_FOUR = re.compile(r"[0-9]{4}")


def _last_four(body: dict[str, Any]) -> str:
    """``account_last_four``: four digits, or "" when absent; the value is never echoed."""
    value = body.get("account_last_four")
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _LAST_FOUR.fullmatch(value):
        shape = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
        raise _outside("user", f"account_last_four must be four digits, got {shape}")
    return value


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
    service = "underwriting"
    listed = _field(body, "adverse_actions", list, service=service, optional=True) or []
    return tuple(
        AdverseAction(
            _field(action, "code", str, service=service),
            _field(action, "text", str, service=service),
        )
        for action in listed
    )


def _action_bodies(actions: tuple[AdverseAction, ...]) -> list[dict[str, str]]:
    return [{"code": a.code, "text": a.text} for a in actions]


def _consumer_report(body: dict[str, Any]) -> ConsumerReport | None:
    """The optional ``consumer_report`` part, read strictly; None when absent or null."""
    service = "underwriting"
    part = body.get("consumer_report")
    if part is None:
        return None
    if not isinstance(part, dict):
        raise _outside(service, f"consumer_report must be an object, got {part!r}")
    score = part.get("score")
    try:
        return ConsumerReport(
            agency_name=_field(part, "agency_name", str, service=service),
            agency_address=_field(part, "agency_address", str, service=service),
            agency_phone=_field(part, "agency_phone", str, service=service),
            score=None if score is None else _score(score),
        )
    except DomainError as exc:
        raise _outside(service, f"consumer_report: {exc}") from exc


def _score(body: object) -> CreditScore:
    service = "underwriting"
    factors = _field(body, "key_factors", list, service=service)
    created = _field(body, "created_on", str, service=service)
    try:
        created_on = dt.date.fromisoformat(created)
    except ValueError as exc:
        raise _outside(service, f"score created_on must be YYYY-MM-DD, got {created!r}") from exc
    return CreditScore(
        value=_field(body, "value", int, service=service),
        low=_field(body, "low", int, service=service),
        high=_field(body, "high", int, service=service),
        created_on=created_on,
        source=_field(body, "source", str, service=service),
        key_factors=tuple(_text_item(factor, "key_factors") for factor in factors),
    )


def _text_item(value: object, name: str) -> str:
    if type(value) is not str:
        raise _outside("underwriting", f"each of {name} must be a string, got {value!r}")
    return value


def _report_body(report: ConsumerReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    score = report.score
    return {
        "agency_name": report.agency_name,
        "agency_address": report.agency_address,
        "agency_phone": report.agency_phone,
        "score": None
        if score is None
        else {
            "value": score.value,
            "low": score.low,
            "high": score.high,
            "created_on": score.created_on.isoformat(),
            "source": score.source,
            "key_factors": list(score.key_factors),
        },
    }


def _rate(value: object) -> Decimal | None:
    if value is None:
        return None
    if type(value) not in (str, int):
        raise _outside("underwriting", f"a rate must be a decimal string, got {value!r}")
    try:
        rate = Decimal(str(value))
    except ArithmeticError as exc:  # decimal.InvalidOperation
        raise _outside("underwriting", f"a rate must be a decimal string, got {value!r}") from exc
    if not rate.is_finite():
        raise _outside("underwriting", f"a rate must be finite, got {value!r}")
    return rate


def loan_decision(body: dict[str, Any]) -> LoanDecision:
    """A `LoanDecision` from underwriting's answer.

    Raises:
        ExternalServiceError: the answer is outside the contract.
    """
    service = "underwriting"
    approved = _field(body, "approved", bool, service=service)
    fee_body = body.get("fee")
    fee = None
    if fee_body is not None:
        kind = _field(fee_body, "type", str, service=service)
        try:
            fee = OriginationFee(
                FeeType(kind),
                fixed_cents=_field(fee_body, "fixed_cents", int, service=service, optional=True),
                percent=_rate(fee_body.get("percent")),
            )
        except ValueError as exc:  # an unknown type, or terms the fee itself refuses
            raise _outside(service, f"fee {fee_body!r}: {exc}") from exc
    return LoanDecision(
        approved=approved,
        loan_amount=_field(body, "loan_amount", int, service=service, optional=True) or 0,
        fee=fee,
        installment_count=_field(body, "installment_count", int, service=service, optional=True),
        adverse_actions=_actions(body),
        consumer_report=_consumer_report(body),
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
        "consumer_report": _report_body(decision.consumer_report),
    }


def line_decision(body: dict[str, Any]) -> LineDecision:
    """A `LineDecision` from underwriting's answer.

    Raises:
        ExternalServiceError: the answer is outside the contract.
    """
    service = "underwriting"
    return LineDecision(
        approved=_field(body, "approved", bool, service=service),
        credit_limit=_field(body, "credit_limit", int, service=service, optional=True) or 0,
        apr=_rate(body.get("apr")),
        minimum_payment_percent=_rate(body.get("minimum_payment_percent")),
        adverse_actions=_actions(body),
        consumer_report=_consumer_report(body),
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
        "consumer_report": _report_body(decision.consumer_report),
    }
