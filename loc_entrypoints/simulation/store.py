"""The simulation's store: the in-memory database with the speed tricks only a simulation may use.

`InMemoryDatabase` behaves like a remote table (every read a private copy, every audit
record kept), which is what the contract suites certify. A single-threaded simulation of
a whole book can afford less: it shares committed objects with the use cases that read
them, keeps each committed row as a structural copy (`clone`) instead of pickled bytes,
counts audit records instead of keeping them, and compresses rows of large books.
Those tricks live here, next to the one driver that relies on them.
"""

from __future__ import annotations

import collections
import copyreg
import datetime as dt
import io
import operator
import pickle
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from loc_adapters.memory import InMemoryDatabase
from loc_adapters.memory.database import Key
from loc_core.creditline import CreditLine, LineStatus
from loc_core.events import Change
from loc_core.installment import Loan, LoanStatus
from loc_core.intents import TransferIntent
from loc_core.ledger import Ledger
from loc_core.ports import Clock
from loc_entrypoints.simulation.clone import clone

__all__ = ["SimulationDatabase"]

_LIVE_AGGREGATES = 20_000
"""At least this many aggregates stay live for shared reads (half the book above that):
more than a day's activity, so the day's invariant checks find what they read live."""
_COMPRESS_ABOVE = 20_000
"""Books with more borrowers keep their rows compressed: memory, not time, is their limit."""


_EMPTIED = (dict, set, list, collections.deque)
"""The container types `SimulationDatabase.discard` empties (an ordered dict is a dict)."""

_Reduced = (
    tuple[Callable[..., object], tuple[object, ...]]
    | tuple[Callable[..., object], tuple[type], tuple[object, ...]]
)


def _timezone(zone: dt.timezone) -> _Reduced:
    """A timezone as its constructor's arguments, as its own reduce gives them.

    Its own reduce repeats a slot-name lookup for every timestamp (a built-in type caches none).
    """
    return (dt.timezone, zone.__getinitargs__())  # type: ignore[attr-defined]  # C method, untyped


_REDUCERS: dict[type, Callable[[Any], _Reduced]] = {dt.timezone: _timezone}
"""Type -> its reducer: what `_RowPickler` pickles the project's attrs classes (and the
timezones of its timestamps) with."""


def _compact_reducer(kind: type) -> Callable[[Any], _Reduced]:
    """Pickle an attrs slotted instance as a tuple of its field values, in field order.

    attrs' own `__setstate__` accepts that tuple (its pre-22.2 format) and sets the fields
    in the same order, so the row unpickles with plain `pickle.loads` into the same object;
    attrs' `__getstate__` builds a dict in Python instead, a third of the cost of a commit's pickle.
    """
    names = tuple(field.name for field in attrs.fields(kind))
    get = operator.attrgetter(*names)
    newobj = copyreg.__newobj__  # type: ignore[attr-defined]  # exists, not in typeshed
    if len(names) == 1:
        return lambda obj: (newobj, (kind,), (get(obj),))
    return lambda obj: (newobj, (kind,), get(obj))


def _register_compact_classes() -> None:
    """Give every loaded attrs slotted class of the project that keeps attrs' pickling a reducer.

    A class missing here (loaded later, or with its own pickling) pickles the default way.
    """
    for name, module in list(sys.modules.items()):
        if not name.startswith("loc_") or module is None:
            continue
        for kind in vars(module).values():
            if isinstance(kind, type) and kind not in _REDUCERS and _keeps_attrs_state(kind):
                _REDUCERS[kind] = _compact_reducer(kind)


def _keeps_attrs_state(kind: type) -> bool:
    """Is `kind` an attrs slotted class whose own pickling is attrs' generated one?"""
    own = vars(kind)
    getstate = own.get("__getstate__")
    setstate = own.get("__setstate__")
    return (
        "__attrs_attrs__" in own
        and getattr(getstate, "__name__", None) == "slots_getstate"
        and getattr(setstate, "__name__", None) == "slots_setstate"
        and bool(attrs.fields(kind))
    )


