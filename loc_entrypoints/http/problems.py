"""Every error as RFC 9457 problem details (``application/problem+json``).

Each class of the library's error tree (`loc_core.errors`) has a stable ``type`` URI
(``https://loc.dev/problems/<kebab-case class name>``), and a status chosen by what
the caller can do about it:

    400  the request itself is malformed: a field out of bounds (``fields`` names each)
    401  no valid bearer token                   403  not the service role
    404  no such record, or not the caller's     409  retry later: a conflict or a lease
    413  a body over the size limit (64 KiB, `MAX_BODY_BYTES`)
    415  a body not sent as application/json     422  a business rule refused the request
    503  an outside service failed (an outage, logged as a warning, not a defect)
    500  a defect: answered with the ``correlation_id`` it is logged under

Nothing a client sends answers 500: only a bug (a broken invariant, an unexpected
exception) does. Every route reads the store, so every operation declares 503 too. A 409
or 503 answers a fixed ``detail`` per class: the error's message names what operators need
(a lock's key and owner, a store's keys, an outside service's own words) and is logged,
not sent.
"""

from __future__ import annotations

import http
import re
from typing import Any

import attrs
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from loc_adapters.logs import get_logger
from loc_core import errors
from loc_entrypoints.http.correlation import correlation_of

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_JSON",
    "Problem",
    "exception_handlers",
    "problem_for",
    "responses",
]

_log = get_logger(__name__)

PROBLEM_BASE = "https://loc.dev/problems/"
"""The prefix of every problem ``type``."""
PROBLEM_JSON = "application/problem+json"
"""The media type of every error answer."""

_STATUS_BY_ERROR: tuple[tuple[type[errors.LocError], int], ...] = (
    (errors.InvalidRequest, 400),
    (errors.InvalidAmount, 400),
    (errors.InvalidRate, 400),
    (errors.InvalidTimestamp, 400),
    (errors.NotFound, 404),
    (errors.IdempotencyConflict, 422),
    (errors.ConcurrencyConflict, 409),
    (errors.LockNotAcquired, 409),
    (errors.DebitUnconfirmed, 409),
    (errors.RailDeclined, 422),
    (errors.DomainError, 422),
    (errors.ExternalServiceError, 503),
)
"""The first class an error is an instance of gives its status; any other: 500."""

_OPAQUE: tuple[tuple[type[errors.LocError], str], ...] = (
    (
        errors.RailUnavailable,
        (
            "no payment rail could be reached, so no money moved; retry later with the same"
            " Idempotency-Key"
        ),
    ),
    (
        errors.ExternalServiceError,
        (
            "an outside service failed, so the outcome may be unknown; retry later (with the"
            " same Idempotency-Key, if the request had one)"
        ),
    ),
    (errors.LockNotAcquired, "another process is working on this account; retry shortly"),
    (errors.ConcurrencyConflict, "the records changed while the request ran; retry it"),
)
"""The detail of an outage or a conflict: its message is written for operators (a lock's
key and owner, a store's keys and versions, an outside service's own words), so a client
gets a fixed sentence instead; the message stays in the logs under the correlation id."""
_OPAQUE_STATUSES = frozenset({http.HTTPStatus.CONFLICT, http.HTTPStatus.SERVICE_UNAVAILABLE})
"""The statuses `_OPAQUE` applies to (not `RailDeclined`'s 422: a decline is the client's)."""
_CLIENT_ENTITIES = frozenset({"idempotency"})
"""Errors about these entities are raised by the HTTP layer itself, for the client."""

_VALIDATION = (
    errors.InvalidRequest,
    errors.InvalidAmount,
    errors.InvalidRate,
    errors.InvalidTimestamp,
)


@attrs.frozen
class Problem:
    """RFC 9457 problem details, with the fields at fault and the ids of the error."""

    type: str
    title: str
    status: int
    detail: str
    fields: list[str] = attrs.Factory(list)
    """The request fields at fault (``amount``, ``Idempotency-Key``, ``limit``, ...)."""
    reasons: list[str] = attrs.Factory(list)
    """For an ineligible borrower, one code per failed rule."""
    correlation_id: str | None = None
    """The request's correlation id (its ``X-Correlation-Id``): the id its log lines, and
    for a 500 the error, are logged under."""


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


_TITLES: dict[type[BaseException], str] = {
    errors.InvalidRequest: "A request field is missing or out of bounds",
}
"""Titles where the class's first docstring line does not read well to a client."""
_MISSING = re.compile(r"Missing required \w+ parameter '([^']+)'")


def _title(kind: type[BaseException]) -> str:
    if kind in _TITLES:
        return _TITLES[kind]
    doc = (kind.__doc__ or kind.__name__).strip()
    return doc.splitlines()[0].rstrip(".")


