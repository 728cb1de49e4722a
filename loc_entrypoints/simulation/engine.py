"""The simulation: a book of borrowers lives through the real use cases, day by day.

Each simulated day (`day.live_one_day`) runs the production jobs at their production
hours on a simulated clock, the borrowers' acts (`borrowers.Book`) in between, and the
daily checks (`checks.check_day`) at its end. Everything goes through the bus the
bootstrap built (`world.World`), so the simulation exercises exactly what production
runs. After the last day the recovery job runs once more (`day.close_the_run`), so the
report can say how many money movements were left open. Borrowers only act on the days
their agenda says, and the jobs only touch what their indexes return, so an idle
borrower-day costs nothing.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator

import attrs

from loc_core.errors import InvariantViolation
from loc_entrypoints.simulation.borrowers import Book, InvariantBroken
from loc_entrypoints.simulation.day import close_the_run, live_one_day
from loc_entrypoints.simulation.scenario import Scenario
from loc_entrypoints.simulation.tally import Tally
from loc_entrypoints.simulation.world import World

__all__ = ["InvariantBroken", "Simulation", "fewer_collections"]

_YOUNG_COLLECTION_AFTER = 50_000
"""Run the cyclic garbage collector's youngest generation after this many new objects
(Python's default: 700). A simulated day makes and drops hundreds of thousands of small
objects (copies, audit changes, events) and almost none of them form cycles; collecting
every 700 cost a few percent of a run (3 to 8% measured, close to this machine's noise).
Memory is unaffected: objects without cycles are freed by reference counting at once,
whatever the collector's thresholds."""

_collector = threading.Lock()
_runs_under_way = 0
_thresholds_before: tuple[int, int, int] = (0, 0, 0)
_froze = False


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect less during a run: a raised youngest threshold and the heap before it frozen.

    The youngest generation is collected after `_YOUNG_COLLECTION_AFTER` objects. What
    the process held before the run goes to the collector's permanent generation
    (`gc.freeze`), so a full collection during the run (a finished partition's world
    freed) walks only what the run made; it is unfrozen when the run ends. A process that
    froze objects itself (a pre-fork server) keeps its own freeze: nothing more is
    frozen, and nothing is unfrozen.

    The thresholds and the permanent generation are the process's: runs in several
    threads at once share them, and the first one's state is restored when the last one
    ends.
    """
    global _runs_under_way, _thresholds_before, _froze  # noqa: PLW0603 - the process-wide collector
    with _collector:
        if _runs_under_way == 0:
            _thresholds_before = gc.get_threshold()
            young, middle, old = _thresholds_before
            gc.set_threshold(max(young, _YOUNG_COLLECTION_AFTER), middle, old)
            _froze = gc.get_freeze_count() == 0
            if _froze:
                gc.freeze()
        _runs_under_way += 1
    try:
        yield
    finally:
        with _collector:
            _runs_under_way -= 1
            if _runs_under_way == 0:
                if _froze:
                    gc.unfreeze()
                gc.set_threshold(*_thresholds_before)


@attrs.define
class Simulation:
    """One run of a scenario: build it, then `run` it."""

    scenario: Scenario
    world: World
    tally: Tally
    book: Book

    @classmethod
    def build(cls, scenario: Scenario, borrowers: range | None = None) -> Simulation:
        """A fresh deployment with the scenario's borrowers and their first agenda days.

        `borrowers`: the numbers (from 1) of the borrowers this run lives (None: the whole
        book); a partition of the book runs the same borrowers the same way.
        """
        world = World.build(scenario, None if borrowers is None else len(borrowers))
        tally = Tally(scenario)
        book = Book(scenario, world, tally)
        book.populate(borrowers)
        return cls(scenario, world, tally, book)

    def run(self, progress: Callable[[int], None] | None = None) -> Tally:
        """Live every day of the scenario; `progress` hears each finished day's number.

        Raises:
            InvariantBroken: the first invariant that failed, naming borrower and day.
        """
        book = self.book
        with fewer_collections():
            for day in range(self.scenario.days):
                book.start_day(day)
                self._checked(live_one_day)
                if progress is not None:
                    progress(day + 1)
            self._checked(close_the_run)
        self.tally.finish(self.world, book.products)
        return self.tally

    def _checked(self, work: Callable[[Book], None]) -> None:
        """Run `work` on the book; a use case refusing an aggregate's state stops the run."""
        try:
            work(self.book)
        except InvariantViolation as exc:
            self.book.broken(self._owner_of(exc), "stored state verifies", str(exc))

    def _owner_of(self, exc: InvariantViolation) -> str:
        """The borrower whose loan or line `exc` is about, or ``?``."""
        if exc.user_id is not None:
            return exc.user_id
        owner = self.book.products.get(exc.entity_id or "")
        return "?" if owner is None else owner[1]
