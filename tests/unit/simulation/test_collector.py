"""A run raises the collector's youngest threshold and gives the process's back after."""

import gc
from collections.abc import Iterator

import pytest

from loc_entrypoints.simulation import Scenario, Simulation
from loc_entrypoints.simulation.engine import fewer_collections

MINE = (900, 11, 12)


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(*MINE)
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_a_run_collects_less_often_and_restores_the_thresholds() -> None:
    simulation = Simulation.build(Scenario().resized(borrowers=5, days=3))
    during: list[tuple[int, int, int]] = []
    simulation.run(progress=lambda _day: during.append(gc.get_threshold()))
    assert during
    assert all(seen == (50_000, 11, 12) for seen in during)
    assert gc.get_threshold() == MINE


@pytest.mark.usefixtures("thresholds")
def test_overlapping_runs_restore_the_first_thresholds_when_the_last_ends() -> None:
    first = fewer_collections()
    second = fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == 50_000  # the second run is still under way
    second.__exit__(None, None, None)
    assert gc.get_threshold() == MINE