def problem_for(error: errors.LocError) -> Problem:
    """The problem a library error answers, by the first matching class of its tree."""
    status = next(
        (code for kind, code in _STATUS_BY_ERROR if isinstance(error, kind)),
        500,
    )
    kind = type(error)
    fields = [error.key] if isinstance(error, _VALIDATION) and error.key else []
    reasons = list(error.reasons) if isinstance(error, errors.NotEligible) else []
    return Problem(
        type=PROBLEM_BASE + _kebab(kind.__name__),
        title=_title(kind),
        status=status,
        detail=_detail(error, status),
        fields=fields,
        reasons=reasons,
    )


def _detail(error: errors.LocError, status: int) -> str:
    """What the client is told: the error's message, unless it is written for operators."""
    speaks_to_client = error.entity in _CLIENT_ENTITIES
    if status in _OPAQUE_STATUSES and not speaks_to_client:
        for kind, detail in _OPAQUE:
            if isinstance(error, kind):
                return detail
    return str(error)


def _answer(
    request: Request[Any, Any, Any], problem: Problem, headers: dict[str, str] | None = None
) -> Response[Problem]:
    if problem.correlation_id is None:
        problem = attrs.evolve(problem, correlation_id=correlation_of(request.scope))
    return Response(
        content=problem,
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _library_error(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    if not isinstance(error, errors.LocError):  # registered for LocError only
        return _defect(request, error)
    problem = problem_for(error)
    if problem.status == http.HTTPStatus.INTERNAL_SERVER_ERROR:
        return _defect(request, error)
    if problem.status == http.HTTPStatus.SERVICE_UNAVAILABLE:  # an outage, not a defect
        _log.warning(
            "http.outside_service_failed",
            correlation_id=correlation_of(request.scope),
            path=request.url.path,
            error=type(error).__name__,
            detail=str(error),
        )
    return _answer(request, problem)


def _validation(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    if not isinstance(error, ValidationException):  # registered for it only
        return _defect(request, error)
    extra = error.extra if isinstance(error.extra, list) else []
    fields = sorted({str(item.get("key")) for item in extra if isinstance(item, dict)} - {"None"})
    messages = [str(item.get("message")) for item in extra if isinstance(item, dict)]
    missing = _MISSING.search(error.detail)
    if missing is not None:
        fields.append(missing.group(1))
    return _answer(
        request,
        Problem(
            type=PROBLEM_BASE + "invalid-request",
            title=_title(errors.InvalidRequest),
            status=400,
            detail="; ".join(messages) or error.detail,
            fields=fields,
        ),
    )


def _http(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    if not isinstance(error, HTTPException):  # registered for it only
        return _defect(request, error)
    if error.status_code >= 500:  # noqa: PLR2004 - the server-error class
        return _defect(request, error)
    title = http.HTTPStatus(error.status_code).phrase
    return _answer(
        request,
        Problem(
            type=PROBLEM_BASE + _kebab(type(error).__name__.removesuffix("Exception")),
            title=title,
            status=error.status_code,
            detail=error.detail,
        ),
        headers=error.headers,
    )


def _defect(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    """A 500: the error is logged with the correlation id the problem carries."""
    correlation = correlation_of(request.scope)
    _log.error(
        "http.unexpected_error",
        correlation_id=correlation,
        path=request.url.path,
        error=type(error).__name__,
        exc_info=error,
    )
    return _answer(
        request,
        Problem(
            type=PROBLEM_BASE + "unexpected-error",
            title="An unexpected error",
            status=500,
            detail=f"an unexpected error; quote correlation id {correlation}",
            correlation_id=correlation,
        ),
    )


exception_handlers: dict[type[Exception] | int, Any] = {
    errors.LocError: _library_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _defect,
}
"""What the app registers: every exception becomes a problem."""

_DESCRIPTIONS = {
    400: "The request is malformed: `fields` names each field at fault.",
    401: "No valid bearer token.",
    403: "The caller lacks the service role.",
    404: "No such record, or not the caller's.",
    409: "A conflict: the same idempotency key is in flight, or a concurrent change; retry.",
    413: "The body is larger than the API reads (64 KiB).",
    415: "The body was not sent as application/json.",
    422: "A business rule refused the request, or an idempotency key was reused for another body.",
    500: "An unexpected error; the problem carries the correlation id it was logged under.",
    503: (
        "An outside service (the database, a payment rail, the document store) failed;"
        " the outcome may be unknown: retry, with the same Idempotency-Key if the request"
        " had one."
    ),
}


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem responses of an operation: 400, 401, 500, 503 always, plus `statuses`.

    503 is always possible: every route reads the store, which can be unreachable. An
    operation that takes a body (415) also answers 413 for one over the size limit.
    """
    body = {413} if http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE in statuses else set()
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in sorted({400, 401, 500, 503, *body, *statuses})
    }
