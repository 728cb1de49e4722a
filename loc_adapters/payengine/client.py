"""`PayEngineRails`: the `PaymentRails` port over PayEngine's HTTP API (httpx + stamina).

Outcome mapping, the money rule of the port:

- an accepted or declined transfer (201/200), or any other definite 4xx refusal, is the
  answer (a 4xx is a decline carrying the error code);
- a connection that was never made (refused, DNS, connect or pool timeout) on every
  attempt, a 429 that outlasts the budget, or PayEngine's ``rail_unavailable`` is
  `RailUnavailable`: nothing left, another rail may be tried;
- a read timeout, a 5xx or a dropped connection after sending leaves the outcome unknown:
  retried with the same key while the budget lasts, then `ExternalServiceError`;
- a key reused with another body (409) is an `ExternalServiceError`: the first transfer
  stands and the caller must not move the money elsewhere.

Retries wait with exponential backoff and jitter (stamina), or as long as
``Retry-After`` says, and never let one `submit` outlast `timeout`.

The borrower's account: when the rails have `accounts` (the user service), each `submit`
asks it for the borrower's PayEngine account token and sends it in the body; a lookup
that fails has sent nothing (`RailUnavailable`), and a borrower with no payment account
is a decline. Every call logs one line (``payengine transfer``) with the transfer key,
rail, direction, amount and outcome; never the token, the API key or the account.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import attrs
import httpx

from loc_adapters._http import retry_after as _retry_after
from loc_adapters._retrying import RetryLater, budgeted_retries
from loc_adapters.logs import get_logger
from loc_adapters.payengine import contract
from loc_core.errors import ExternalServiceError, LocError, NotFound, RailUnavailable
from loc_core.ports import TransferRequest, TransferResult

__all__ = ["DEFAULT_TIMEOUT", "AccountTokens", "PayEngineRails"]

_log = get_logger(__name__)

DEFAULT_TIMEOUT = dt.timedelta(seconds=10)
"""The longest one `submit` or `find` may take, retries included."""


T = TypeVar("T")

_SMALLEST_ATTEMPT = 0.05
"""Seconds: an attempt with less time left than this is not started."""


class _BudgetSpent(Exception):
    """The call's `timeout` has no time left for another attempt."""


class _Retry(RetryLater):
    """One attempt failed in a way another attempt with the same key may fix."""

    def __init__(self, reason: str, *, sent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason, retry_after=retry_after)
        self.sent = sent
        """Whether the request may have reached PayEngine (the outcome is then unknown)."""


class AccountTokens(Protocol):
    """Where the borrower's PayEngine account token comes from (the user service)."""

    def account_token(self, user_id: str) -> str:
        """The token of the account money moves to and from; `NotFound` when none."""
        ...


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}"


