"""Callers' tokens: a JWKS URL's keys, an audience, the service role claim."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from litestar.exceptions import NotAuthorizedException
from local_http import serve

from loc_core.errors import InvalidConfiguration
from loc_entrypoints.http.auth import Verifier, mint_token


def _rs256(key: rsa.RSAPrivateKey, claims: dict[str, object]) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_token_signed_by_a_key_of_the_jwks_url_verifies() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwks = {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": "carol",
        "aud": "loc-api",
        "iss": "https://auth.example/",
        "exp": now + dt.timedelta(minutes=5),
    }
    with serve(lambda _request: httpx.Response(200, json=jwks)) as url:
        verifier = Verifier(
            jwks_url=f"{url}/.well-known/jwks.json",
            audience="loc-api",
            issuer="https://auth.example/",
        )
        assert verifier.verify(_rs256(key, claims))["sub"] == "carol"
        with pytest.raises(NotAuthorizedException):
            verifier.verify(_rs256(key, {**claims, "aud": "another-api"}))
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with pytest.raises(NotAuthorizedException):
            verifier.verify(_rs256(other, claims))
        with pytest.raises(NotAuthorizedException):  # an HS256 token is not accepted here
            verifier.verify(mint_token("carol", audience="loc-api"))


def test_hs256_tokens_need_the_secret_and_an_expiry() -> None:
    verifier = Verifier(secret="s" * 32)
    assert verifier.verify(mint_token("dave", secret="s" * 32))["sub"] == "dave"
    with pytest.raises(NotAuthorizedException):
        verifier.verify(mint_token("dave", secret="t" * 32))
    expired = mint_token(
        "dave", secret="s" * 32, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    )
    with pytest.raises(NotAuthorizedException):
        verifier.verify(expired)
    with pytest.raises(InvalidConfiguration):
        Verifier()
