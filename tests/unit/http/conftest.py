from __future__ import annotations

from collections.abc import Iterator

import pytest
from deployment import LINES_OPENED, Deployment
from http_api import Api
from litestar.testing import TestClient

from loc_entrypoints.http import create_app


@pytest.fixture
def api() -> Iterator[Api]:
    world = Deployment.build(now=LINES_OPENED, seed=3)
    with TestClient(create_app(bus=world.bus)) as client:
        yield Api(world, client)
