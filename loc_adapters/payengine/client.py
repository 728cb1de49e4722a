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

import contextvars
import datetime as dt
import json
import threading
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


class _Refused(Exception):
    """An error answer that names no transfer (a 4xx, ``rail_unavailable``).

    It settles the call only when no earlier attempt may have reached PayEngine.
    """

    def __init__(self, reason: str, *, taken: bool) -> None:
        super().__init__(reason)
        self.taken = taken
        """True: a definite refusal (a decline); False: the rail took nothing."""


class _Late(Exception):
    """The work was not done within its seconds; its thread goes on, abandoned."""


_HTTPX_SHARE = 0.9
"""The part of an attempt's budget given to httpx's own (per-operation) timeouts."""


def _within(seconds: float, work: Callable[[threading.Event], T]) -> T:
    """What `work` returns, if it returns within `seconds` (else `_Late`).

    `work` runs in a daemon thread, in a copy of the caller's context (logs keep their
    correlation id), and gets an event set once the caller stops waiting.
    """
    done = threading.Event()
    abandoned = threading.Event()
    returned: list[T] = []
    failed: list[BaseException] = []
    context = contextvars.copy_context()

    def run() -> None:
        try:
            returned.append(context.run(work, abandoned))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller, re-raised there
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="payengine-call", daemon=True).start()
    if not done.wait(max(seconds, 0.0)):
        abandoned.set()
        raise _Late
    if failed:
        raise failed[0]
    return returned[0]


