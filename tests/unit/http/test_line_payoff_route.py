"""``POST /lines/{line_id}/payments`` past the cycle's movement bound: a payoff is taken.

A borrower who used up `max_movements_per_cycle` can still pay the whole balance, once a
cycle (docs/credit-lines.md, "Movements per cycle"); a payment of less is a 422.
"""

import datetime as dt
from collections.abc import Iterator

import pytest
from deployment import LINES_OPENED, Deployment
from http_api import Api
from litestar.testing import TestClient

from loc_core.creditline import CreditLineProduct
from loc_entrypoints.http import create_app


@pytest.fixture
def bounded() -> Iterator[Api]:
    bound = CreditLineProduct(max_movements_per_cycle=2)
    world = Deployment.build(now=LINES_OPENED, seed=3, overrides={CreditLineProduct: bound})
    with TestClient(create_app(bus=world.bus)) as client:
        yield Api(world, client)


def test_a_borrower_at_the_bound_pays_the_line_off_over_http(bounded: Api) -> None:
    api = bounded
    line_id = api.open_line("alice")["line_id"]
    api.at(dt.date(2026, 3, 12))
    assert api.post("alice", f"/lines/{line_id}/draws", {"amount": 40_000}).status_code == 201
    path = f"/lines/{line_id}/payments"
    assert api.post("alice", path, {"amount": 1_000}).status_code == 201  # two: the bound

    part = api.post("alice", path, {"amount": 38_999})
    assert part.status_code == 422, part.text
    assert "max_movements_per_cycle" in part.json()["detail"]

    payoff = api.post("alice", path, {"amount": 39_000})
    assert payoff.status_code == 201, payoff.text
    assert api.get("alice", f"/lines/{line_id}").json()["total_balance"] == 0
    checked = api.post("ops", "/operations/users/alice/reconcile", None, service=True).json()
    assert checked["matches"] is True
