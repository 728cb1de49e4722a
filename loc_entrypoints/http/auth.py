"""Who is calling: the subject of a verified JWT, and whether it has the service role.

Three sources, in order: behind API Gateway's JWT authorizer, the claims it verified
(in the Mangum scope's ``aws.event``) are trusted; else the ``Authorization: Bearer``
token is verified with the JWKS URL's keys (RS256/ES256) or, for local use, the HS256
secret. The embedded default (memory backend, neither configured) uses
`LOCAL_SECRET`, the one `loc token` signs with, so a local session needs no setup.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import attrs
import jwt
from jwt.types import Options
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from loc_adapters.logs import get_logger
from loc_adapters.memory import InMemoryUsers
from loc_core.errors import ExternalServiceError, InvalidConfiguration
from loc_core.ports import Users
from loc_core.validation import require_id
from loc_entrypoints.bootstrap import DEFAULT_JWT_MAX_LIFETIME_SECONDS, check_jwt_secret

__all__ = [
    "CALLERS_STATE",
    "LOCAL_SECRET",
    "Caller",
    "Callers",
    "Verifier",
    "authenticate",
    "mint_token",
    "service_only",
]

LOCAL_SECRET = "loc-local-development-only-not-for-production"  # noqa: S105 - a public secret, for the embedded default only
"""The HS256 secret of the embedded default, never of a deployment with real storage."""
SERVICE_ROLE = "service"
"""The value of the role claim that grants the operations routes."""
CALLERS_STATE = "callers"
"""The key of the app's state that holds its `Callers`."""
_CALLER_STATE = "caller"
"""The key of a request's state under which its verified `Caller` is kept."""
_HS256 = ("HS256",)
_ASYMMETRIC = ("RS256", "ES256")
CLOCK_SKEW = dt.timedelta(seconds=60)
"""How far the issuer's clock may be ahead of ours: a token without ``iat`` may end this
much later than ``now + LOC_JWT_MAX_LIFETIME_SECONDS``."""
DEFAULT_MAX_LIFETIME = dt.timedelta(seconds=DEFAULT_JWT_MAX_LIFETIME_SECONDS)
"""The longest a token may live unless ``LOC_JWT_MAX_LIFETIME_SECONDS`` says otherwise."""
_REFUSED = "the bearer token does not verify"
"""What a client is told of a token refused for its lifetime or issuer: the reason is
logged, not sent (as for any other bad token, the client can do nothing but get another)."""
_log = get_logger(__name__)
LONGEST_TOKEN = 16 * 1024
"""Characters of the longest bearer token read; a longer one is refused unparsed (an
identity provider's token is a few kilobytes; API Gateway takes 10 KB of headers)."""


@attrs.frozen
class Caller:
    """The authenticated user and whether it is a service."""

    user_id: str
    service: bool = False