@attrs.frozen
class _Answer:
    """An HTTP answer read whole: its status, body and ``Retry-After`` in seconds."""

    status: int
    content: bytes
    retry_after: float | None

    def json(self) -> object:
        """The body as JSON; None when it is not JSON (not a transfer, so: unknown)."""
        try:
            parsed: object = json.loads(self.content)
        except ValueError:
            return None
        return parsed

    def error_code(self) -> str:
        """The contract's error code, or ``http_<status>`` when the body has none."""
        body = self.json()
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) and code else f"http_{self.status}"


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

    def _account_token(self, user_id: str, deadline: float) -> str | TransferResult:
        """The borrower's token, or the decline of a borrower with no payment account.

        The lookup spends the call's budget like an attempt does. Nothing has been sent
        to PayEngine yet (the body needs the token), so a lookup that fails or runs out
        of time is `RailUnavailable`: another rail, or a retry, cannot move money twice.
        """
        accounts = self.accounts
        if accounts is None:
            return ""
        try:
            return _within(deadline - time.monotonic(), lambda _: accounts.account_token(user_id))
        except NotFound:
            return TransferResult(accepted=False, decline_reason="PayEngine: no payment account")
        except _Late as exc:
            raise RailUnavailable(
                "the borrower's payment account was not read within the call's time",
                user_id=user_id,
            ) from exc
        except LocError as exc:
            raise RailUnavailable(
                f"the borrower's payment account could not be read ({type(exc).__name__})",
                user_id=user_id,
            ) from exc

    def _submit(self, request: TransferRequest) -> TransferResult:
        deadline = time.monotonic() + self.timeout.total_seconds()
        key = request.idempotency_key
        token = self._account_token(request.user_id, deadline)
        if isinstance(token, TransferResult):
            return token
        body = contract.transfer_body(request, account_token=token)
        headers = {contract.HEADER_IDEMPOTENCY_KEY: key}

        def attempt(budget: float) -> TransferResult:
            answer = self._send("POST", contract.TRANSFERS_PATH, budget, json=body, headers=headers)
            if answer.status in {200, 201}:
                return contract.result_from(answer.json(), idempotency_key=key)
            code = answer.error_code()
            if answer.status == 409:  # noqa: PLR2004 - the contract's status for a reused key
                raise ExternalServiceError(f"PayEngine refused key reuse ({code})", key=key)
            if code == contract.ERROR_RAIL_UNAVAILABLE:
                raise _Refused(f"{request.rail.value} rail unavailable at PayEngine", taken=False)
            self._raise_if_retryable(answer, code)
            raise _Refused(f"PayEngine: {code}", taken=True)

        try:
            return self._with_retries(attempt, key, deadline, what="submit")
        except _Refused as refused:
            if refused.taken:  # a definite refusal of the first request PayEngine saw
                return TransferResult(accepted=False, decline_reason=str(refused))
            raise RailUnavailable(str(refused), key=key) from refused

    def find(self, idempotency_key: str) -> TransferResult | None:
        """Read the transfer sent with this key; None when PayEngine never received one."""

        def attempt(budget: float) -> TransferResult | None:
            answer = self._send("GET", contract.transfer_path(idempotency_key), budget)
            if answer.status == 200:  # noqa: PLR2004 - the contract's status for found
                return contract.result_from(answer.json(), idempotency_key=idempotency_key)
            code = answer.error_code()
            if answer.status == 404 and code == contract.ERROR_NOT_FOUND:  # noqa: PLR2004 - not found
                return None
            self._raise_if_retryable(answer, code)
            raise ExternalServiceError(
                f"PayEngine could not read the transfer ({code})", key=idempotency_key
            )

        deadline = time.monotonic() + self.timeout.total_seconds()
        try:
            return self._with_retries(attempt, idempotency_key, deadline, what="find")
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
    ) -> _Answer:
        """One HTTP attempt, answered and read whole within `budget` seconds.

        httpx times each read, not the exchange (a server dripping its body would outlast
        any budget), so the exchange runs in a thread the attempt stops waiting for at its
        budget. httpx's own timeouts are a little shorter, so a connection never made is
        reported as such; an attempt that outlives its budget may have been sent.
        """

        def exchange(abandoned: threading.Event) -> _Answer:
            with self.client.stream(
                method, path, timeout=budget * _HTTPX_SHARE, json=json, headers=headers
            ) as response:
                content = bytearray()
                for chunk in response.iter_bytes():
                    if abandoned.is_set():  # nobody waits for this answer any more
                        break
                    content += chunk
                return _Answer(response.status_code, bytes(content), _retry_after(response))

        try:
            return _within(budget, exchange)
        except _Late as exc:
            raise _Retry("no whole answer within the attempt's time", sent=True) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Retry(f"connection failed: {type(exc).__name__}", sent=False) from exc
        except httpx.TransportError as exc:  # read/write timeouts, dropped connections
            raise _Retry(f"no answer: {type(exc).__name__}", sent=True) from exc

    @staticmethod
    def _raise_if_retryable(answer: _Answer, code: str) -> None:
        status = answer.status
        if status == 429:  # noqa: PLR2004 - too many requests: PayEngine processed nothing
            raise _Retry(f"throttled ({code})", sent=False, retry_after=answer.retry_after)
        if status >= 500:  # noqa: PLR2004 - server errors: the outcome is unknown
            raise _Retry(
                f"server error {status} ({code})", sent=True, retry_after=answer.retry_after
            )

    def _budget_left(self, deadline: float) -> float:
        """Seconds the next attempt may take; `_BudgetSpent` when too few are left."""
        budget = min(self.attempt_timeout.total_seconds(), deadline - time.monotonic())
        if budget < _SMALLEST_ATTEMPT:
            raise _BudgetSpent
        return budget

    def _with_retries(
        self, attempt: Callable[[float], T], key: str, deadline: float, *, what: str
    ) -> T:
        """Run `attempt` with the seconds it may take, retrying until `deadline`.

        Once one attempt may have reached PayEngine, only an answer about this transfer
        (the attempt's return) ends the call: a later refusal that is not about it (a
        4xx, ``rail_unavailable``) or a connection never made leaves the outcome unknown.

        Raises:
            _Refused: the first attempt PayEngine saw was refused, and none before it
                may have reached PayEngine.
            RailUnavailable: no attempt can have reached PayEngine.
            ExternalServiceError: one may have: the outcome is unknown.
        """
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
        except _Refused as exc:
            if reached:
                raise ExternalServiceError(
                    f"PayEngine {what}: outcome unknown, an earlier attempt may have "
                    f"arrived; retry with the same key (then: {exc})",
                    key=key,
                ) from exc
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
