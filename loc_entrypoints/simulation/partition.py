"""Partitioned runs: the book split into fixed ranges of borrowers, run apart, merged in order.

Borrowers do not interact, and everything a borrower is and does derives from the
scenario's seed and the borrower's number (its id, its ids and loan numbers, its draws,
the rail's and the crashes' draws, which key on the borrower's own idempotency keys). So
any range of borrowers can live in its own deployment, in any process or machine, and the
results add up to the whole book's: counts and money figures are sums, the daily series
add day by day, and the ledger digest is a digest of each borrower's own journal digest,
in borrower order. A single run is the one partition holding the whole book, merged the
same way, so a report does not depend on how the book was split.

`run_partitions` runs the partitions in local processes (`--workers N`); `run_on_cluster`
sends the same partitions to a Dask distributed cluster (`--cluster ADDRESS`).
"""

from __future__ import annotations

import collections
import contextlib
import gc
import hashlib
import importlib
import multiprocessing
import os
import queue as queues
import re
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import resource_tracker
from typing import TYPE_CHECKING, Any, Self

import attrs

from loc_adapters.logs import get_logger
from loc_entrypoints.simulation.borrowers import InvariantBroken
from loc_entrypoints.simulation.engine import Simulation, fewer_collections

if TYPE_CHECKING:
    from loc_core.ledger import Ledger
    from loc_entrypoints.simulation.scenario import Scenario
    from loc_entrypoints.simulation.world import World

__all__ = [
    "PARTITION_BORROWERS",
    "ClusterUnavailable",
    "ClusterUnreachable",
    "Partition",
    "PartitionFailed",
    "PartitionResult",
    "book_digest",
    "cluster_address",
    "merge",
    "partitions",
    "run_on_cluster",
    "run_partition",
    "run_partitions",
]

PARTITION_BORROWERS = 500
"""Borrowers per partition: fixed by the book, never by the number of workers, and small
enough that a few workers share the partitions evenly."""
RETRIES = 2
"""How many times a failed partition is run again before the run fails."""
_SUMMED = (
    "summary",
    "notifications",
    "refused_commands",
    "hardships",
    "warnings",
    "invariant_violations",
    "journal_entries",
    "audit_records",
    "recovery",
    "daily",
)
"""Report figures that add up over partitions; the rest describe the scenario."""
_POLL_SECONDS = 0.1
_log = get_logger(__name__)

Progress = Callable[[int], None]
"""Hears how many borrower-days of the whole book are done."""


class PartitionFailed(Exception):
    """A partition still failed after its retries: the run has no result."""

    def __init__(self, partition: Partition, attempts: int, error: BaseException) -> None:
        times = "once" if attempts == 1 else f"{attempts} times"
        super().__init__(
            f"partition {partition.number} (borrowers {partition.first}-{partition.last}) "
            f"failed {times}: {type(error).__name__}: {error}"
        )
        self.partition = partition
        self.attempts = attempts
        self.error = error


CONNECT_TIMEOUT_SECONDS = 30
"""How long to wait for a Dask scheduler to answer before giving up (Dask's own default)."""


class ClusterUnavailable(Exception):
    """The run cannot use the cluster asked for.

    Dask distributed is not installed (the ``cluster`` extra), or the address is not one
    a scheduler could have.
    """


class ClusterUnreachable(ClusterUnavailable):
    """No Dask scheduler answered at the address given; nothing ran."""


_SCHEDULER_ADDRESS = re.compile(
    r"(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})"
)
_IN_PROCESS = re.compile(r"inproc://[^/\s]+/\d+/\d+")
"""A scheduler's address as Dask takes it: optional scheme, host (or [IPv6]) and port; or
Dask's ``inproc://host/pid/n`` address of a scheduler in this very process (an embedding
program's)."""


def cluster_address(address: str) -> str:
    """`address` checked: ``local``, or a scheduler's ``[scheme://]host:port``.

    Raises:
        ClusterUnavailable: any other text, with what is expected.
    """
    text = address.strip()
    if text == "local":
        return text
    if _IN_PROCESS.fullmatch(text):
        return text
    match = _SCHEDULER_ADDRESS.fullmatch(text)
    if match is None or not 0 < int(match["port"]) < 65536:  # noqa: PLR2004 - the TCP port range
        raise ClusterUnavailable(
            f"--cluster {address!r} is not a Dask scheduler address: give 'local' or "
            "[tcp://]host:port, such as tcp://10.0.0.5:8786"
        )
    return text


