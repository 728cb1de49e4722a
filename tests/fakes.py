"""The shared fakes of the test suite: one function-driven rail fake, and the faults tests inject.

`FakeRails(handler)` is to `PaymentRails` what `httpx.MockTransport(handler)` is to an
HTTP client: the test says, as a function of the request, what the rail answers (or
raises). The handlers below build the usual troubles on top of a real simulated rail;
a test combines them or writes its own lambda.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Collection

import attrs

from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from loc_core.errors import ExternalServiceError
from loc_core.events import DomainEvent
from loc_core.payments import Rail
from loc_core.ports import Lease, Lock, PaymentRails, TransferRequest, TransferResult

__all__ = [
    "Crash",
    "CrashingUnitOfWork",
    "FakeRails",
    "InterferingUnitOfWork",
    "RailHandler",
    "SerialLock",
    "crash_after",
    "declining",
    "meanwhile",
    "serial",
    "then",
    "timing_out",
]

RailHandler = Callable[[TransferRequest], TransferResult]
"""What a rail answers to a request (it may raise, as a rail's client does)."""


class Crash(Exception):
    """The process died: whatever was not committed is lost."""


@attrs.define
class FakeRails:
    """`PaymentRails` answering through `handler`; every request is kept in `calls`."""

    handler: RailHandler
    calls: list[TransferRequest] = attrs.field(factory=list)

    def submit(self, request: TransferRequest) -> TransferResult:
        """Record the request and answer what the handler says."""
        self.calls.append(request)
        return self.handler(request)

    @property
    def rails_asked(self) -> list[Rail]:
        """The rail of every request, in order."""
        return [request.rail for request in self.calls]


def declining(
    inner: PaymentRails, rails: Collection[Rail], reason: str = "declined"
) -> RailHandler:
    """New transfers on `rails` are declined; a repeated key keeps its first answer."""
    answered: dict[str, TransferResult] = {}

    def handle(request: TransferRequest) -> TransferResult:
        known = answered.get(request.idempotency_key)
        if known is not None:
            return known
        if request.rail in rails:
            result = TransferResult(accepted=False, decline_reason=f"{request.rail.value} {reason}")
        else:
            result = inner.submit(request)
        answered[request.idempotency_key] = result
        return result

    return handle


def then(
    inner: PaymentRails, after: Callable[[TransferRequest, TransferResult], None]
) -> RailHandler:
    """Ask `inner`, then run `after` on the request and the answer (once per request)."""

    def handle(request: TransferRequest) -> TransferResult:
        result = inner.submit(request)
        after(request, result)
        return result

    return handle


def _once(
    on: Collection[Rail], error: Callable[[Rail], Exception]
) -> Callable[[TransferRequest, TransferResult], None]:
    left = set(on)

    def after(request: TransferRequest, _result: TransferResult) -> None:
        if request.rail in left:
            left.discard(request.rail)
            raise error(request.rail)

    return after


def crash_after(inner: PaymentRails, rails: Collection[Rail]) -> RailHandler:
    """The rail answers (money moved), then the caller dies, once per rail in `rails`."""
    return then(inner, _once(rails, lambda rail: Crash(f"crashed after {rail.value} answered")))


def timing_out(inner: PaymentRails, rails: Collection[Rail]) -> RailHandler:
    """The rail takes the transfer, then the answer is lost (an `ExternalServiceError`), once."""
    return then(
        inner,
        _once(
            rails,
            lambda rail: ExternalServiceError(f"{rail.value} timed out after the request was sent"),
        ),
    )


def serial(inner: PaymentRails) -> RailHandler:
    """`inner` made safe to share between threads (a real rail is one remote service)."""
    guard = threading.Lock()

    def handle(request: TransferRequest) -> TransferResult:
        with guard:
            return inner.submit(request)

    return handle


class CrashingUnitOfWork(InMemoryUnitOfWork):
    """Dies instead of writing on its `on_commit`-th commit (and the `crashes - 1` after it)."""

    def __init__(self, database: InMemoryDatabase, *, on_commit: int = 1, crashes: int = 1) -> None:
        super().__init__(database)
        self.countdown = on_commit
        self.crashes = crashes

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        self.countdown -= 1
        if self.countdown <= 0 and self.crashes > 0:
            self.crashes -= 1
            raise Crash("the process died before the commit")
        return super().commit(actor=actor, request_id=request_id)


class InterferingUnitOfWork(InMemoryUnitOfWork):
    """Runs `interfere` (another writer, committing first) just before its first `times` commits."""

    def __init__(
        self, database: InMemoryDatabase, interfere: Callable[[], object], times: int = 1
    ) -> None:
        super().__init__(database)
        self.interfere = interfere
        self.times = times

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        if self.times > 0:
            self.times -= 1
            self.interfere()
        return super().commit(actor=actor, request_id=request_id)


@attrs.define
class SerialLock:
    """A lock adapter safe to share between threads (DynamoDB's conditional put is atomic)."""

    lock: Lock
    guard: threading.Lock = attrs.field(factory=threading.Lock)

    def acquire(self, key: str, *, owner: str, ttl: dt.timedelta) -> Lease:
        with self.guard:
            return self.lock.acquire(key, owner=owner, ttl=ttl)

    def heartbeat(self, lease: Lease, *, ttl: dt.timedelta) -> Lease:
        with self.guard:
            return self.lock.heartbeat(lease, ttl=ttl)

    def release(self, lease: Lease) -> bool:
        with self.guard:
            return self.lock.release(lease)


def meanwhile(inner: PaymentRails, action: Callable[[TransferRequest], object]) -> RailHandler:
    """Ask `inner`; after the first transfer it accepts, run `action` once.

    `action` is what happens between a caller's rail call and its commit: another writer
    committing first, a stall past a lease, a second request for the same thing.
    """
    pending = [action]

    def after(request: TransferRequest, result: TransferResult) -> None:
        if result.accepted and pending:
            pending.pop()(request)

    return then(inner, after)
