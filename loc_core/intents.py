"""Transfer intents: what the library is about to do with a borrower's money, written first.

Before any rail is asked to move money, the command that moves it commits a
`TransferIntent`: whose money, how much, which way, the rails in order, the transfer key
on each rail and the fingerprint of the request that asked for it. From then on the
intent is the recovery point of the movement (as a Stripe-style idempotency key's record
is):

- a retry of the command finds the intent and resumes it: the same transfer keys, so a
  rail that moved the money answers with its first answer and nothing moves twice;
- a request that reuses the key for something else is refused (`IdempotencyConflict`),
  because the fingerprint is stored with the intent, not in the process that died;
- the booking of the money commits together with the intent's move to BOOKED, so an
  intent still PENDING after its lease ran out names money that may have moved and is
  not booked; the recovery job asks the rails about it and finishes it;
- a rail's settlement event for a transfer whose booking is still pending is held on the
  intent and applied when the booking lands.

Transfer keys keep the original service's shapes: the key on a rail is the intent id,
``:``, and the rail (``manual:<loan>:<client key>:pinless``), so an event's key names
its intent without parsing any id out of it (`intent_id_of`).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from typing import TYPE_CHECKING

import attrs

from loc_core.errors import IdempotencyConflict, InvalidTransition, Ref
from loc_core.events import DomainEvent
from loc_core.payments import Direction, Rail

if TYPE_CHECKING:  # the ports import this module: only the type is needed here
    from loc_core.ports.money_movement import SettlementEvent

__all__ = [
    "INTENT_RETENTION",
    "IntentKind",
    "IntentStatus",
    "TransferIntent",
    "intent_id_of",
    "request_fingerprint",
]


INTENT_RETENTION = dt.timedelta(days=90)
"""How long a finished intent (not `TransferIntent.is_open`) is kept after its last change.

Long enough to answer a retry of its request and to match a late settlement event (ACH
returns for unauthorized debits arrive up to 60 days later); storage may delete it after.
"""


class IntentKind(enum.Enum):
    """Which money movement an intent is for: it says how the money is booked."""

    DISBURSEMENT = "disbursement"
    """A loan's proceeds to the borrower (accepting an offer); account: the application."""
    LOAN_PAYMENT = "loan_payment"
    """A borrower's manual payment on a loan; account: the loan."""
    AUTOPAY = "autopay"
    """An autopay charge of one installment; account: the loan, item: the installment."""
    DRAW = "draw"
    """A draw on a line to the borrower; account: the line, item: the draw."""
    LINE_PAYMENT = "line_payment"
    """A borrower's payment on a line; account: the line."""
    DUE_PAYMENT = "due_payment"
    """The due job's debit of a line's minimum; account: the line."""


class IntentStatus(enum.Enum):
    """Where an intent stands."""

    PENDING = "PENDING"
    """Recorded; a rail may have moved the money, and nothing is booked yet."""
    BOOKED = "BOOKED"
    """The money a rail moved is booked (in the same commit as this status)."""
    ABANDONED = "ABANDONED"
    """No rail moved the money (declined, unreachable, or never asked): nothing to book."""


# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_PENDING, _BOOKED, _ABANDONED = IntentStatus.PENDING, IntentStatus.BOOKED, IntentStatus.ABANDONED


def intent_id_of(transfer_key: str) -> str | None:
    """The intent a transfer key belongs to (the key less its last field, the rail)."""
    stem, separator, rail = transfer_key.rpartition(":")
    if not separator or not stem or rail not in _RAIL_VALUES:
        return None
    return stem


_RAIL_VALUES = frozenset(rail.value for rail in Rail)