def _answering(address: str) -> None:
    """Fail at once where no scheduler can answer: a host that does not resolve, a refused port.

    Dask's own connect retries both until its timeout (30 s of nothing); a plain TCP
    connection tells them apart in a moment. A host that does not answer at all still
    takes `CONNECT_TIMEOUT_SECONDS`. Addresses not over TCP (``local``, ``inproc://``,
    ``ucx://``) are left to Dask.

    Raises:
        ClusterUnreachable: naming the address and why.
    """
    match = _SCHEDULER_ADDRESS.fullmatch(address)
    if match is None or match["scheme"] == "ucx":
        return
    host, port = match["host"].strip("[]"), int(match["port"])
    why = None
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except socket.gaierror as exc:
        why = f"cannot resolve the host {host!r} ({exc.strerror or exc})"
    except TimeoutError:
        why = f"no answer within {CONNECT_TIMEOUT_SECONDS} s"
    except OSError as exc:
        why = (exc.strerror or str(exc)).lower()
    if why is not None:
        raise ClusterUnreachable(f"no Dask scheduler answered at {address}: {why}; nothing ran")


@attrs.frozen
class Partition:
    """A contiguous range of the book's borrowers, numbered from 1."""

    number: int
    """The partition's place in the book, from 0: results merge in this order."""
    first: int
    count: int

    @property
    def last(self) -> int:
        """The last borrower's number."""
        return self.first + self.count - 1

    @property
    def borrowers(self) -> range:
        """The borrowers' numbers."""
        return range(self.first, self.first + self.count)


def partitions(borrowers: int, size: int = PARTITION_BORROWERS) -> list[Partition]:
    """The book of `borrowers` in partitions of `size` borrowers (the last may be smaller)."""
    return [
        Partition(number, first, min(size, borrowers - first + 1))
        for number, first in enumerate(range(1, borrowers + 1, size))
    ]


@attrs.frozen
class PartitionResult:
    """What one partition's run returns: its report (no timing, no digest) and digests."""

    partition: Partition
    report: dict[str, Any]
    digests: list[str]
    """``<user id> <sha256 of the borrower's journal entries>``, in borrower order, for the
    borrowers with entries."""
    world: World | None = attrs.field(default=None, eq=False, repr=False)
    """The deployment the partition ran on, when asked to keep it (never sent back by a
    worker process: only a run in this process keeps it, for ``--documents``)."""


def run_partition(
    scenario: Scenario,
    partition: Partition,
    progress: Callable[[int], None] | None = None,
    *,
    keep_world: bool = False,
) -> PartitionResult:
    """Live `partition`'s borrowers through the scenario; `progress` hears each day's number.

    With `keep_world` the result carries the world the partition ran on.

    Raises:
        InvariantBroken: an invariant failed, naming the borrower and day.
    """
    with fewer_collections():
        simulation = Simulation.build(scenario, partition.borrowers)
        tally = simulation.run(progress)
        database = simulation.world.database
        report = tally.report(
            digest="", journal_entries=len(database.ledger), audit_records=database.audit_count
        )
        result = PartitionResult(
            partition,
            report,
            borrower_digests(database.ledger, simulation.book.products),
            simulation.world if keep_world else None,
        )
        if not keep_world:
            # The store's rows, indexes and journal are freed at once (`discard`); the
            # rest of the world's objects refer to each other (the bus, its handlers, the
            # ports), so only the cyclic collector frees them: now, while the run's
            # collector settings hold (a full collection then walks only what the run
            # made), not after the next partitions have piled up.
            database.discard()
            del simulation, database, tally
            gc.collect()
    return result


def borrower_digests(ledger: Ledger, products: dict[str, tuple[str, str]]) -> list[str]:
    """Each borrower's journal digest (entries in posting order), in borrower order.

    An entry belongs to the borrower of the loan or line it references; entries of no
    borrower's product (none in a simulation) are digested under ``-``.
    """
    hashers: dict[str, Any] = collections.defaultdict(hashlib.sha256)
    for entry in ledger:
        owner = products.get(entry.reference)
        hasher = hashers["-" if owner is None else owner[1]]
        hasher.update(
            f"{entry.entry_id}|{entry.kind}|{entry.effective_date.isoformat()}|"
            f"{entry.reference}\n".encode()
        )
        for p in entry.postings:
            hasher.update(f"  {p.account}|{p.side._value_}|{p.amount}\n".encode())
    return [f"{user_id} {hashers[user_id].hexdigest()}" for user_id in sorted(hashers)]