@attrs.define
class PayEngineRails:
    """`PaymentRails` on PayEngine: create and read transfers by idempotency key."""

    client: httpx.Client = attrs.field(repr=False)
    """Carries the base URL and the API key header (see `connect`); tests inject a mock."""
    timeout: dt.timedelta = attrs.field(default=DEFAULT_TIMEOUT, kw_only=True)
    """The longest one call may take, all attempts and waits included."""
    attempt_timeout: dt.timedelta = attrs.field(default=dt.timedelta(seconds=3), kw_only=True)
    """The longest one HTTP attempt may take (less if the budget has less left)."""
    attempts: int = attrs.field(default=4, kw_only=True)
    wait_initial: dt.timedelta = attrs.field(default=dt.timedelta(milliseconds=100), kw_only=True)
    wait_max: dt.timedelta = attrs.field(default=dt.timedelta(seconds=2), kw_only=True)
    accounts: AccountTokens | None = attrs.field(default=None, kw_only=True, repr=False)
    """Looks up each borrower's account token; None: PayEngine uses the account on file."""

    @classmethod
    def connect(
        cls,
        base_url: str,
        api_key: str,
        *,
        timeout: dt.timedelta = DEFAULT_TIMEOUT,
        accounts: AccountTokens | None = None,
    ) -> PayEngineRails:
        """Rails over a new client for `base_url`, authenticated with `api_key`."""
        client = httpx.Client(
            base_url=base_url,
            headers={contract.HEADER_AUTHORIZATION: f"Bearer {api_key}"},
            timeout=timeout.total_seconds(),
        )
        return cls(client, timeout=timeout, accounts=accounts)

    def submit(self, request: TransferRequest) -> TransferResult:
        """Create the transfer (a repeated key answers the first transfer); see the module."""
        log = _log.bind(
            transfer_key=request.idempotency_key,
            rail=request.rail.value,
            direction=request.direction.value,
            amount_cents=request.amount,
        )
        try:
            result = self._submit(request)
        except RailUnavailable as exc:
            log.warning("payengine transfer", outcome="unavailable", reason=str(exc))
            raise
        except LocError as exc:
            log.error("payengine transfer", outcome="unknown", reason=str(exc))  # noqa: TRY400 - the reason suffices; the caller has the traceback
            raise
        if result.accepted:
            log.info("payengine transfer", outcome="accepted", confirmation=result.confirmation_id)
        else:
            log.info("payengine transfer", outcome="declined", reason=result.decline_reason)
        return result

    def _account_token(self, user_id: str) -> str | TransferResult:
        """The borrower's token, or the decline of a borrower with no payment account."""
        if self.accounts is None:
            return ""
        try:
            return self.accounts.account_token(user_id)
        except NotFound:
            return TransferResult(accepted=False, decline_reason="PayEngine: no payment account")
        except LocError as exc:  # nothing was sent: another rail, or a retry, may do
            raise RailUnavailable(
                f"the borrower's payment account could not be read ({type(exc).__name__})",
                user_id=user_id,
            ) from exc

    def _submit(self, request: TransferRequest) -> TransferResult:
        token = self._account_token(request.user_id)
        if isinstance(token, TransferResult):
            return token
        body = contract.transfer_body(request, account_token=token)
        headers = {contract.HEADER_IDEMPOTENCY_KEY: request.idempotency_key}

        def attempt(budget: float) -> TransferResult:
            response = self._send(
                "POST", contract.TRANSFERS_PATH, budget, json=body, headers=headers
            )
            if response.status_code in {200, 201}:
                return contract.result_from(response.json())
            code = _error_code(response)
            if response.status_code == 409:  # noqa: PLR2004 - the contract's status for a reused key
                raise ExternalServiceError(
                    f"PayEngine refused key reuse ({code})", key=request.idempotency_key
                )
            if code == contract.ERROR_RAIL_UNAVAILABLE:
                raise RailUnavailable(f"{request.rail.value} rail unavailable at PayEngine")
            self._raise_if_retryable(response, code)
            return TransferResult(accepted=False, decline_reason=f"PayEngine: {code}")

        return self._with_retries(attempt, request.idempotency_key, what="submit")

    def find(self, idempotency_key: str) -> TransferResult | None:
        """Read the transfer sent with this key; None when PayEngine never received one."""

        def attempt(budget: float) -> TransferResult | None:
            response = self._send("GET", contract.transfer_path(idempotency_key), budget)
            if response.status_code == 200:  # noqa: PLR2004 - the contract's status for found
                return contract.result_from(response.json())
            code = _error_code(response)
            if response.status_code == 404 and code == contract.ERROR_NOT_FOUND:  # noqa: PLR2004 - not found
                return None
            self._raise_if_retryable(response, code)
            raise ExternalServiceError(
                f"PayEngine could not read the transfer ({code})", key=idempotency_key
            )

        try:
            return self._with_retries(attempt, idempotency_key, what="find")
        except RailUnavailable as exc:  # unreachable: it cannot tell, which is not "never"
            raise ExternalServiceError(str(exc), key=idempotency_key) from exc

    def _send(
        self,
        method: str,
        path: str,
        budget: float,
        *,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One HTTP attempt, its transport failures sorted into sent or never sent."""
        try:
            return self.client.request(method, path, timeout=budget, json=json, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Retry(f"connection failed: {type(exc).__name__}", sent=False) from exc
        except httpx.TransportError as exc:  # read/write timeouts, dropped connections
            raise _Retry(f"no answer: {type(exc).__name__}", sent=True) from exc

    @staticmethod
    def _raise_if_retryable(response: httpx.Response, code: str) -> None:
        status = response.status_code
        if status == 429:  # noqa: PLR2004 - too many requests: PayEngine processed nothing
            raise _Retry(f"throttled ({code})", sent=False, retry_after=_retry_after(response))
        if status >= 500:  # noqa: PLR2004 - server errors: the outcome is unknown
            raise _Retry(
                f"server error {status} ({code})", sent=True, retry_after=_retry_after(response)
            )

    def _budget_left(self, deadline: float) -> float:
        """Seconds the next attempt may take; `_BudgetSpent` when too few are left."""
        budget = min(self.attempt_timeout.total_seconds(), deadline - time.monotonic())
        if budget < _SMALLEST_ATTEMPT:
            raise _BudgetSpent
        return budget

    def _with_retries(self, attempt: Callable[[float], T], key: str, *, what: str) -> T:
        """Run `attempt` with the seconds it may take, retrying while the budget lasts.

        Raises:
            RailUnavailable: no attempt can have reached PayEngine.
            ExternalServiceError: one may have: the outcome is unknown.
        """
        deadline = time.monotonic() + self.timeout.total_seconds()
        reached = False
        try:
            for retrying in budgeted_retries(
                deadline,
                attempts=self.attempts,
                timeout=self.timeout,
                wait_initial=self.wait_initial,
                wait_max=self.wait_max,
            ):
                with retrying:
                    budget = self._budget_left(deadline)
                    try:
                        return attempt(budget)
                    except _Retry as exc:
                        reached = reached or exc.sent
                        _log.warning(
                            "payengine attempt failed", call=what, key=key, reason=str(exc)
                        )
                        raise
        except (_Retry, _BudgetSpent) as exc:
            reason = str(exc) or "time budget spent"
            if reached:
                raise ExternalServiceError(
                    f"PayEngine {what}: outcome unknown, retry with the same key ({reason})",
                    key=key,
                ) from exc
            raise RailUnavailable(f"PayEngine {what}: not reached ({reason})", key=key) from exc
        raise AssertionError("stamina ended without an answer or an error")  # pragma: no cover
