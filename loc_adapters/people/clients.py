"""`HttpUsers` and `HttpUnderwriting`: the people ports over httpx.

A 404 is `NotFound`; a 5xx, a timeout or a dropped connection is `ExternalServiceError`;
any other non-2xx answer is `ExternalServiceError` at once. Each failure is logged (the
service, the path's kind and the status; never a token or key). Only the read (``GET`` a user)
is retried, with backoff and jitter through stamina, a bounded number of times: a decision
may pull a credit report, so it is asked once and a failure goes back to the caller.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import httpx
import stamina

from loc_adapters.logs import get_logger
from loc_adapters.people import contract
from loc_core.errors import ExternalServiceError, NotFound
from loc_core.ports import LineDecision, LoanDecision, User

__all__ = ["HttpUnderwriting", "HttpUsers"]


_log = get_logger(__name__)


class _Unavailable(ExternalServiceError):
    """The service failed or did not answer: a later read may succeed."""


def _call(
    client: httpx.Client, method: str, path: str, *, user_id: str, body: object = None
) -> dict[str, Any]:
    """One request; the answer's JSON, or the library's error for the outcome."""
    service = path.strip("/").split("/", 1)[0]
    try:
        response = client.request(method, path, json=body)
    except httpx.TransportError as exc:
        _log.warning(f"{service} service unreachable", reason=type(exc).__name__)
        raise _Unavailable(
            f"{service} service unreachable: {type(exc).__name__}", entity="user", user_id=user_id
        ) from exc
    if response.is_success:
        try:
            answer = response.json()
        except ValueError as exc:  # not JSON, or not UTF-8
            _log.warning(
                f"{service} service answered outside its contract", status=response.status_code
            )
            raise ExternalServiceError(
                f"the {service} service answered {response.status_code} without JSON",
                entity="user",
                user_id=user_id,
            ) from exc
        if not isinstance(answer, dict):
            raise ExternalServiceError(
                f"the {service} service answered a JSON {type(answer).__name__}, not an object",
                entity="user",
                user_id=user_id,
            )
        return answer
    status = response.status_code
    if status != httpx.codes.NOT_FOUND:
        _log.warning(f"{service} service refused", status=status, method=method)
    if status == httpx.codes.NOT_FOUND:
        raise NotFound(f"no user {user_id}", entity="user", entity_id=user_id, user_id=user_id)
    error = _Unavailable if response.is_server_error else ExternalServiceError
    raise error(f"{service} service answered {status}", entity="user", user_id=user_id)


@attrs.define
class HttpUsers:
    """`Users` on the user service; reads are retried a bounded number of times."""

    client: httpx.Client = attrs.field(repr=False)
    """Carries the base URL, credentials and timeouts; tests inject a mock transport."""
    attempts: int = attrs.field(default=3, kw_only=True)
    wait_initial: dt.timedelta = attrs.field(default=dt.timedelta(milliseconds=100), kw_only=True)
    wait_max: dt.timedelta = attrs.field(default=dt.timedelta(seconds=1), kw_only=True)

    def get(self, user_id: str) -> User:
        """The user; `NotFound` on a 404, `ExternalServiceError` when the service stays down."""
        return contract.user(self._read(user_id))

    def account_token(self, user_id: str) -> str:
        """The borrower's PayEngine account token (the PayEngine rails' `AccountTokens`).

        Raises `NotFound` for an unknown user or one with no payment account.
        """
        token = contract.account_token(self._read(user_id))
        if not token:
            raise NotFound(f"user {user_id} has no payment account", entity="user", user_id=user_id)
        return token

    def _read(self, user_id: str) -> dict[str, Any]:
        path = contract.user_path(user_id)
        for attempt in stamina.retry_context(
            on=_Unavailable,
            attempts=self.attempts,
            timeout=None,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
        ):
            with attempt:
                return _call(self.client, "GET", path, user_id=user_id)
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover


@attrs.define
class HttpUnderwriting:
    """`Underwriting` on the underwriting service; each decision is asked once."""

    client: httpx.Client = attrs.field(repr=False)
    """Carries the base URL, credentials and timeouts; tests inject a mock transport."""

    def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
        """Underwriting's answer to a loan request."""
        body = {"user_id": user_id, "requested_amount": requested_amount}
        answer = _call(
            self.client, "POST", contract.LOAN_DECISIONS_PATH, user_id=user_id, body=body
        )
        return contract.loan_decision(answer)

    def decide_line(self, user_id: str) -> LineDecision:
        """Underwriting's answer to a request for a line of credit."""
        body = {"user_id": user_id}
        answer = _call(
            self.client, "POST", contract.LINE_DECISIONS_PATH, user_id=user_id, body=body
        )
        return contract.line_decision(answer)
