"""Moving money under a transfer intent: record it, ask the rails, book once, finish.

Every command that moves a borrower's money follows the same recovery points (the
Stripe idempotency-key pattern, `loc_core.intents`):

1. **checked**: everything the booking needs is checked, nothing is written;
2. **intent committed** (`Movements.open`): its own write, before any rail is asked. A
   request that finds its intent resumes it (the same transfer keys); a client request
   whose fingerprint differs is refused (`IdempotencyConflict`);
3. **rails asked** (`Movements.send`, in order, with the intent's keys): a rail answers
   a repeated key with its first answer, so a resumed intent never moves money twice;
4. **booked**: the loan or line takes the money and the intent becomes BOOKED in one
   commit (`Movements.booked`), or, when no rail moved anything, it is ABANDONED;
5. **finished** (`Movements.finish`): the booking's events are published and settlement
   events that arrived early are applied; then the intent is closed.

A process that dies anywhere leaves the intent at its last recovery point. The command's
retry resumes from there; so does the recovery job (`loc_core.services.recovery`),
which only ever *reads* the rails (`PaymentRails.find`): it books what a rail moved and
abandons what no rail received, and never moves money itself.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.errors import (
    DebitUnconfirmed,
    ExternalServiceError,
    IdempotencyConflict,
    LocError,
    LockNotAcquired,
    Ref,
)
from loc_core.events import AuditValue, DomainEvent
from loc_core.intents import IntentKind, IntentStatus, TransferIntent, intent_id_of
from loc_core.money import format_cents
from loc_core.payments import Direction, SettlementOutcome
from loc_core.ports import (
    Alerter,
    Clock,
    Lease,
    PaymentRails,
    SettlementEvent,
    Severity,
    UnitOfWork,
)
from loc_core.services.compliance import ComplianceMonitor
from loc_core.services.handling import SettleTransfer
from loc_core.services.kit import post_alert, retry_on_conflict
from loc_core.services.messagebus import Command, MessageBus
from loc_core.services.rails import RailAnswers, Transfer, submit_in_order

__all__ = [
    "RECOVERY_AFTER",
    "BookTakenDebit",
    "Movements",
    "Unconfirmed",
    "intent_details",
]

RECOVERY_AFTER = dt.timedelta(minutes=5)
"""How old a PENDING intent must be before the recovery job takes it over *(policy)*.

Longer than every lease that guards a movement (a live attempt still holds its lease
and is left alone), so the job only finishes what a dead process left behind."""


def intent_details(intent: TransferIntent) -> dict[str, AuditValue]:
    """Whose money an intent moves, for the alerts about it."""
    return {
        "user_id": intent.user_id,
        "account_id": intent.account_id,
        "amount": intent.amount,
        "intent_id": intent.intent_id,
        "idempotency_key": intent.request_key,
    }


# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_PENDING, _BOOKED, _ABANDONED = IntentStatus.PENDING, IntentStatus.BOOKED, IntentStatus.ABANDONED

_ON_LINES = frozenset({IntentKind.DRAW, IntentKind.LINE_PAYMENT, IntentKind.DUE_PAYMENT})

_REVERSALS = frozenset({SettlementOutcome.RETURNED, SettlementOutcome.CHARGED_BACK})
"""Settlement outcomes that give a debit's money back (an NSF or other return, a chargeback)."""


@attrs.frozen
class BookTakenDebit(Command[None]):
    """Book now a PENDING debit its rail took, under the account lease the caller holds.

    Sent by `Movements.unconfirmed_debits` when a new debit finds another on its loan or
    line that a rail accepted and nobody booked; handled with the recovery job's booking
    (`loc_core.services.recovery.book_taken_debit`). In-process only: it carries the
    caller's `Lease`, which fences the booking's commit.
    """

    user_id: str
    intent_id: str
    transfer: Transfer
    lease: Lease


@attrs.frozen
class Unconfirmed:
    """What a new debit found of the other debits on its account (`unconfirmed_debits`)."""

    left: tuple[TransferIntent, ...] = ()
    """Debits a rail may have taken that are still not booked, oldest first."""
    booked: int = 0
    """Debits a rail had taken that were booked now: the loan or line changed."""


