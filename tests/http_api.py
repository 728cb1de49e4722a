"""A test client of the HTTP API over an in-memory deployment whose clock tests move."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from deployment import Deployment
from litestar import Litestar
from litestar.testing import TestClient

from loc_entrypoints.http.auth import mint_token

STATEMENT_DATE = dt.date(2026, 4, 5)
"""The first statement of a line opened on 2026-03-05 (cycle day 5)."""


class Api:
    """A test client of the app over a deployment whose clock the test moves."""

    def __init__(self, world: Deployment, client: TestClient[Litestar]) -> None:
        self.world = world
        self.client = client
        self._keys = 0

    def headers(
        self, user: str, *, service: bool = False, key: str | None = None
    ) -> dict[str, str]:
        token = mint_token(user, service=service)
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def key(self) -> str:
        self._keys += 1
        return f"key-{self._keys}"

    def get(self, user: str, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(user), params=params)

    def post(
        self, user: str, path: str, body: object, key: str | None = None, *, service: bool = False
    ) -> httpx.Response:
        headers = self.headers(user, key=key or self.key(), service=service)
        return self.client.post(path, headers=headers, json=body)

    def open_loan(self, user: str, amount: int = 30_000) -> dict[str, Any]:
        applied = self.post(user, "/loans/applications", {"requested_amount": amount})
        assert applied.status_code == 201, applied.text
        assert applied.json()["status"] == "APPROVED"
        application_id = applied.json()["application_id"]
        accepted = self.post(user, f"/loans/applications/{application_id}/accept", {})
        assert accepted.status_code == 201, accepted.text
        loan: dict[str, Any] = accepted.json()
        return loan

    def open_line(self, user: str) -> dict[str, Any]:
        applied = self.post(user, "/lines/applications", {})
        assert applied.status_code == 201, applied.text
        application_id = applied.json()["application_id"]
        accepted = self.post(user, f"/lines/applications/{application_id}/accept", {})
        assert accepted.status_code == 201, accepted.text
        line: dict[str, Any] = accepted.json()
        return line

    def at(self, day: dt.date, hour: int = 15) -> None:
        self.world.at(day, hour)
