"""Callers' tokens a deployment must refuse: one that lives too long, one from another issuer.

A signed token is refused (401, the generic answer; the reason logged) when its ``exp`` is
more than ``LOC_JWT_MAX_LIFETIME_SECONDS`` after its ``iat`` (or after now, without one);
``loc token`` mints none the deployment would refuse. A JWKS URL needs ``LOC_JWT_ISSUER``,
and a token of another issuer signed by a key of that URL is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import attrs
import httpx
import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa
from deployment import LINES_OPENED, Deployment
from jwt.algorithms import RSAAlgorithm
from litestar import Litestar
from litestar.testing import TestClient
from local_http import serve
from structlog.testing import capture_logs

from loc_core.errors import InvalidConfiguration
from loc_entrypoints.bootstrap import Settings
from loc_entrypoints.cli import main
from loc_entrypoints.http import create_app
from loc_entrypoints.http.auth import Verifier
from loc_entrypoints.lambdas import http as lambda_http

SECRET = "s" * 32
ISSUER = "https://auth.example/"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _hs256(claims: dict[str, object]) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _eligibility(client: TestClient[Litestar], token: str) -> httpx.Response:
    return client.get("/loans/eligibility", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def hs256_app() -> Iterator[TestClient[Litestar]]:
    """The app verifying HS256 tokens, a lifetime of at most an hour."""
    world = Deployment.build(now=LINES_OPENED)
    settings = Settings(jwt_secret=SECRET, jwt_max_lifetime_seconds=3600)
    with TestClient(create_app(settings, bus=world.bus)) as client:
        yield client


NOW = dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"iat": NOW, "exp": NOW + dt.timedelta(days=3650)}, id="ten-years-from-iat"),
        pytest.param({"exp": NOW + dt.timedelta(hours=2)}, id="two-hours-without-iat"),
        pytest.param(
            {"iat": NOW - dt.timedelta(hours=1), "exp": NOW + dt.timedelta(minutes=30)},
            id="ninety-minutes-from-an-old-iat",
        ),
    ],
)
def test_a_token_living_longer_than_the_maximum_is_refused_like_any_bad_token(
    hs256_app: TestClient[Litestar], claims: dict[str, object]
) -> None:
    with capture_logs() as logs:
        answer = _eligibility(hs256_app, _hs256({"sub": "carol", **claims}))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert answer.json()["detail"] == "the bearer token does not verify"
    [refused] = [line for line in logs if line["event"] == "bearer token refused"]
    assert "LOC_JWT_MAX_LIFETIME_SECONDS=3600" in refused["reason"]


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"iat": NOW, "exp": NOW + dt.timedelta(hours=1)}, id="exactly-the-maximum"),
        pytest.param({"exp": NOW + dt.timedelta(minutes=59)}, id="within-it-without-iat"),
    ],
)
def test_a_token_within_the_maximum_verifies(
    hs256_app: TestClient[Litestar], claims: dict[str, object]
) -> None:
    assert _eligibility(hs256_app, _hs256({"sub": "carol", **claims})).status_code == 200


def test_a_token_without_exp_is_refused() -> None:
    with pytest.raises(Exception, match="exp"):
        Verifier(secret=SECRET).verify(_hs256({"sub": "carol", "iat": NOW}))


def test_the_default_maximum_is_a_day() -> None:
    verifier = Verifier(secret=SECRET)
    day = _hs256({"sub": "carol", "iat": NOW, "exp": NOW + dt.timedelta(hours=24)})
    assert verifier.verify(day)["sub"] == "carol"
    with pytest.raises(Exception, match="does not verify"):
        verifier.verify(_hs256({"sub": "carol", "iat": NOW, "exp": NOW + dt.timedelta(days=2)}))


@attrs.frozen
class _Context:
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _gateway_event(claims: dict[str, str]) -> dict[str, object]:
    """An API Gateway HTTP API event whose JWT authorizer verified `claims`."""
    context = {
        "http": {"method": "GET", "path": "/loans/eligibility", "sourceIp": "10.0.0.1"},
        "requestId": "gw-1",
        "stage": "$default",
        "authorizer": {"jwt": {"claims": claims, "scopes": []}},
    }
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/loans/eligibility",
        "rawQueryString": "",
        "headers": {"host": "api.example.com"},
        "requestContext": context,
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("lifetime", "status"),
    [
        pytest.param(dt.timedelta(days=30), 401, id="thirty-days"),
        pytest.param(dt.timedelta(hours=1), 200, id="an-hour"),
    ],
)
def test_behind_api_gateway_the_authorizers_claims_are_held_to_the_maximum_too(
    lifetime: dt.timedelta, status: int
) -> None:
    world = Deployment.build(now=LINES_OPENED)
    lambda_http.RUNTIME.use(world.bus)
    lambda_http.reset()
    claims = {
        "sub": "carol",
        "iat": str(int(NOW.timestamp())),
        "exp": str(int((NOW + lifetime).timestamp())),  # the authorizer passes them as text
    }
    try:
        answer = lambda_http.handler(_gateway_event(claims), _Context("req-1"))
    finally:
        lambda_http.reset()
    assert answer["statusCode"] == status, answer


def test_behind_api_gateway_claims_without_exp_are_refused() -> None:
    """The authorizer requires exp: claims without one did not come through it."""
    world = Deployment.build(now=LINES_OPENED)
    lambda_http.RUNTIME.use(world.bus)
    lambda_http.reset()
    try:
        answer = lambda_http.handler(_gateway_event({"sub": "carol"}), _Context("req-1"))
    finally:
        lambda_http.reset()
    assert answer["statusCode"] == 401, answer


def _token(*arguments: str, **environ: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["token", "alice", *arguments], env=environ)
    return result.exit_code, result.output


def test_loc_token_refuses_a_lifetime_the_deployment_would_refuse_as_a_usage_error() -> None:
    status, output = _token("--lifetime", "7200", LOC_JWT_MAX_LIFETIME_SECONDS="3600")
    assert status == 2, output
    assert "LOC_JWT_MAX_LIFETIME_SECONDS=3600" in output


def test_loc_token_mints_what_the_deployment_accepts() -> None:
    status, output = _token(
        LOC_JWT_SECRET=SECRET, LOC_JWT_MAX_LIFETIME_SECONDS="3600", LOC_JWT_ISSUER=ISSUER
    )
    assert status == 0, output
    verifier = Verifier(secret=SECRET, issuer=ISSUER, max_lifetime=dt.timedelta(hours=1))
    claims = verifier.verify(output.strip())  # its default 12 h, cut to the maximum
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iss"] == ISSUER


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({"LOC_JWT_JWKS_URL": "https://auth.example/jwks.json"}, id="memory"),
        pytest.param(
            {
                "LOC_JWT_JWKS_URL": "https://auth.example/jwks.json",
                "LOC_BACKEND": "dynamodb",
                "LOC_QUEUE_URL": "http://127.0.0.1:9/q",
            },
            id="dynamodb",
        ),
    ],
)
def test_a_jwks_url_without_an_issuer_is_refused_naming_the_variable(
    environ: dict[str, str],
) -> None:
    with pytest.raises(InvalidConfiguration, match="LOC_JWT_ISSUER is required") as refused:
        Settings.from_env(environ)
    assert refused.value.key == "LOC_JWT_ISSUER"
    with pytest.raises(InvalidConfiguration, match="LOC_JWT_ISSUER"):
        Verifier(jwks_url=environ["LOC_JWT_JWKS_URL"])  # an app built in code, too


def test_loc_commands_refuse_a_jwks_url_without_an_issuer() -> None:
    result = CliRunner().invoke(
        main, ["job", "run", "due_job"], env={"LOC_JWT_JWKS_URL": "https://auth.example/j"}
    )
    assert result.exit_code == 1
    assert "LOC_JWT_ISSUER is required with LOC_JWT_JWKS_URL" in result.output


def test_a_token_of_another_issuer_signed_by_a_key_of_the_url_is_refused() -> None:
    public = json.loads(RSAAlgorithm.to_jwk(_KEY.public_key()))
    jwks = {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)  # NOW is the import time
    world = Deployment.build(now=LINES_OPENED)
    with serve(lambda _request: httpx.Response(200, json=jwks)) as url:
        settings = Settings(jwt_jwks_url=f"{url}/jwks.json", jwt_issuer=ISSUER)
        with TestClient(create_app(settings, bus=world.bus)) as client:

            def answer(claims: dict[str, object]) -> int:
                token = jwt.encode(
                    {"sub": "carol", "exp": exp, **claims}, _KEY, "RS256", {"kid": "k1"}
                )
                return _eligibility(client, token).status_code

            assert answer({"iss": ISSUER}) == 200
            with capture_logs() as logs:
                assert answer({"iss": "https://tenant-b.auth.example/"}) == 401
            assert answer({}) == 401  # no iss at all
    assert any("iss is not LOC_JWT_ISSUER" in line.get("reason", "") for line in logs)