@attrs.frozen
class Movements:
    """The intent steps every money-moving command shares (a service object on the bus)."""

    uow: UnitOfWork
    rails: PaymentRails
    clock: Clock
    alerter: Alerter
    bus: MessageBus
    compliance: ComplianceMonitor

    def open(
        self, intent: TransferIntent, *, client: bool = True, reopen: bool = True
    ) -> TransferIntent:
        """Commit `intent` before any rail is asked, or return the stored one to resume.

        `client`: the intent answers a client's idempotency key, so a stored intent must
        have been made by the same request. A job's intent (autopay, the due job) is
        resumed as stored: its amount is what the rail may have moved. `reopen`: an
        ABANDONED intent (every rail declined) is tried again with the same keys; a draw,
        whose failure released its hold for good, says False. A new intent, once
        committed, goes past the compliance monitors (a resumed one was counted).

        Raises:
            IdempotencyConflict: the key was used by another user or for another request.
        """
        uow = self.uow

        def attempt() -> TransferIntent:
            with uow:
                stored = uow.intents.find(intent.intent_id)
                if stored is None:
                    uow.intents.add(intent)
                    uow.commit(actor="intent", request_id=intent.request_key)
                    opened.append(intent)
                    return intent
                if stored.user_id != intent.user_id:
                    raise IdempotencyConflict(
                        f"transfer {intent.intent_id!r} belongs to another borrower",
                        about=Ref("intent", intent.intent_id, intent.user_id),
                        key=intent.request_key,
                    )
                if client:
                    stored.require_same_request(intent.fingerprint, amount=intent.amount)
                if reopen and stored.status is _ABANDONED:
                    stored.reopen(self.clock.now())
                    uow.intents.save(stored)
                    uow.commit(actor="intent", request_id=intent.request_key)
                return stored

        opened: list[TransferIntent] = []
        result = retry_on_conflict(attempt)
        for new in opened:
            self.compliance.opened(new)
        return result

    def unconfirmed_debits(self, intent: TransferIntent, *, lease: Lease | None) -> Unconfirmed:
        """Book what the other debits on `intent`'s account moved; what stays unconfirmed.

        A debit whose rail failed with its outcome unknown (a timeout after the request
        was sent), or whose process died after asking, stays PENDING until its retry or
        the recovery job books or abandons it; until then the loan or line does not show
        money the rail took, and a second debit sized to what they show would take it
        twice (the second owed back as a refund due). Every debit holds its account's
        payment lease (`lease`) while it asks the rails, so a PENDING debit its holder
        finds is never one still being asked: each is looked up on its rails (`look_up`,
        which moves nothing) and
        - one a rail accepted is booked now, under `lease`, as the recovery job books it
          (`BookTakenDebit`; its held settlement events applied): the loan or line then
          shows it, and `booked` counts it, so the caller reads its account again;
        - one no rail accepted moved nothing and holds nothing back (its own retry is
          checked again against the account);
        - one a rail cannot tell about (or whose booking fails, alerted) is `left`, unless
          its return or chargeback already arrived (the money came back): the caller holds
          its debit back for it: installment autopay skips the day, the line due job takes
          only what it leaves of the minimum, a borrower's payment is refused
          (`refuse_while_unconfirmed`).
        A debit booked already whose process died before it applied the settlement events
        held on it (a return or chargeback that came first) is finished now, under
        `lease`, as the recovery job finishes it (`finish`), and counted in `booked` when
        that changed the account; until then the account would not show the reversal (a
        chargeback's stop of autopay among it).

        Call it outside any unit of work. Without a `lease` nothing is booked or
        finished, and one a rail accepted is `left` too.
        """
        with self.uow as uow:
            found = uow.intents.open_for(intent.user_id, intent.account_id)
        left: list[TransferIntent] = []
        booked = 0
        for other in found:
            if other.intent_id == intent.intent_id or other.direction is not Direction.DEBIT:
                continue
            if other.status is not _PENDING:
                if lease is not None and self._finish_held(other):
                    booked += 1
                continue
            reversed_ = any(event.outcome in _REVERSALS for event in other.held_events)
            try:
                transfer = self.look_up(other)
            except ExternalServiceError:
                if not reversed_:  # the rail cannot tell: it may have the money
                    left.append(other)
                continue
            if transfer is None:
                continue
            if lease is not None and self._book_taken(intent, other, transfer, lease, reversed_):
                booked += 1
            elif not reversed_:
                left.append(other)
        return Unconfirmed(tuple(left), booked)

    def _finish_held(self, other: TransferIntent) -> bool:
        """Finish a booked debit a dead process left open; whether its held events landed."""
        held = other.status is _BOOKED and bool(other.held_events)
        return self.finish(other) and held

    def _book_taken(
        self,
        intent: TransferIntent,
        other: TransferIntent,
        transfer: Transfer,
        lease: Lease,
        reversed_: bool,  # noqa: FBT001 - what the alert says, not a mode switch
    ) -> bool:
        """Book `other`, which `transfer` moved; False when it could not be (alerted).

        A booking that fails is alerted CRITICAL by the booking itself ("money moved but
        not booked"), and the recovery job alerts a debit it cannot book CRITICAL on
        each run; this one more alert (WARNING, so operations are paged once) names the
        debit that found it and what that debit does about it.
        """
        try:
            self.bus.handle(BookTakenDebit(other.user_id, other.intent_id, transfer, lease))
        except LockNotAcquired:
            raise  # the lease is lost: the caller's own debit must not go on either
        except LocError as exc:
            post_alert(
                self.alerter,
                "money movement left open: a later debit could not book it",
                {
                    **intent_details(other),
                    "rail": transfer.rail.value,
                    "confirmation_id": transfer.confirmation_id,
                    "found_by": intent.intent_id,
                    "held_back": "nothing: its money came back (returned or charged back)"
                    if reversed_
                    else "the debit that found it waits for it (a payment is refused, autopay"
                    " skips the day, the due job takes only what it leaves of the minimum);"
                    " the next debit on the account or the recovery job books it again",
                },
                severity=Severity.WARNING,
                error=exc,
            )
            return False
        return True

    def refuse_while_unconfirmed(self, intent: TransferIntent, *, lease: Lease) -> int:
        """Book what other debits on `intent`'s account moved; refuse while any is unknown.

        Returns how many were booked (when any, the loan or line changed: read it again).

        Raises:
            DebitUnconfirmed: naming the earlier debit's amount and time; nothing changed.
        """
        found = self.unconfirmed_debits(intent, lease=lease)
        if not found.left:
            return found.booked
        other = found.left[0]
        account = "line" if intent.kind in _ON_LINES else "loan"
        raise DebitUnconfirmed(
            f"an earlier debit of {format_cents(other.amount)} on {account} "
            f"{intent.account_id} (made {other.created_at:%Y-%m-%d %H:%M} UTC) is not "
            f"confirmed by the bank yet; nothing was taken now: try again once it shows on "
            f"the {account}",
            about=Ref(account, intent.account_id, intent.user_id),
        )

    def send(self, intent: TransferIntent) -> RailAnswers:
        """Offer the intent's transfer to its rails in order, each with its own key.

        Raises:
            ExternalServiceError: a rail failed with its outcome unknown; the intent stays
                PENDING and a retry asks the same rail with the same key.
        """
        return submit_in_order(
            self.rails,
            order=intent.rails,
            key=intent.transfer_key,
            direction=intent.direction,
            user_id=intent.user_id,
            amount=intent.amount,
            reference=intent.account_id,
        )

    def look_up(self, intent: TransferIntent) -> Transfer | None:
        """The transfer a rail accepted for the intent, reading each rail (nothing moves).

        Raises:
            ExternalServiceError: a rail could not tell; ask again later.
        """
        for rail in intent.rails:
            key = intent.transfer_key(rail)
            result = self.rails.find(key)
            if result is not None and result.accepted:
                return Transfer(rail, key, result.confirmation_id, result.accepted_at)
        return None

    def resized(self, intent: TransferIntent, amount: int) -> TransferIntent:
        """The PENDING `intent`, set to move `amount` cents when no rail has taken it.

        A job's movement (autopay, the due job) whose process died before asking any rail,
        or whose rails all declined or could not be reached, moved nothing, and what it
        should move may have changed before it is tried again (the borrower paid
        meanwhile, or another debit on the account is unconfirmed): sent as stored, it
        would take money no longer owed. A transfer key a rail answered is never sent
        again with another amount, so the rails that answered it (each with a decline: it
        would decline again) are left out of the resized intent and the others get
        `amount`. An intent a rail accepted keeps its amount (the money moved, and is
        booked as stored); so does one every rail answered (asked again, each declines
        again and nothing moves); one of `amount` already is returned as it is.

        Raises:
            ExternalServiceError: a rail could not tell; ask again later.
        """
        if intent.amount == amount or intent.status is not _PENDING:
            return intent
        answers = {rail: self.rails.find(intent.transfer_key(rail)) for rail in intent.rails}
        answered = {rail for rail, answer in answers.items() if answer is not None}
        if any(answer is not None and answer.accepted for answer in answers.values()):
            return intent
        rails = tuple(rail for rail in intent.rails if rail not in answered)
        if not rails:
            return intent
        uow = self.uow

        def attempt() -> TransferIntent:
            with uow:
                stored = uow.intents.get(intent.user_id, intent.intent_id)
                if stored.status is _PENDING and stored.amount != amount:
                    stored.amount, stored.rails = amount, rails
                    stored.updated_at = self.clock.now()
                    uow.intents.save(stored)
                    uow.commit(actor="intent", request_id=stored.request_key)
                return stored

        return retry_on_conflict(attempt)

    def abandon(self, intent: TransferIntent, reason: str) -> None:
        """Record, in its own commit, that no rail moved the intent's money."""
        uow = self.uow

        def attempt() -> None:
            with uow:
                stored = uow.intents.get(intent.user_id, intent.intent_id)
                if stored.status is not _PENDING:
                    return
                stored.abandon(reason, now=self.clock.now())
                uow.intents.save(stored)
                uow.commit(actor="intent", request_id=intent.request_key)

        retry_on_conflict(attempt)

    def hold(self, event: SettlementEvent) -> TransferIntent | None:
        """Keep `event` on its transfer's intent while the booking is pending.

        Returns the intent that holds it (a repeat delivery is held once), or None when
        the transfer has no PENDING intent and the event is for the books to handle now.
        """
        intent_id = intent_id_of(event.idempotency_key)
        if intent_id is None:
            return None
        uow = self.uow

        def attempt() -> TransferIntent | None:
            with uow:
                stored = uow.intents.find(intent_id)
                if stored is None or stored.status is not _PENDING:
                    return None
                if stored.hold(event, now=self.clock.now()):
                    uow.intents.save(stored)
                    uow.commit(actor="rail-webhook", request_id=event.event_id)
                return stored

        return retry_on_conflict(attempt)

    def booked(
        self,
        uow: UnitOfWork,
        stored: TransferIntent,
        transfer: Transfer,
        *,
        outcome: str,
        events: list[DomainEvent],
    ) -> TransferIntent:
        """Inside a booking's unit of work: `stored` (read in it) becomes BOOKED in its commit.

        `events` are the booking's domain events (the aggregate's outbox before commit);
        they are kept on the intent until `finish` publishes them.
        """
        stored.book(
            rail=transfer.rail,
            confirmation_id=transfer.confirmation_id,
            outcome=outcome,
            events=events,
            now=self.clock.now(),
        )
        uow.intents.save(stored)
        return stored

    def finish_stored(self, user_id: str, intent_id: str) -> None:
        """Finish the stored intent if work is left (a repeat that found it booked)."""
        with self.uow as uow:
            stored = uow.intents.find(intent_id)
        if stored is not None and stored.user_id == user_id:
            self.finish(stored)

    def finish(self, intent: TransferIntent) -> bool:
        """After the booking committed: publish its events, apply held settlement events.

        The intent is closed in a last commit. A process that dies before it leaves the
        intent open for the recovery job, which finishes it: a borrower may then be told
        twice (notifiers drop a repeat by the event's identity), never not at all. An
        abandoned intent's noted events (`TransferIntent.note`: an operator's alert) are
        published the same way; its held events stay as they are. Returns False when a
        held event could not be applied (alerted, and kept on the intent).
        """
        if not intent.is_open or intent.status is _PENDING:
            return True
        if intent.status is not _BOOKED and not intent.to_publish:
            return True
        uow = self.uow
        self.bus.publish(intent.to_publish)
        kept = []
        held = intent.held_events if intent.status is _BOOKED else []
        for event in sorted(held, key=lambda e: (e.occurred_at, e.event_id)):
            try:
                self.bus.handle(SettleTransfer(event))
            except LocError as exc:
                kept.append(event)
                post_alert(
                    self.alerter,
                    f"held settlement event {event.event_id} could not be applied",
                    {"user_id": intent.user_id, "intent_id": intent.intent_id},
                    error=exc,
                )

        def attempt() -> None:
            with uow:
                stored = uow.intents.get(intent.user_id, intent.intent_id)
                stored.published(self.clock.now())
                if stored.status is _BOOKED:
                    stored.held_events = [e for e in stored.held_events if e in kept]
                uow.intents.save(stored)
                uow.commit(actor="intent", request_id=intent.request_key)

        retry_on_conflict(attempt)
        return not kept
