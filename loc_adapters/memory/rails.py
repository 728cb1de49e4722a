"""A simulated payments service: seeded declines, settlement delays, returns, chargebacks.

Every outcome of a transfer is drawn from a random generator seeded with the rail's seed
and the transfer's idempotency key, so the same scenario gives the same outcomes whatever
order transfers are submitted in, on any machine.

Timing (on Federal Reserve business days, events at 12:00 UTC):

- ACH debits complete 1-3 business days after submission. An NSF return (``R01``) comes
  instead of or after completion, up to 2 business days after the settlement date; a rarer
  unauthorized return (``R10``) up to 60 days after it.
- Pinless debits complete on the day of submission; a chargeback can follow up to 60
  days later.
- Credits (disbursements, draws) complete the next business day (ACH) or the same day
  (RTP, pinless). With `RailBehaviour.credit_return_probability` (0 by default) one can
  come back 1-2 business days after completing (``R03``: no such account; a
  push-to-card or RTP payment to a closed account that the processor reverses).
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import threading

import attrs

from loc_core import calendar
from loc_core.errors import ExternalServiceError, InvalidConfiguration, RailUnavailable
from loc_core.payments import Direction, Rail, SettlementOutcome
from loc_core.ports import Clock, SettlementEvent, TransferRequest, TransferResult

_SETTLE_HOUR = dt.time(12, tzinfo=dt.UTC)


def _probability(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 <= value <= 1:
        raise InvalidConfiguration(f"{attribute.name} must be a probability in [0, 1], got {value}")


@attrs.frozen
class RailBehaviour:
    """How often the simulated rails decline and reverse; the defaults are mild."""

    decline_probability: float = attrs.field(default=0.02, validator=_probability)
    """A transfer refused at submission (closed account, card declined, NSF on pinless)."""
    nsf_return_probability: float = attrs.field(default=0.04, validator=_probability)
    """An ACH debit returned for insufficient funds within 2 business days of settling."""
    unauthorized_return_probability: float = attrs.field(default=0.002, validator=_probability)
    """An ACH debit returned as unauthorized, up to 60 days after settling."""
    chargeback_probability: float = attrs.field(default=0.005, validator=_probability)
    """A pinless debit charged back, up to 60 days after it completed."""
    credit_return_probability: float = attrs.field(default=0.0, validator=_probability)
    """A credit (a loan's disbursement, a draw) returned by the borrower's bank 1-2 business
    days after it completed. Off by default: what a lender sees rarely, and a scenario
    asks for."""


SIMULATED_TIMEOUT = dt.timedelta(seconds=10)
"""The timeout the simulated rails declare: a typical payments client's read timeout."""


@attrs.define
class SimulatedRails:
    """`PaymentRails` for tests and simulations, with settlement events to collect."""

    clock: Clock
    seed: int = 0
    behaviour: RailBehaviour = attrs.field(factory=RailBehaviour)
    down: set[Rail] = attrs.field(factory=set)
    """Rails that cannot be reached: they take nothing and raise `RailUnavailable`."""
    remember: dt.timedelta | None = None
    """How long an idempotency key is remembered; None: for ever. A long simulation sets
    it (a key is only ever retried within days) so memory stays bounded."""
    timeout: dt.timedelta = attrs.field(default=SIMULATED_TIMEOUT, kw_only=True)
    """The longest one call may take (`PaymentRails.timeout`); the simulated rail answers at
    once, so this only declares what a deployment's client would allow."""
    submitted: list[TransferRequest] = attrs.field(factory=list, init=False)
    """Every transfer that moved money, once each (since the last `take_submitted`)."""
    _accepted: int = attrs.field(default=0, init=False)
    _keys_by_age: collections.deque[tuple[dt.datetime, str]] = attrs.field(
        factory=collections.deque, init=False
    )
    _results: dict[str, tuple[TransferRequest, TransferResult]] = attrs.field(
        factory=dict, init=False
    )
    _pending: list[SettlementEvent] = attrs.field(factory=list, init=False)
    _guard: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False, eq=False)
    """Makes each call atomic (as the service it stands for does), so threads may share it."""

    def submit(self, request: TransferRequest) -> TransferResult:
        """Accept or decline once per idempotency key; repeats return the first answer."""
        with self._guard:
            known = self._results.get(request.idempotency_key)
            if known is not None:
                if known[0] != request:
                    raise ExternalServiceError(
                        f"idempotency key {request.idempotency_key!r} reused for another transfer"
                    )
                return known[1]
            if request.rail in self.down:
                raise RailUnavailable(f"{request.rail.value} rail unreachable")
            if request.rail is Rail.RTP and request.direction is Direction.DEBIT:
                raise ExternalServiceError("RTP cannot collect: it only sends credits")
            draw = random.Random(f"{self.seed}:{request.idempotency_key}")  # noqa: S311 - simulation, not security
            if draw.random() < self.behaviour.decline_probability:
                result = TransferResult(
                    accepted=False, decline_reason="declined by the simulated rail"
                )
            else:
                self._accepted += 1
                confirmation = f"{request.rail.value}-{self._accepted:08d}"
                result = TransferResult(
                    accepted=True,
                    confirmation_id=confirmation,
                    amount=request.amount,
                    direction=request.direction,
                    accepted_at=self.clock.now(),
                )
                self.submitted.append(request)
                self._schedule(request, confirmation, draw)
            self._results[request.idempotency_key] = (request, result)
            self._forget_old_keys(request.idempotency_key)
            return result

    def find(self, idempotency_key: str) -> TransferResult | None:
        """The first answer to the transfer with this key; None if none was received.

        A key forgotten after `remember` reads as never received.
        """
        known = self._results.get(idempotency_key)
        return None if known is None else known[1]

    def request(self, idempotency_key: str) -> TransferRequest | None:
        """The transfer first received with this key; None if none was (or it is forgotten)."""
        known = self._results.get(idempotency_key)
        return None if known is None else known[0]

    def take_submitted(self) -> list[TransferRequest]:
        """Hand over the transfers that moved money since the last call, and forget them."""
        with self._guard:
            taken, self.submitted = self.submitted, []
            return taken

    def _forget_old_keys(self, newest: str) -> None:
        if self.remember is None:
            return
        now = self.clock.now()
        ages = self._keys_by_age
        ages.append((now, newest))
        while ages and ages[0][0] < now - self.remember:
            _, key = ages.popleft()
            self._results.pop(key, None)

    def due_events(self) -> list[SettlementEvent]:
        """Hand over, oldest first, the settlement events whose time has come."""
        with self._guard:
            now = self.clock.now()
            due = [event for event in self._pending if event.occurred_at <= now]
            self._pending = [event for event in self._pending if event.occurred_at > now]
            return sorted(due, key=lambda event: (event.occurred_at, event.event_id))

    def _schedule(self, request: TransferRequest, confirmation: str, draw: random.Random) -> None:
        today = self.clock.now().date()
        behaviour = self.behaviour

        def event(outcome: SettlementOutcome, on: dt.date, code: str = "") -> None:
            self._pending.append(
                SettlementEvent(
                    event_id=f"{confirmation}:{outcome.value}",
                    idempotency_key=request.idempotency_key,
                    confirmation_id=confirmation,
                    rail=request.rail,
                    outcome=outcome,
                    occurred_at=dt.datetime.combine(on, _SETTLE_HOUR),
                    return_code=code,
                )
            )

        if request.direction is Direction.CREDIT:
            days = 1 if request.rail is Rail.ACH else 0
            completes = calendar.add_business_days(today, days)
            event(SettlementOutcome.COMPLETED, completes)
            chance = behaviour.credit_return_probability
            if chance and draw.random() < chance:
                returned = calendar.add_business_days(completes, draw.randint(1, 2))
                event(SettlementOutcome.RETURNED, returned, "R03")
            return
        if request.rail is Rail.PINLESS:
            event(SettlementOutcome.COMPLETED, today)
            if draw.random() < behaviour.chargeback_probability:
                later = today + dt.timedelta(days=draw.randint(1, 60))
                event(SettlementOutcome.CHARGED_BACK, calendar.on_or_after(later), "chargeback")
            return
        settles = calendar.add_business_days(today, draw.randint(1, 3))
        roll = draw.random()
        if roll < behaviour.nsf_return_probability:
            returned = calendar.add_business_days(settles, draw.randint(0, 2))
            if returned > settles:
                event(SettlementOutcome.COMPLETED, settles)
            event(SettlementOutcome.RETURNED, returned, "R01")
            return
        event(SettlementOutcome.COMPLETED, settles)
        if roll < behaviour.nsf_return_probability + behaviour.unauthorized_return_probability:
            later = calendar.on_or_after(settles + dt.timedelta(days=draw.randint(3, 60)))
            event(SettlementOutcome.RETURNED, later, "R10")
