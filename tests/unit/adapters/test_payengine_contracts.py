"""`SimulatedRails` and `PayEngineRails` over the sandbox (real HTTP on 127.0.0.1) pass the
same rails contract."""

import datetime as dt
from collections.abc import Iterator

import pytest
from contracts.rails import RailsContract

from loc_adapters.memory import ManualClock, SimulatedRails
from loc_core.ports import PaymentRails

pytest.importorskip("httpx", reason="the payengine extra is not installed")

from loc_adapters.payengine import PayEngineRails
from loc_adapters.payengine.sandbox import PayEngineSandbox, serve

NOW = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)


@pytest.fixture
def sim() -> SimulatedRails:
    return SimulatedRails(ManualClock(NOW), seed=3)


class TestSimulatedRails(RailsContract):
    @pytest.fixture
    def rails(self, sim: SimulatedRails) -> PaymentRails:
        return sim


class TestPayEngineRailsOverTheSandbox(RailsContract):
    @pytest.fixture
    def rails(self, sim: SimulatedRails) -> Iterator[PaymentRails]:
        sandbox = PayEngineSandbox(sim, api_key="test-key", webhook_secret=b"s")
        with serve(sandbox) as url:
            rails = PayEngineRails.connect(url, "test-key", timeout=dt.timedelta(seconds=5))
            yield rails
            rails.client.close()