@attrs.frozen
class Verifier:
    """Verifies bearer tokens against the configured secret or JWKS URL."""

    secret: str = attrs.field(default="", repr=False)
    jwks_url: str = ""
    audience: str = ""
    role_claim: str = "loc_role"
    issuer: str = ""
    """The ``iss`` every token must carry; empty: not checked (the settings require it
    with a JWKS URL)."""
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME
    """The longest a token may live, from its ``iat`` (or now) to its ``exp``."""
    _jwks: jwt.PyJWKClient | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.secret and not self.jwks_url:
            raise InvalidConfiguration("a JWT secret or a JWKS URL is needed to verify callers")
        check_jwt_secret(self.secret)
        if self.jwks_url and not self.issuer:  # as the settings refuse it, for an app built in code
            raise InvalidConfiguration(
                "LOC_JWT_ISSUER is required with LOC_JWT_JWKS_URL: the key set may sign tokens"
                " of other issuers, so each token's iss is checked",
                key="LOC_JWT_ISSUER",
            )
        if self.jwks_url:
            object.__setattr__(self, "_jwks", jwt.PyJWKClient(self.jwks_url))

    def caller(self, request: ASGIConnection[Any, Any, Any, Any]) -> Caller:
        """The caller of `request`.

        Raises:
            NotAuthorizedException: no bearer token, or one that does not verify.
            ExternalServiceError: the JWKS URL could not be read, so no token can be.
        """
        claims = _gateway_claims(request.scope)
        if claims is None:
            claims = self.verify(_bearer(request))
        else:  # verified by API Gateway's authorizer; its lifetime and issuer bound here too
            self._check_issuer(claims)
            # The authorizer requires exp: claims without one did not come through it.
            self._check_lifetime(claims)
        return self._caller(claims)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token that verifies; 401 otherwise.

        A JWKS key verifies only tokens of its own algorithm (an ``ES256`` header naming
        an RSA key's ``kid`` is refused, never tried), and no key below the algorithm's
        minimum size (RSA under 2048 bits) verifies anything.
        """
        if len(token) > LONGEST_TOKEN:
            raise _unauthorized(
                f"the bearer token is longer than {LONGEST_TOKEN} characters", invalid=True
            )
        required = ["sub", "exp", *(["iss"] if self.issuer else [])]
        options: Options = {"require": required, "enforce_minimum_key_length": True}
        audience = self.audience or None
        issuer = self.issuer or None
        try:
            if self._jwks is not None:
                # The PyJWK, not its bare key: PyJWT then refuses a token whose header names
                # another algorithm than the key's, instead of preparing the key for it.
                jwk = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token,
                    jwk,
                    algorithms=_ASYMMETRIC,
                    audience=audience,
                    issuer=issuer,
                    options=options,
                )
            else:
                claims = jwt.decode(
                    token,
                    self.secret,
                    algorithms=_HS256,
                    audience=audience,
                    issuer=issuer,
                    options=options,
                )
        except jwt.InvalidIssuerError as exc:
            raise _refused(f"its iss is not LOC_JWT_ISSUER ({exc})") from exc
        except jwt.PyJWKClientConnectionError as exc:
            # Not the token's fault: an outage (503, its words logged, not sent), never a
            # 401 telling every client its token is bad.
            raise ExternalServiceError(
                f"the JWKS URL could not be read to verify a token: {exc}", key="LOC_JWT_JWKS_URL"
            ) from exc
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"the bearer token does not verify: {exc}", invalid=True) from exc
        self._check_lifetime(claims)
        return claims

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """Refuse a token that lives longer than `max_lifetime` (401; the reason logged).

        From its ``iat`` to its ``exp``; without an ``iat`` (or with one in the future),
        from now plus `CLOCK_SKEW`. A token stolen from a log or a device then stops
        working within `max_lifetime`, whatever lifetime its issuer gave it.
        """
        now = dt.datetime.now(dt.UTC).timestamp()
        exp = _seconds(claims.get("exp"))
        if exp is None:
            raise _refused("it has no numeric exp")
        iat = _seconds(claims.get("iat"))
        latest = now + CLOCK_SKEW.total_seconds()
        start, since = (iat, "its iat") if iat is not None and iat <= latest else (latest, "now")
        lifetime = exp - start
        if lifetime > self.max_lifetime.total_seconds():
            raise _refused(
                f"its exp is {lifetime:.0f} s after {since}, more than"
                f" LOC_JWT_MAX_LIFETIME_SECONDS={self.max_lifetime.total_seconds():.0f}"
            )

    def _check_issuer(self, claims: dict[str, Any]) -> None:
        """Refuse claims whose ``iss`` is not `issuer`, when one is set."""
        if self.issuer and claims.get("iss") != self.issuer:
            raise _refused("its iss is not LOC_JWT_ISSUER")

    def _caller(self, claims: dict[str, Any]) -> Caller:
        subject = claims.get("sub")
        try:
            user_id = require_id(subject, "sub")
        except ValueError as exc:
            raise _unauthorized("the token's subject is not a valid user id", invalid=True) from exc
        return Caller(user_id=user_id, service=SERVICE_ROLE in _roles(claims.get(self.role_claim)))


@attrs.frozen
class Callers:
    """Verifies the caller of a request once, and keeps it in the request's state."""

    verifier: Verifier
    users: Users

    def __call__(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
        """The verified caller of `connection` (401 when there is none)."""
        known = connection.state.get(_CALLER_STATE)
        if isinstance(known, Caller):
            return known
        who = self.verifier.caller(connection)
        if isinstance(self.users, InMemoryUsers) and who.user_id not in self.users.users:
            self.users.add(who.user_id)  # the embedded default's stand-in for the user service
        connection.state[_CALLER_STATE] = who
        return who


def _callers(connection: ASGIConnection[Any, Any, Any, Any]) -> Callers:
    callers = connection.app.state[CALLERS_STATE]
    if not isinstance(callers, Callers):  # create_app sets it
        raise TypeError(f"the app's state holds no Callers under {CALLERS_STATE!r}")
    return callers


def authenticate(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App guard: a route that acts as its caller verifies it before reading anything else.

    Guards run before a route's headers and body are read, so a request without a valid
    token answers 401 whatever else is wrong with it.
    """
    if "caller" in handler.parsed_fn_signature.parameters:
        _callers(connection)(connection)


def service_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the operations routes: a verified caller with the service role.

    Answers 401, then 403, before any header or body of the route is read.
    """
    if not _callers(connection)(connection).service:
        raise PermissionDeniedException("this operation needs the service role")


_ROLE_SEPARATORS = re.compile(r"[\s,]+")


def _roles(claim: object) -> frozenset[str]:
    """The roles a role claim names, whole words only.

    A token's claim is a list or a space-separated string. API Gateway's JWT authorizer
    hands an array claim on as one string, ``[admin service]``: its brackets (and any
    quotes or commas) are taken off, so ``["service"]`` grants the role and neither
    ``[services]`` nor ``service-desk`` does.
    """
    if isinstance(claim, list):
        words = [str(item) for item in claim]
    else:
        text = str(claim or "").strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        words = _ROLE_SEPARATORS.split(text)
    return frozenset(word.strip("\"'") for word in words if word.strip("\"'"))


def _seconds(claim: object) -> float | None:
    """A NumericDate claim as seconds since the epoch (API Gateway passes them as text)."""
    if isinstance(claim, bool) or not isinstance(claim, int | float | str):
        return None
    try:
        seconds = float(claim)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def _refused(reason: str) -> NotAuthorizedException:
    """The 401 of a token refused after its signature verified: generic, its reason logged."""
    _log.warning("bearer token refused", reason=reason)
    return _unauthorized(_REFUSED, invalid=True)


def _unauthorized(detail: str, *, invalid: bool) -> NotAuthorizedException:
    """A 401 with the challenge HTTP requires of it (RFC 9110 11.6.1, RFC 6750 3)."""
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return NotAuthorizedException(detail, headers={"WWW-Authenticate": challenge})


def _bearer(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("a bearer token is required", invalid=False)
    return token.strip()


def _gateway_claims(scope: Any) -> dict[str, Any] | None:  # noqa: ANN401 - an ASGI scope
    """The claims API Gateway's JWT authorizer verified, when Mangum put its event here."""
    event = scope.get("aws.event") if isinstance(scope, dict) else None
    if not isinstance(event, dict):
        return None
    authorizer = event.get("requestContext", {}).get("authorizer", {})
    claims = authorizer.get("jwt", {}).get("claims") if isinstance(authorizer, dict) else None
    return claims if isinstance(claims, dict) else None


def mint_token(
    user_id: str,
    *,
    secret: str = LOCAL_SECRET,
    service: bool = False,
    audience: str = "",
    role_claim: str = "loc_role",
    lifetime: dt.timedelta = dt.timedelta(hours=12),
    now: dt.datetime | None = None,
    issuer: str = "",
) -> str:
    """An HS256 token for `user_id` (with the service role if asked), for local use."""
    issued = now or dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {"sub": require_id(user_id, "user_id"), "iat": issued}
    claims["exp"] = issued + lifetime
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    if service:
        claims[role_claim] = SERVICE_ROLE
    return jwt.encode(claims, secret, algorithm="HS256")
