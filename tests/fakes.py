"""The shared fakes of the test suite: one function-driven rail fake, and the faults tests inject.

`FakeRails(handler)` is to `PaymentRails` what `httpx.MockTransport(handler)` is to an
HTTP client: the test says, as a function of the request, what the rail answers (or
raises). The handlers below build the usual troubles on top of a real simulated rail;
a test combines them or writes its own lambda. At the end: the offers, lines and
settlement events many tests start from, each naming only what it changes.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Self

import attrs
import pytest

from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from loc_core.creditline import CreditLine, CreditLineApplication, CreditLineProduct
from loc_core.disclosures import StatementDisclosure, statement_disclosure
from loc_core.errors import ExternalServiceError
from loc_core.events import DomainEvent
from loc_core.installment import InstallmentProduct, Loan, LoanApplication, OriginationFee
from loc_core.intents import IntentStatus, TransferIntent
from loc_core.ledger import Ledger
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import (
    IntentRef,
    Lease,
    Lock,
    Notifier,
    PaymentRails,
    SettlementEvent,
    TransferRequest,
    TransferResult,
    UnitOfWork,
)

__all__ = [
    "Crash",
    "CrashingNotifier",
    "CrashingOnBooking",
    "CrashingUnitOfWork",
    "FakeRails",
    "InterferingUnitOfWork",
    "RailHandler",
    "SerialLock",
    "bare_line",
    "billed_disclosure",
    "crash_after",
    "declining",
    "dying_after_acceptance",
    "dying_before",
    "line_offer",
    "loan_offer",
    "meanwhile",
    "opened_line",
    "refused",
    "serial",
    "settlement",
    "statement_adds_up",
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
    behind: PaymentRails | None = None
    """The rail that really moves the money, when the handler wraps one: `find` asks it."""
    calls: list[TransferRequest] = attrs.field(factory=list)
    answered: dict[str, TransferResult] = attrs.field(factory=dict)
    """The answer the caller received for each key (not one lost to a fault)."""
    timeout: dt.timedelta = attrs.field(default=dt.timedelta(seconds=10), kw_only=True)
    """What the fake declares as its longest call (`PaymentRails.timeout`)."""

    def submit(self, request: TransferRequest) -> TransferResult:
        """Record the request and answer what the handler says."""
        self.calls.append(request)
        result = self.handler(request)
        self.answered.setdefault(request.idempotency_key, result)
        return result

    def find(self, idempotency_key: str) -> TransferResult | None:
        """What the rail behind answered to the key, else the answer the caller got.

        A handler that answers for the rail (`declining`) never reaches the rail behind,
        but the rail keeps its answer all the same: that answer is found too.
        """
        if self.behind is not None:
            found = self.behind.find(idempotency_key)
            if found is not None:
                return found
        return self.answered.get(idempotency_key)

    @property
    def rails_asked(self) -> list[Rail]:
        """The rail of every request, in order."""
        return [request.rail for request in self.calls]


class Silent(FakeRails):
    """Rails that take transfers but can never say what they did with a key (`find`)."""

    def find(self, idempotency_key: str) -> TransferResult | None:
        """Fail as a rail that cannot tell does."""
        raise ExternalServiceError(f"the rail did not answer for {idempotency_key}")


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


def dying_before(inner: PaymentRails) -> RailHandler:
    """The caller dies before its first request reaches the rail (nothing moves), once."""
    left = [True]

    def handle(request: TransferRequest) -> TransferResult:
        if left:
            left.pop()
            raise Crash(f"crashed before asking {request.rail.value}")
        return inner.submit(request)

    return handle


def dying_after_acceptance(inner: PaymentRails) -> RailHandler:
    """The first rail that accepts moves the money, then the caller dies, once (any rail)."""

    def die(request: TransferRequest) -> None:
        raise Crash(f"crashed after {request.rail.value} accepted")

    return meanwhile(inner, die)


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
    """Dies instead of writing on its `on_commit`-th commit (and the `crashes - 1` after it).

    With `after_write`, it dies just after that commit wrote, before anything is published.
    """

    def __init__(
        self,
        database: InMemoryDatabase,
        *,
        on_commit: int = 1,
        crashes: int = 1,
        after_write: bool = False,
    ) -> None:
        super().__init__(database)
        self.countdown = on_commit
        self.crashes = crashes
        self.after_write = after_write

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        self.countdown -= 1
        if self.countdown <= 0 and self.crashes > 0:
            self.crashes -= 1
            if self.after_write:
                super().commit(actor=actor, request_id=request_id)
                raise Crash("the process died as its commit returned")
            raise Crash("the process died before the commit")
        return super().commit(actor=actor, request_id=request_id)


class CrashingOnBooking:
    """A unit of work (wrapping any adapter's) that dies at the commit booking a transfer.

    The booking commit is the one that moves a transfer intent from PENDING to BOOKED,
    whatever number it has in the command. It dies once: instead of writing, or with
    `after_commit` just after the write succeeded (before anything is published).
    """

    def __init__(
        self,
        inner: UnitOfWork,
        *,
        after_commit: bool = False,
        failure: Callable[[], Exception] | None = None,
    ) -> None:
        self.inner = inner
        self.after_commit = after_commit
        self.failure = failure
        """What the booking commit raises instead of writing (default: a `Crash`)."""
        self.crashed = False
        self.read: dict[str, IntentStatus] = {}
        """The status of each intent as this unit of work read it."""
        self.booking = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> Self:
        self.inner.__enter__()
        self.read.clear()
        self.booking = False
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.inner.__exit__(*exc_info)

    @property
    def intents(self) -> _WatchedIntents:
        """The inner intents, watched for a PENDING intent saved as BOOKED."""
        return _WatchedIntents(self)

    def commit(self, *, actor: str, request_id: str) -> list[DomainEvent]:
        """Die at the first booking commit (before or after writing); write any other."""
        if not self.booking or self.crashed:
            return self.inner.commit(actor=actor, request_id=request_id)
        self.crashed = True
        if self.after_commit:
            self.inner.commit(actor=actor, request_id=request_id)
            raise Crash("the process died as the booking's commit returned")
        if self.failure is not None:
            raise self.failure()
        raise Crash("the process died at the booking's commit")


@attrs.frozen
class _WatchedIntents:
    uow: CrashingOnBooking

    def _seen(self, intent: TransferIntent | None) -> TransferIntent | None:
        if intent is not None:
            self.uow.read.setdefault(intent.intent_id, intent.status)
        return intent

    def get(self, user_id: str, intent_id: str) -> TransferIntent:
        intent = self.uow.inner.intents.get(user_id, intent_id)
        self._seen(intent)
        return intent

    def find(self, intent_id: str) -> TransferIntent | None:
        return self._seen(self.uow.inner.intents.find(intent_id))

    def add(self, intent: TransferIntent) -> None:
        self.uow.inner.intents.add(intent)

    def save(self, intent: TransferIntent) -> None:
        was = self.uow.read.get(intent.intent_id)
        if was is IntentStatus.PENDING and intent.status is IntentStatus.BOOKED:
            self.uow.booking = True
        self.uow.inner.intents.save(intent)

    def open_before(self, before: dt.datetime) -> list[IntentRef]:
        return self.uow.inner.intents.open_before(before)

    def open_for(self, user_id: str, account_id: str) -> list[TransferIntent]:
        found = self.uow.inner.intents.open_for(user_id, account_id)
        for intent in found:
            self._seen(intent)
        return found


@attrs.define
class CrashingNotifier:
    """A `Notifier` whose process dies at its `on`-th notification (not sent), once."""

    inner: Notifier
    on: int = 1
    crashed: bool = False

    def notify(self, event: DomainEvent) -> None:
        """Die instead of the `on`-th notification; send every other one."""
        self.on -= 1
        if self.on == 0:
            self.crashed = True
            raise Crash(f"the process died publishing {event.type.value}")
        self.inner.notify(event)


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


@contextmanager
def refused(entity: object, error: type[Exception], match: str | None = None) -> Iterator[None]:
    """The block must raise `error` (matching `match`) and leave `entity` as it was."""
    before = copy.deepcopy(entity)
    with pytest.raises(error, match=match):
        yield
    assert entity == before, "a refused command changed what it was refused on"


# --- the data tests start from ---------------------------------------------------------


def line_offer(
    created_at: dt.datetime,
    *,
    application_id: str = "app-1",
    user_id: str = "user-1",
    credit_limit: int = 50_000,
    apr: Decimal = Decimal("29.99"),
    minimum_payment_percent: Decimal = Decimal(3),
) -> CreditLineApplication:
    """An approved line application made at `created_at` for the default product."""
    return CreditLineApplication.approved(
        application_id=application_id,
        user_id=user_id,
        created_at=created_at,
        credit_limit=credit_limit,
        apr=apr,
        minimum_payment_percent=minimum_payment_percent,
        product=CreditLineProduct(),
    )


def opened_line(
    offer: CreditLineApplication, *, line_id: str = "line-1", cycle_day: int | None = None
) -> CreditLine:
    """The line `offer` opens the moment it is made."""
    return offer.open_line(
        line_id=line_id, now=offer.created_at, product=CreditLineProduct(), cycle_day=cycle_day
    )


def bare_line(
    opened_on: dt.date,
    *,
    apr: Decimal,
    minimum_payment_percent: Decimal = Decimal(2),
    credit_limit: int = 100_000,
) -> CreditLine:
    """A line with these terms and nothing owed, built directly; it bills on the day it opened."""
    return CreditLine(
        line_id="line-1",
        user_id="user-1",
        application_id="app-1",
        opened_on=opened_on,
        credit_limit=credit_limit,
        apr=apr,
        minimum_payment_percent=minimum_payment_percent,
        cycle_day=opened_on.day,
    )


def loan_offer(
    now: dt.datetime,
    *,
    application_id: str = "app-1",
    fee: OriginationFee = OriginationFee.fixed(1_500),  # noqa: B008 - a frozen value object
) -> LoanApplication:
    """An approved $300.00 loan offer to user-1 made at `now` for the default product."""
    return LoanApplication.approve(
        product=InstallmentProduct(),
        user_id="user-1",
        application_id=application_id,
        loan_number="FM-000001",
        loan_amount=30_000,
        fee=fee,
        now=now,
    )


def settlement(
    key: str, outcome: SettlementOutcome, at: dt.datetime, rail: Rail
) -> SettlementEvent:
    """The rail's word on the transfer with idempotency key `key` (a return says R01)."""
    return SettlementEvent(
        event_id=f"{key}:{outcome.value}",
        idempotency_key=key,
        confirmation_id="conf",
        rail=rail,
        outcome=outcome,
        occurred_at=at,
        return_code="R01" if outcome is SettlementOutcome.RETURNED else "",
    )


def billed_disclosure(
    line: CreditLine, close: dt.date, product: CreditLineProduct | None = None
) -> StatementDisclosure:
    """Bill `line`'s cycle closing `close` on that day and disclose its statement."""
    product = product or CreditLineProduct()
    statement = line.bill_cycle(close_date=close, today=close, product=product)
    assert statement is not None
    return statement_disclosure(
        statement,
        credit_limit=line.credit_limit,
        product=product,
        minimum_payment_percent=line.minimum_payment_percent,
    )


def statement_adds_up(figures: StatementDisclosure) -> bool:
    """Whether the summary and the transaction rows both give the new balance (1026.7(b)).

    Previous + draws + fees + interest + reversals - payments + adjustments, and previous
    + interest + every row's signed amount, both equal the new balance.
    """
    summary = (
        figures.previous_balance
        + figures.draws
        + figures.fees_charged
        + figures.interest_charged
        + figures.reversals
        - figures.payments
        + figures.adjustments
    )
    rows = figures.previous_balance + figures.interest_charged
    rows += sum(row.amount for row in figures.transactions)
    return summary == rows == figures.new_balance


def returned(loan: Loan, ledger: Ledger, payment_id: str, *, today: dt.date) -> None:
    """What the settlement handler does with a return: settle, then correct."""
    outcome = (
        SettlementOutcome.RETURNED
        if loan.payments[payment_id].rail is Rail.ACH
        else SettlementOutcome.CHARGED_BACK
    )
    payment = loan.settle(payment_id, outcome, today=today)
    loan.correct(
        cause=f"{payment_id}:{outcome.value.lower()}",
        effective=payment.submitted_on,
        today=today,
        posted=list(ledger),
        reason=f"payment {payment_id} {outcome.value}",
    )