def book_digest(ledger: Ledger, products: dict[str, tuple[str, str]]) -> str:
    """The ledger digest of a run's whole journal, by the rule partitions merge by."""
    return _digest_of(borrower_digests(ledger, products))


def _digest_of(lines: Iterable[str]) -> str:
    """A SHA-256 over borrowers' journal digests (`borrower_digests` lines), in order."""
    hasher = hashlib.sha256()
    for line in lines:
        hasher.update(f"{line}\n".encode())
    return hasher.hexdigest()


def merge(scenario: Scenario, results: Iterable[PartitionResult]) -> dict[str, Any]:
    """The whole book's report from its partitions' (without `timing`).

    Figures add up; the ledger digest is a SHA-256 over every borrower's journal digest in
    borrower order (user ids sort in borrower order), so it does not depend on the split.
    """
    ordered = sorted(results, key=lambda result: result.partition.number)
    merged = dict(ordered[0].report)
    for result in ordered[1:]:
        for key in _SUMMED:
            merged[key] = _add(merged[key], result.report[key])
    merged["ledger_digest"] = _digest_of(line for result in ordered for line in result.digests)
    merged["scenario"] = scenario.to_dict()
    return merged


def _add(left: Any, right: Any) -> Any:  # noqa: ANN401 - any JSON value of a report
    """Two partitions' figures added: numbers summed, dicts by key, lists item by item."""
    if isinstance(left, dict):
        keys = list(left) + [key for key in right if key not in left]
        if list(left) == sorted(left) and list(right) == sorted(right):
            keys.sort()
        return {key: _add(left.get(key, 0), right.get(key, 0)) for key in keys}
    if isinstance(left, list):
        return [_add(a, b) for a, b in zip(left, right, strict=True)]
    if isinstance(left, str):
        if left != right:
            raise ValueError(f"partitions disagree: {left!r} != {right!r}")
        return left
    return left + right


# --- local processes ----------------------------------------------------------------------


