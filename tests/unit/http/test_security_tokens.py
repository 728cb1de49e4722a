"""Hostile bearer tokens: a header naming another algorithm than its key, keys and secrets
too weak to trust, and tokens too big to read."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from deployment import LINES_OPENED, Deployment
from jwt.algorithms import RSAAlgorithm
from litestar import Litestar
from litestar.testing import TestClient
from local_http import serve

from loc_core.errors import InvalidConfiguration
from loc_entrypoints.bootstrap import Settings
from loc_entrypoints.http import create_app
from loc_entrypoints.http.auth import LOCAL_SECRET, Verifier

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_WEAK_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key the test refuses


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, object]:
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig"}


def _segment(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


ISSUER = "https://auth.example/"


def _claims(user: str) -> dict[str, object]:
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    return {"sub": user, "exp": exp, "iss": ISSUER}


@pytest.fixture
def jwks_app() -> Iterator[TestClient[Litestar]]:
    """The app verifying tokens with a JWKS URL served on 127.0.0.1 (keys k1 and weak)."""
    jwks = {"keys": [_jwk(_KEY, "k1"), _jwk(_WEAK_KEY, "weak")]}
    world = Deployment.build(now=LINES_OPENED)
    with serve(lambda _request: httpx.Response(200, json=jwks)) as url:
        app = create_app(
            Settings(jwt_jwks_url=f"{url}/jwks.json", jwt_issuer=ISSUER), bus=world.bus
        )
        with TestClient(app) as client:
            yield client


def _eligibility(client: TestClient[Litestar], token: str) -> httpx.Response:
    return client.get("/loans/eligibility", headers={"Authorization": f"Bearer {token}"})


def test_a_header_naming_another_algorithm_than_its_keys_is_a_401_not_a_500(
    jwks_app: TestClient[Litestar],
) -> None:
    genuine = jwt.encode(_claims("carol"), _KEY, "RS256", {"kid": "k1"})
    assert _eligibility(jwks_app, genuine).status_code == 200
    # An ES256 header naming the RSA key's kid: the key was prepared for ES256 and raised.
    payload = {"sub": "carol", "exp": int(dt.datetime.now(dt.UTC).timestamp()) + 300}
    forged = f"{_segment({'alg': 'ES256', 'kid': 'k1'})}.{_segment(payload)}.c2ln"
    answer = _eligibility(jwks_app, forged)
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert answer.json()["type"] == "https://loc.dev/problems/not-authorized"


def test_a_jwks_key_shorter_than_2048_bits_verifies_no_token(
    jwks_app: TestClient[Litestar],
) -> None:
    with pytest.warns(jwt.InsecureKeyLengthWarning):  # PyJWT signs, and says so
        token = jwt.encode(_claims("carol"), _WEAK_KEY, "RS256", {"kid": "weak"})
    assert _eligibility(jwks_app, token).status_code == 401
    strong = jwt.encode(_claims("carol"), _KEY, "RS256", {"kid": "k1"})
    assert _eligibility(jwks_app, strong).status_code == 200


def test_a_jwt_secret_shorter_than_32_bytes_stops_the_app_at_start() -> None:
    world = Deployment.build(now=LINES_OPENED)
    with pytest.raises(InvalidConfiguration, match="LOC_JWT_SECRET") as refused:
        create_app(Settings(jwt_secret="s" * 31), bus=world.bus)
    assert "s" * 31 not in str(refused.value)
    assert refused.value.key == "LOC_JWT_SECRET"
    assert Verifier(secret="s" * 32).secret == "s" * 32


def test_a_token_longer_than_16_kib_is_refused_unread() -> None:
    world = Deployment.build(now=LINES_OPENED)
    huge = jwt.encode({**_claims("carol"), "pad": "x" * 20_000}, LOCAL_SECRET, "HS256")
    small = jwt.encode(_claims("carol"), LOCAL_SECRET, "HS256")
    with TestClient(create_app(bus=world.bus)) as client:
        assert _eligibility(client, small).status_code == 200
        answer = _eligibility(client, huge)
    assert answer.status_code == 401
    assert "longer than" in answer.json()["detail"]


def test_a_jwks_url_that_fails_is_an_outage_not_a_bad_token() -> None:
    world = Deployment.build(now=LINES_OPENED)
    token = jwt.encode(_claims("carol"), _KEY, "RS256", {"kid": "k1"})
    with serve(lambda _request: httpx.Response(503, text="upstream connect error")) as url:
        app = create_app(
            Settings(jwt_jwks_url=f"{url}/jwks.json", jwt_issuer=ISSUER), bus=world.bus
        )
        with TestClient(app) as client:
            answer = _eligibility(client, token)
    assert answer.status_code == 503, answer.text
    assert "WWW-Authenticate" not in answer.headers  # the client's token is not at fault
    assert "Fail to fetch" not in answer.text
    assert url not in answer.text