class _RowPickler(pickle.Pickler):
    """The highest-protocol pickler with the compact reducers."""

    dispatch_table = _REDUCERS


def _in_service(aggregate: object) -> bool:
    """Open loans, lines and intents are read again soon; the rest are not.

    Applications, closed loans and finished intents live in their rows only.
    """
    if isinstance(aggregate, Loan):
        return aggregate.status is not LoanStatus.CLOSED
    if isinstance(aggregate, CreditLine):
        return aggregate.status is not LineStatus.CLOSED
    if isinstance(aggregate, TransferIntent):
        return aggregate.is_open
    return False


@attrs.define
class SimulationDatabase(InMemoryDatabase):
    """An `InMemoryDatabase` that shares committed objects with a single-threaded driver.

    A unit of work that reads an aggregate gets the live committed object (no copy) when
    no other unit of work holds it; anything it changed (its outbox is not empty) but did
    not commit is dropped from the live set when it ends, so the next read copies the
    committed row and an abandoned change can never leak. Callers must not change an
    aggregate outside a unit of work (the simulation never does).
    """

    keep_live: Callable[[object], bool] | None = None
    """Which aggregates may stay live (None: all). The simulation keeps the ones still in
    service live and lets the rest (applications, closed loans) live in their rows only, so
    they never push out what is read every day."""
    live_capacity: int | None = None
    """How many committed objects to keep live (least recently used are dropped and
    copied from their rows again when next read); None keeps every one."""
    compress_rows: bool = False
    """Keep committed rows zlib-compressed (about a third of the size, a few microseconds
    per write): for books large enough that memory, not time, is the limit."""
    keep_audit: bool = True
    """Keep audit records for `audit_records`. The simulation only needs the figures, so
    it turns this off: every change a commit makes is still counted in `audit_count`,
    but no record of it is built or kept."""
    _live: collections.OrderedDict[Key, Any] = attrs.field(factory=collections.OrderedDict)
    """The committed objects themselves, least recently used first."""
    _out: set[Key] = attrs.field(factory=set)
    """Live objects a unit of work is holding."""
    _touched: set[Key] = attrs.field(factory=set)

    @classmethod
    def for_book(cls, clock: Clock, *, borrowers: int) -> SimulationDatabase:
        """The store sized for a book of `borrowers`: what stays live, and whether to compress."""
        return cls(
            clock,
            keep_live=_in_service,
            live_capacity=max(_LIVE_AGGREGATES, borrowers // 2),
            compress_rows=borrowers > _COMPRESS_ABOVE,
            keep_audit=False,
        )

    def __attrs_post_init__(self) -> None:
        if self.compress_rows:  # only compressed rows are pickled
            _register_compact_classes()

    def read(self, key: Key) -> Any:  # noqa: ANN401 - rows hold every aggregate type
        """The live committed aggregate, or a private copy when another unit of work holds it."""
        with self.lock:
            out = self._out
            live = self._live.get(key)  # a live object always has its row
            if live is not None and key not in out:  # the usual read first, in two lookups
                self._live.move_to_end(key)
                out.add(key)
                return live
            row = self._rows.get(key)
            if row is None:
                return None
            if key in out:  # another unit of work holds the live one: a copy
                return self.thaw_row(row)
            live = self.thaw_row(row)
            if self.keep_live is not None and not self.keep_live(live):
                return live  # a private copy, never shared
            self._live[key] = live
            if self.live_capacity is not None and len(self._live) > self.live_capacity:
                self._trim_live()  # only when over: every write and every read that copies
            out.add(key)
            return live

    def release(self, reads: Iterable[tuple[Key | None, object]]) -> None:
        """A unit of work ended without committing these aggregates.

        An aggregate with an empty outbox was not changed (every command that changes one
        records the change there, which is also how a use case decides there is nothing to
        commit), so it stays live; one that was changed is forgotten, and the next read
        copies the committed row.
        """
        live = self._live
        with self.lock:
            for key, aggregate in reads:
                if key is None or live.get(key) is not aggregate:  # a scan's reads are copies
                    continue
                self._out.discard(key)
                if getattr(aggregate, "outbox", None):
                    del live[key]

    def peek(self, key: Key) -> Any:  # noqa: ANN401 - rows hold every aggregate type
        """The live aggregate or a fresh copy, or None: for read-only use.

        Mutating what this returns would change committed state behind every unit of
        work's back; use `read` for anything that may change.
        """
        live = self._live.get(key)
        if live is not None:
            return live
        row = self._rows.get(key)
        return None if row is None else self.thaw_row(row)

    def discard(self) -> None:
        """Drop every row, live object, index, audit count and journal entry: the run is over.

        A finished partition's store is freed here at once, by reference counting. Its
        deployment's objects refer to each other (the bus and its ports, a unit of work
        and its repositories), so without this only the cyclic garbage collector frees
        the store, and it took about eight times as long (0.16 s against 0.02 s for a
        partition of 500 borrowers over 365 days), as it walks every object first.
        """
        with self.lock:
            for field in attrs.fields(type(self)):
                value = getattr(self, field.name)
                if isinstance(value, _EMPTIED):
                    value.clear()
            self.ledger = Ledger()
            self.commits = self._audit_count = 0

    def take_touched(self) -> list[Key]:
        """The keys written since the last call, in key order; the set starts empty again."""
        with self.lock:
            touched, self._touched = sorted(self._touched), set()
            return touched

    # The two row hooks run at every commit and at every read that misses the live set.

    def thaw_row(self, row: Any) -> Any:  # noqa: ANN401 - rows hold every aggregate type
        """A fresh aggregate from a stored row: a structural copy, or compressed bytes."""
        if type(row) is not bytes:
            return clone(row)
        return pickle.loads(zlib.decompress(row))  # noqa: S301 - our own bytes, never external input

    def freeze_row(self, aggregate: object) -> Any:  # noqa: ANN401 - rows hold every aggregate type
        """The row that stores `aggregate`.

        A structural copy (`clone`) sharing nothing that can change with it; with
        `compress_rows`, zlib-compressed pickle bytes instead.
        """
        if not self.compress_rows:
            return clone(aggregate)
        buffer = io.BytesIO()
        _RowPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(aggregate)
        return zlib.compress(buffer.getvalue(), 1)

    def write(self, key: Key, aggregate: object) -> None:
        """Store `aggregate` and keep the object itself live (when `keep_live` admits it)."""
        InMemoryDatabase.write(self, key, aggregate)  # not super(): one object fewer per write
        self._out.discard(key)
        if self.keep_live is not None and not self.keep_live(aggregate):
            self._live.pop(key, None)
        else:
            self._live[key] = aggregate
            self._live.move_to_end(key)
            if self.live_capacity is not None and len(self._live) > self.live_capacity:
                self._trim_live()  # only when over: every write and every read that copies
        self._touched.add(key)

    def remove(self, key: Key) -> None:
        """Delete an item, live object included, as DynamoDB's TTL does."""
        with self.lock:
            super().remove(key)
            self._live.pop(key, None)
            self._out.discard(key)

    def record_changes(
        self, changes: Sequence[Change], *, actor: str, request_id: str, at: dt.datetime
    ) -> None:
        """Keep an audit record of each change (with `keep_audit`), or only count them.

        A record holds the change as it is, so one nobody keeps need not be built.
        """
        if self.keep_audit:
            super().record_changes(changes, actor=actor, request_id=request_id, at=at)
        else:
            self._audit_count += len(changes)

    def _trim_live(self) -> None:
        capacity = self.live_capacity
        if capacity is None:
            return
        while len(self._live) > capacity:
            oldest = next(iter(self._live))
            if oldest in self._out:  # held by a unit of work: keep it, stop trimming
                break
            del self._live[oldest]