def run_partitions(
    scenario: Scenario,
    *,
    workers: int,
    size: int = PARTITION_BORROWERS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the book's partitions in `workers` processes and merge them (no `timing`).

    No more processes start than there are partitions. An interruption (Ctrl-C reaches
    the whole process group) is this process's to handle: the workers ignore it, and
    whatever ends the run early stops them at once rather than letting their partitions
    finish.

    Raises:
        InvariantBroken: an invariant failed in a partition (as in a single run).
        PartitionFailed: a partition failed every attempt.
    """
    parts = partitions(scenario.borrowers, size)
    context = multiprocessing.get_context("spawn")
    with _interrupts_held():
        manager = context.Manager()
    with manager, _Workers(min(workers, len(parts)), context) as pool:
        channel = ProgressChannel(manager.Queue())

        def submit(part: Partition) -> Future[PartitionResult]:
            return pool.submit(_run_reporting, scenario, part, channel.queue)

        results = gather(parts, submit, channel=channel, progress=progress)
    if progress is not None:  # the whole book is done, whatever the workers managed to tell
        progress(scenario.borrower_days)
    return merge(scenario, results)


class _Workers:
    """A process pool that comes back after one of its processes dies.

    A worker killed from outside (the out-of-memory killer, an operator's ``kill -9``)
    breaks a `ProcessPoolExecutor` for good: every partition it held fails with
    `BrokenProcessPool` and it takes no more work. `gather` counts that failure as one
    attempt of each partition that was in the pool and submits them again; the first
    submit to the broken pool starts a fresh one in its place.
    """

    def __init__(self, workers: int, context: multiprocessing.context.SpawnContext) -> None:
        self._workers, self._context = workers, context
        self._pool = ProcessPoolExecutor(workers, mp_context=context)

    def submit(self, run: Callable[..., PartitionResult], *args: object) -> Future[PartitionResult]:
        """Submit ``run(*args)``, to a fresh pool if this one broke.

        A submit may start a worker process: it starts with interrupts held (`_interrupts_held`).
        """
        with _interrupts_held():
            try:
                return self._pool.submit(run, *args)
            except BrokenProcessPool:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = ProcessPoolExecutor(self._workers, mp_context=self._context)
                return self._pool.submit(run, *args)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        if exc_type is not None:  # the run is over: its partitions' work is lost anyway
            # The pool has no public way to stop a running task (`terminate_workers` came
            # in Python 3.14); without this, shutting down waits for every running partition.
            processes: dict[int, Any] = getattr(self._pool, "_processes", None) or {}
            for process in list(processes.values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


_HELD = (signal.SIGINT, signal.SIGTERM)
"""The signals `_interrupts_held` defers: Ctrl-C, and the SIGTERM `loc simulate` handles."""


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Defer Ctrl-C and SIGTERM meanwhile; a process started meanwhile never sees Ctrl-C.

    Ctrl-C sends SIGINT to every process of the terminal's foreground group, workers
    included: each would die printing its own traceback (one still importing, one mid-
    partition). A child inherits its parent's signal mask, so a worker started here with
    SIGINT blocked never sees it; SIGTERM stays deliverable (it is how workers are stopped).
    In this process a signal that comes meanwhile (to any of its threads: a mask is per
    thread) is only noted, and raised again once the block is over: a pool or a cluster is
    never left half started by an interruption inside its start.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks, no process groups
        yield
        return
    # The first process that needs multiprocessing's resource tracker starts it, and that
    # start unblocks SIGINT in its thread on the way out (`resource_tracker.ensure_running`):
    # started first, it cannot undo the hold (Dask's cluster started it inside, and its
    # workers then took Ctrl-C mid-import, each printing its own traceback).
    resource_tracker.ensure_running()
    heard: list[int] = []
    handlers: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():  # only it may set handlers
        handlers = {number: signal.signal(number, _noting(heard)) for number in _HELD}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
        for number, handler in handlers.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(heard):  # each once, in the order they came
            signal.raise_signal(number)


def _noting(heard: list[int]) -> Callable[[int, object], None]:
    def note(number: int, _frame: object) -> None:
        heard.append(number)

    return note


def _run_reporting(
    scenario: Scenario, partition: Partition, heard: queues.Queue[tuple[int, int]] | None
) -> PartitionResult:
    """`run_partition` in a worker process, each finished day told through `heard`.

    Progress is only shown, never part of the result: a lost channel (its manager process
    killed) stops the telling, not the partition; with none, nothing is told.
    """
    if heard is None:
        return run_partition(scenario, partition)

    def tell(day: int) -> None:
        with contextlib.suppress(OSError, EOFError):
            heard.put((partition.number, day))

    return run_partition(scenario, partition, tell)


class ProgressChannel:
    """The workers' ``(partition number, days done)`` messages, read without waiting.

    The channel is a manager process's queue. If that process dies, the run goes on
    without progress (logged once), as progress is only shown: `queue` is None from then
    on, so partitions submitted after it do not carry a queue nobody serves (unpickling
    its proxy in a worker would fail the partition).
    """

    def __init__(self, heard: queues.Queue[tuple[int, int]]) -> None:
        self._heard: queues.Queue[tuple[int, int]] | None = heard

    @property
    def queue(self) -> queues.Queue[tuple[int, int]] | None:
        """The queue to hand to a partition; None once the channel is lost."""
        return self._heard

    def drain(self) -> Iterator[tuple[int, int]]:
        """Every message waiting now."""
        while self._heard is not None:
            try:
                yield self._heard.get_nowait()
            except queues.Empty:
                return
            except (OSError, EOFError) as exc:
                _log.warning("progress from the workers lost; the run goes on", error=repr(exc))
                self._heard = None


def gather(
    parts: Sequence[Partition],
    submit: Callable[[Partition], Future[PartitionResult]],
    *,
    channel: ProgressChannel | None = None,
    progress: Progress | None = None,
    retries: int = RETRIES,
) -> list[PartitionResult]:
    """Submit every partition, retry the failed ones, and collect the results in order.

    `channel` brings ``(partition number, days done)`` from the workers; `progress` hears
    the borrower-days of the whole book done so far. A partition that broke an invariant
    fails the run at once (a rerun breaks it again); any other failure is retried
    `retries` times, then fails the run naming the partition. The channel is read before
    failed partitions are submitted again, so a retry never carries a channel found lost.

    Raises:
        InvariantBroken: an invariant failed in a partition.
        PartitionFailed: a partition failed every attempt.
    """
    days_done = dict.fromkeys(range(len(parts)), 0)
    pending = {submit(part): (part, 1) for part in parts}
    results: list[PartitionResult] = []

    def tell() -> None:
        for number, day in channel.drain() if channel is not None else ():
            days_done[number] = max(days_done[number], day)
        if progress is not None:
            progress(sum(days_done[part.number] * part.count for part in parts))

    while pending:
        done, _ = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
        tell()
        for future in done:
            part, attempt = pending.pop(future)
            error = future.exception()
            if error is None:
                results.append(future.result())
                continue
            if isinstance(error, InvariantBroken):
                raise error
            if attempt > retries:
                raise PartitionFailed(part, attempt, error) from error
            _log.warning(
                "partition failed; running it again",
                partition=part.number,
                borrowers=f"{part.first}-{part.last}",
                attempt=attempt,
                of=retries + 1,
                error=f"{type(error).__name__}: {error}",
            )
            pending[submit(part)] = (part, attempt + 1)
    tell()
    return sorted(results, key=lambda result: result.partition.number)


# --- Dask distributed ---------------------------------------------------------------------


def run_on_cluster(
    scenario: Scenario,
    address: str,
    *,
    size: int = PARTITION_BORROWERS,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the book's partitions on a Dask cluster and merge them (no `timing`).

    `address` is the scheduler's (``tcp://host:8786``), or ``local`` for a `LocalCluster`
    of `workers` processes (all cores when None) started for this run. Dask retries a
    failed partition `RETRIES` times; `progress` hears each partition as it finishes.

    Raises:
        ClusterUnavailable: the ``cluster`` extra is not installed, or `address` is not
            a scheduler address.
        ClusterUnreachable: no scheduler answered at `address`.
        InvariantBroken: an invariant failed in a partition.
        PartitionFailed: a partition failed every attempt.
    """
    address = cluster_address(address)
    try:
        distributed: Any = importlib.import_module("distributed")  # optional: the extra's
    except ModuleNotFoundError as exc:
        raise ClusterUnavailable(
            "--cluster needs Dask distributed: install the 'cluster' extra "
            "(pip install 'loc[cluster]')"
        ) from exc
    _answering(address)
    parts = partitions(scenario.borrowers, size)
    run = uuid.uuid4().hex  # task keys of this run alone, on a cluster others share
    processes = min(workers or os.cpu_count() or 1, len(parts))
    with (
        _scheduler(distributed, address, processes) as target,
        _client(distributed, target, address) as client,
    ):
        futures = {
            client.submit(
                run_partition,
                scenario,
                part,
                key=f"loc-simulate-{run}-{part.number}",
                retries=RETRIES,
                pure=False,
            ): part
            for part in parts
        }
        results: list[PartitionResult] = []
        done = 0
        for future in distributed.as_completed(futures):
            part = futures[future]
            try:
                result = future.result()
            except InvariantBroken:
                raise
            except Exception as exc:
                raise PartitionFailed(part, RETRIES + 1, exc) from exc
            results.append(result)
            done += part.count * scenario.days
            if progress is not None:
                progress(done)
    return merge(scenario, results)


@contextlib.contextmanager
def _client(distributed: Any, target: Any, address: str) -> Iterator[Any]:  # noqa: ANN401 - the untyped module
    """A Dask `Client` of `target`; a scheduler that does not answer is `ClusterUnreachable`."""
    try:
        client = distributed.Client(target, timeout=CONNECT_TIMEOUT_SECONDS)
    except ValueError as exc:  # an inproc:// address of another process's scheduler
        raise ClusterUnreachable(
            f"no Dask scheduler answered at {address}: {exc}; nothing ran"
        ) from exc
    except (OSError, TimeoutError) as exc:  # Dask raises OSError when the connect times out
        raise ClusterUnreachable(
            f"no Dask scheduler answered at {address} within {CONNECT_TIMEOUT_SECONDS} s: "
            f"{exc}; nothing ran"
        ) from exc
    with client:
        yield client


@contextlib.contextmanager
def _scheduler(distributed: Any, address: str, workers: int) -> Iterator[Any]:  # noqa: ANN401 - the untyped module
    """What `Client` connects to: `address`, or a `LocalCluster` of `workers` processes."""
    if address != "local":
        yield address
        return
    # Started with Ctrl-C held: its nannies and workers (and the event loop thread that
    # starts their replacements) inherit the held signal and leave it to this process,
    # and an interruption while the cluster starts waits until it can be closed whole.
    with contextlib.ExitStack() as started:
        with _interrupts_held():
            cluster = started.enter_context(
                distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, dashboard_address=None
                )
            )
        yield cluster
