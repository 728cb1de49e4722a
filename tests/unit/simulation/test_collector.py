"""A run raises the collector's youngest threshold and gives the process's back after."""

import gc
from collections.abc import Iterator

import pytest

from loc_entrypoints.simulation import Scenario, Simulation
from loc_entrypoints.simulation.engine import fewer_collections
from loc_entrypoints.simulation.partition import partitions, run_partition

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


def test_a_run_freezes_the_heap_before_it_and_unfreezes_it_after() -> None:
    simulation = Simulation.build(Scenario().resized(borrowers=5, days=3))
    frozen: list[int] = []
    simulation.run(progress=lambda _day: frozen.append(gc.get_freeze_count()))
    assert frozen
    assert all(count > 0 for count in frozen)
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_its_freeze() -> None:
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with fewer_collections():
            during = gc.get_freeze_count()
        assert 0 < during <= before  # nothing more frozen (frozen objects may die)
        assert gc.get_freeze_count() > 0  # and the process's freeze is still in place
    finally:
        gc.unfreeze()


def test_a_partition_frees_its_world_before_the_collector_is_given_back() -> None:
    scenario = Scenario().resized(borrowers=3, days=2)
    part = partitions(3, 3)[0]
    collected_in_run: list[tuple[int, int, int]] = []

    def watch(phase: str, _info: dict[str, int]) -> None:
        if phase == "stop":
            collected_in_run.append(gc.get_threshold())

    gc.callbacks.append(watch)
    try:
        result = run_partition(scenario, part)
    finally:
        gc.callbacks.remove(watch)
    assert result.world is None
    assert collected_in_run  # the world was freed by a full collection ...
    assert collected_in_run[-1][0] == 50_000  # ... while the run's thresholds held