def request_fingerprint(*parts: object) -> str:
    """A digest of what a request asked for, to catch a key reused for another request."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@attrs.define(kw_only=True)
class TransferIntent:
    """One money movement the library committed to before asking any rail."""

    intent_id: str
    """The stem of every transfer key: the key on `rail` is ``<intent_id>:<rail>``."""
    user_id: str
    kind: IntentKind
    account_id: str
    """The loan application (disbursement), loan or line the money is for."""
    item_id: str = ""
    """The installment (autopay) or draw the movement serves, when it serves one; for a
    disbursement, the borrower's autopay choice (``autopay`` or ``manual``)."""
    direction: Direction
    amount: int
    rails: tuple[Rail, ...]
    """The rails to ask, in order."""
    fingerprint: str
    """The request's digest (`request_fingerprint`); a repeat must match it."""
    request_key: str
    """The client's idempotency key, or the job run that made the intent."""
    created_at: dt.datetime
    updated_at: dt.datetime
    status: IntentStatus = IntentStatus.PENDING
    accepted_rail: Rail | None = None
    """The rail that took the money, once known."""
    confirmation_id: str = ""
    outcome: str = ""
    """What became of it: the booked payment or draw, or why nothing moved."""
    held_events: list[SettlementEvent] = attrs.field(factory=list)
    """Settlement events that arrived before the booking, applied when it lands."""
    to_publish: list[DomainEvent] = attrs.field(factory=list)
    """The booking's domain events, kept (in the booking's commit) until they are published."""
    version: int = 0

    def transfer_key(self, rail: Rail) -> str:
        """The idempotency key of this movement's transfer on `rail`."""
        return f"{self.intent_id}:{rail._value_}"  # `.value` without the property's call

    @property
    def transfer_keys(self) -> tuple[str, ...]:
        """Every transfer key, in rail order."""
        return tuple(self.transfer_key(rail) for rail in self.rails)

    @property
    def is_open(self) -> bool:
        """Whether work is left: a booking (PENDING), events to publish, or held events to apply.

        Held settlement events are work only on a BOOKED intent (they reverse or complete
        its booking). An ABANDONED one keeps them as the record of what its rail reported
        and applies nothing (nothing was booked to reverse): open for them, it would stay in
        the recovery job's index and its account's for good, examined and alerted on every
        run. Retried (`reopen`), it is PENDING and its booking applies them.
        """
        return (
            self.status is _PENDING
            or bool(self.to_publish)
            or (self.status is _BOOKED and bool(self.held_events))
        )

    def require_same_request(self, fingerprint: str, *, amount: int) -> None:
        """Refuse a request (for `amount` cents) that reuses this intent's key otherwise.

        Raises:
            IdempotencyConflict: when `fingerprint` is not the stored one.
        """
        if fingerprint != self.fingerprint:
            raise IdempotencyConflict(
                f"idempotency key {self.request_key!r} was used for another request: "
                f"a {self.kind.value} of {self.amount} cents on {self.account_id}, "
                f"not {amount}",
                about=Ref("intent", self.intent_id, self.user_id),
                key=self.request_key,
            )

    def reopen(self, now: dt.datetime) -> None:
        """Try an ABANDONED movement again (a retry of a declined request), same keys."""
        if self.status is _ABANDONED:
            self.status = _PENDING
            self.outcome = ""
            self.updated_at = now

    def book(
        self,
        *,
        rail: Rail,
        confirmation_id: str,
        outcome: str,
        events: list[DomainEvent],
        now: dt.datetime,
    ) -> None:
        """Record that the money `rail` moved is booked (in the booking's own commit).

        `events` are the booking's domain events, kept until `published` says they went out.

        Raises:
            InvalidTransition: when the intent was already finished another way.
        """
        if self.status is _BOOKED:
            return
        self._require_pending("booked")
        self.status = _BOOKED
        self.accepted_rail = rail
        self.confirmation_id = confirmation_id
        self.outcome = outcome
        self.to_publish = [*self.to_publish, *events]
        self.updated_at = now

    def note(self, events: list[DomainEvent], now: dt.datetime) -> None:
        """Keep `events` to publish once the movement is settled, whoever settles it.

        An operator's alert about settling it by hand is noted on the PENDING intent in a
        commit before the settlement: the booking's events join it, an abandonment keeps
        it, and whoever finishes the intent (the command, or the recovery job after a
        crash) publishes it with them, once. Noting again replaces what was noted.

        Raises:
            InvalidTransition: when the intent is not PENDING.
        """
        self._require_pending("noted")
        self.to_publish = list(events)
        self.updated_at = now

    def published(self, now: dt.datetime) -> None:
        """The booking's events went out; nothing is left to do."""
        self.to_publish = []
        self.updated_at = now

    def abandon(self, reason: str, *, now: dt.datetime) -> None:
        """Record that no rail moved the money, so there is nothing to book.

        Raises:
            InvalidTransition: when the intent was booked.
        """
        if self.status is _ABANDONED:
            return
        self._require_pending("abandoned")
        self.status = _ABANDONED
        self.outcome = reason
        self.updated_at = now

    def hold(self, event: SettlementEvent, *, now: dt.datetime) -> bool:
        """Keep a settlement event until the booking lands; False for a repeat delivery."""
        if any(held.event_id == event.event_id for held in self.held_events):
            return False
        self.held_events.append(event)
        self.updated_at = now
        return True

    def release_held(self) -> list[SettlementEvent]:
        """Hand over the held events, oldest first, and forget them."""
        held = sorted(self.held_events, key=lambda e: (e.occurred_at, e.event_id))
        self.held_events = []
        return held

    def _require_pending(self, to: str) -> None:
        if self.status is not _PENDING:
            raise InvalidTransition(
                f"intent {self.intent_id} is {self.status.value}, it cannot be {to}",
                about=Ref("intent", self.intent_id, self.user_id),
            )
